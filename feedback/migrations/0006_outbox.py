"""SurveyInvitation becomes an outbox row (dealership.models.OutboxMessage, issue 18).

Its e-mail fields take the outbox's names; columns are renamed, never copied,
so every invitation keeps its state. The outbox index keeps its name and
follows its renamed column in the database.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0005_customer_moves_to_customers"),
    ]

    operations = [
        migrations.RenameField(model_name="surveyinvitation", old_name="email_status", new_name="send_status"),
        migrations.RenameField(model_name="surveyinvitation", old_name="error", new_name="last_error"),
        # The index in the migration state still names the old field; the
        # database's index already follows the renamed column.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="surveyinvitation", name="survey_outbox_idx"),
                migrations.AddIndex(
                    model_name="surveyinvitation",
                    index=models.Index(fields=["send_status", "created_at"], name="survey_outbox_idx"),
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterField(
            model_name="surveyinvitation",
            name="send_status",
            field=models.CharField(
                choices=[
                    ("skipped", "not sent"),
                    ("pending", "pending"),
                    ("sending", "sending"),
                    ("sent", "sent"),
                    ("failed", "failed"),
                ],
                default="pending",
                max_length=10,
                verbose_name="send status",
            ),
        ),
        migrations.AlterField(
            model_name="surveyinvitation",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="send attempts"),
        ),
        migrations.AlterField(
            model_name="surveyinvitation",
            name="last_error",
            field=models.TextField(blank=True, verbose_name="last send error"),
        ),
    ]
