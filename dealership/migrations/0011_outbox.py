"""Notification becomes an outbox row (dealership.models.OutboxMessage, issue 18).

The e-mail fields take the outbox's names, which also fit the customer
messages (e-mail or LINE) that come next. Columns are renamed, never copied:
every row keeps its state. The outbox index follows its renamed column in
the database and only gets a readable name.
"""

from django.db import migrations, models

SEND_STATUSES = [
    ("skipped", "not sent"),
    ("pending", "pending"),
    ("sending", "sending"),
    ("sent", "sent"),
    ("failed", "failed"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("dealership", "0010_move_customer_vehicle_out"),
    ]

    operations = [
        migrations.RenameIndex(
            model_name="notification",
            new_name="notification_outbox_idx",
            old_name="dealership__email_s_404777_idx",
        ),
        migrations.RenameField(model_name="notification", old_name="email_status", new_name="send_status"),
        migrations.RenameField(model_name="notification", old_name="email_attempts", new_name="attempts"),
        migrations.RenameField(model_name="notification", old_name="email_error", new_name="last_error"),
        migrations.RenameField(model_name="notification", old_name="email_sent_at", new_name="sent_at"),
        # The index in the migration state still names the old field; the
        # database's index already follows the renamed column.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="notification", name="notification_outbox_idx"),
                migrations.AddIndex(
                    model_name="notification",
                    index=models.Index(fields=["send_status", "created_at"], name="notification_outbox_idx"),
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterField(
            model_name="notification",
            name="send_status",
            field=models.CharField(
                choices=SEND_STATUSES, default="skipped", max_length=10, verbose_name="send status"
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="send attempts"),
        ),
        migrations.AlterField(
            model_name="notification",
            name="last_error",
            field=models.TextField(blank=True, verbose_name="last send error"),
        ),
        migrations.AlterField(
            model_name="notification",
            name="sent_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="sent at"),
        ),
    ]
