"""The jobs' and leads' keys point at customers/ now (issue 18): state only,
the columns and their constraints already reference the same tables."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
        ("repairs", "0009_promised_at_in_range"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="repairjob",
                    name="customer",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="jobs",
                        to="customers.customer",
                        verbose_name="customer",
                    ),
                ),
                migrations.AlterField(
                    model_name="repairjob",
                    name="vehicle",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="jobs",
                        to="customers.vehicle",
                        verbose_name="vehicle",
                    ),
                ),
                migrations.AlterField(
                    model_name="saleslead",
                    name="customer",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="leads",
                        to="customers.customer",
                        verbose_name="customer",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
