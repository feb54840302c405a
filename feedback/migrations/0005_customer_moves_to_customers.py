"""The invitations', opt-outs' and voice items' keys point at customers/ now
(issue 18): state only, the columns and their constraints already reference
the same table."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
        ("feedback", "0004_voice_due_date_in_range"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="surveyinvitation",
                    name="customer",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="survey_invitations",
                        to="customers.customer",
                        verbose_name="customer",
                    ),
                ),
                migrations.AlterField(
                    model_name="surveyoptout",
                    name="customer",
                    field=models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="survey_opt_out",
                        to="customers.customer",
                        verbose_name="customer",
                    ),
                ),
                migrations.AlterField(
                    model_name="customervoice",
                    name="customer",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="voice_items",
                        to="customers.customer",
                        verbose_name="customer",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
