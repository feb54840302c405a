"""Customer and Vehicle move here from the core (issue 18) without moving a row.

Only Django's bookkeeping changes: the models are created in this app's state
on the tables they already have (`db_table`), the core's 0010 removes them from
its state, and the foreign keys of repairs and feedback are re-pointed in state
in between. No table is created, copied, renamed or dropped, so every row,
index and constraint stays as it is. The content types are renamed, so
permissions, admin history and notifications that point at a customer or a
vehicle keep pointing at it.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED = ("customer", "vehicle")


def _move_content_types(apps, from_label: str, to_label: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    Notification = apps.get_model("dealership", "Notification")
    for model in MOVED:
        old = ContentType.objects.filter(app_label=from_label, model=model).first()
        if old is None:
            continue  # a new database: post_migrate creates the new one
        new = ContentType.objects.filter(app_label=to_label, model=model).first()
        if new is None:
            old.app_label = to_label
            old.save(update_fields=["app_label"])
        else:
            # Both exist when a `migrate` of another app ran post_migrate with the
            # new code before this migration: the notifications follow the new one.
            Notification.objects.filter(target_type=old).update(target_type=new)


def content_types_to_customers(apps, schema_editor) -> None:
    _move_content_types(apps, "dealership", "customers")


def content_types_to_dealership(apps, schema_editor) -> None:
    _move_content_types(apps, "customers", "dealership")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("dealership", "0005_drop_branch_marker"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Customer",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=100, verbose_name="name")),
                        ("name_kana", models.CharField(blank=True, max_length=100, verbose_name="name (kana)")),
                        ("phone", models.CharField(blank=True, max_length=30, verbose_name="phone")),
                        ("email", models.EmailField(blank=True, max_length=254, verbose_name="e-mail")),
                        (
                            "language",
                            models.CharField(
                                choices=[("ja", "Japanese"), ("en", "English")],
                                default="ja",
                                max_length=5,
                                verbose_name="preferred language",
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                        (
                            "branch",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="customers",
                                to="dealership.branch",
                                verbose_name="branch",
                            ),
                        ),
                        (
                            "sales_owner",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="owned_customers",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="sales owner",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "customer",
                        "verbose_name_plural": "customers",
                        "db_table": "dealership_customer",
                        "ordering": ["name_kana", "name"],
                        "indexes": [
                            models.Index(fields=["branch", "name_kana"], name="dealership__branch__8332a6_idx")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="Vehicle",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("make", models.CharField(max_length=50, verbose_name="make")),
                        ("model", models.CharField(max_length=80, verbose_name="model")),
                        ("year", models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="year")),
                        (
                            "plate_number",
                            models.CharField(blank=True, db_index=True, max_length=40, verbose_name="plate number"),
                        ),
                        ("vin", models.CharField(blank=True, max_length=40, verbose_name="VIN / chassis number")),
                        ("mileage", models.PositiveIntegerField(blank=True, null=True, verbose_name="mileage (km)")),
                        ("shaken_expiry", models.DateField(blank=True, null=True, verbose_name="shaken expiry")),
                        (
                            "customer",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="vehicles",
                                to="customers.customer",
                                verbose_name="customer",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "vehicle",
                        "verbose_name_plural": "vehicles",
                        "db_table": "dealership_vehicle",
                        "ordering": ["customer__name_kana", "make", "model"],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_to_customers, content_types_to_dealership),
    ]
