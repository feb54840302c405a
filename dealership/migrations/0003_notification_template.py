from django.db import migrations, models


def text_to_template(apps, schema_editor):
    # Old rows were rendered once in the recipient's language; they keep that text.
    Notification = apps.get_model("dealership", "Notification")
    for row in Notification.objects.only("pk", "text").iterator():
        Notification.objects.filter(pk=row.pk).update(template=row.text)


class Migration(migrations.Migration):
    dependencies = [("dealership", "0002_notification_next_attempt")]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="template",
            field=models.JSONField(default=str, verbose_name="text template"),
        ),
        migrations.AddField(
            model_name="notification",
            name="args",
            field=models.JSONField(blank=True, default=dict, verbose_name="text arguments"),
        ),
        migrations.RunPython(text_to_template, migrations.RunPython.noop),
        migrations.RemoveField(model_name="notification", name="text"),
    ]
