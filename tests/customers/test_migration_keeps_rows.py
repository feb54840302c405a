"""Customer and Vehicle moved from the core to customers/ (issue 18): an existing
database keeps every row.

The test rolls a database back to the schema before the move, writes rows
through the historical models of that schema (a branch, staff, a customer, a
vehicle, a job and a lead on them, a survey opt-out, a notification about the
customer), migrates forward to today's leaf migrations and reads everything
back through today's models. It runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from customers.models import Customer, Vehicle
from dealership.models import Notification
from feedback.models import SurveyOptOut
from repairs.models import RepairJob, SalesLead

# Schema migrations need a connection outside the test's transaction (SQLite
# cannot alter tables inside one), and the database is left fully migrated.
pytestmark = pytest.mark.django_db(transaction=True)

# The last migration of each app before the move. Rolling back to them undoes
# the move (customers/0001, the state-only key changes, dealership/0010) and
# whatever was built on it later.
BEFORE_THE_MOVE = [
    ("dealership", "0005_drop_branch_marker"),
    ("repairs", "0009_promised_at_in_range"),
    ("feedback", "0004_voice_due_date_in_range"),
    ("customers", None),
]
CUSTOMER_COLUMNS = "id, branch_id, name, name_kana, phone, email, language, sales_owner_id, created_at"
VEHICLE_COLUMNS = "id, customer_id, make, model, year, plate_number, vin, mileage, shaken_expiry"


def migrate_to(targets: list[tuple[str, str | None]]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    ContentType.objects.clear_cache()


def historical_models():
    """The models as the applied migrations describe them (the schema of that moment)."""
    executor = MigrationExecutor(connection)
    applied = [key for key in MigrationRecorder(connection).applied_migrations() if key in executor.loader.graph.nodes]
    return executor.loader.project_state(applied).apps


def leaf_nodes() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def rows(table: str, columns: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {connection.ops.quote_name(table)} ORDER BY id")  # noqa: S608
        return cursor.fetchall()


def write_rows_before_the_move(old) -> dict[str, int]:
    branch = old.get_model("dealership", "Branch").objects.create(code="toyosu", name="豊洲店", phone="03-0000-0001")
    rep = old.get_model("accounts", "User").objects.create(
        email="rep@example.com", password="!", display_name="営業 花子", role="sales_rep", branch=branch
    )
    customer = old.get_model("dealership", "Customer").objects.create(
        branch=branch,
        name="佐藤 健一",
        name_kana="サトウ ケンイチ",
        phone="090-1234-5678",
        email="sato@example.jp",
        language="en",
        sales_owner=rep,
    )
    vehicle = old.get_model("dealership", "Vehicle").objects.create(
        customer=customer,
        make="Toyota",
        model="Prius",
        year=2019,
        plate_number="品川 300 あ 12-34",
        vin="ZVW-1234567",
        mileage=42000,
        shaken_expiry=date(2027, 3, 31),
    )
    job = old.get_model("repairs", "RepairJob").objects.create(
        number="R-2026-00001",
        branch=branch,
        customer=customer,
        vehicle=vehicle,
        title="ブレーキ異音の修理",
        sales_owner=rep,
        requested_by=rep,
    )
    lead = old.get_model("repairs", "SalesLead").objects.create(
        job=job, branch=branch, customer=customer, flagged_by=rep, owner=rep, reason="new_models"
    )
    old.get_model("feedback", "SurveyOptOut").objects.create(customer=customer)
    customer_type, _ = old.get_model("contenttypes", "ContentType").objects.get_or_create(
        app_label="dealership", model="customer"
    )
    notification = old.get_model("dealership", "Notification").objects.create(
        recipient=rep,
        kind="message",
        template="{name} called",
        args={"name": "佐藤 健一"},
        target_type=customer_type,
        target_id=customer.pk,
        created_at=timezone.now(),
    )
    return {
        "customer": customer.pk,
        "vehicle": vehicle.pk,
        "job": job.pk,
        "lead": lead.pk,
        "rep": rep.pk,
        "notification": notification.pk,
        "customer_type": customer_type.pk,
    }


def test_moving_customers_and_vehicles_out_of_the_core_keeps_every_row():
    try:
        migrate_to(BEFORE_THE_MOVE)
        old = historical_models()
        assert old.get_model("dealership", "Customer")._meta.db_table == "dealership_customer"
        ids = write_rows_before_the_move(old)
        customers_before = rows("dealership_customer", CUSTOMER_COLUMNS)
        vehicles_before = rows("dealership_vehicle", VEHICLE_COLUMNS)
    finally:
        migrate_to(leaf_nodes())

    # The same tables, the same rows, the same values.
    assert rows("dealership_customer", CUSTOMER_COLUMNS) == customers_before
    assert rows("dealership_vehicle", VEHICLE_COLUMNS) == vehicles_before
    # Read through today's models, the keys of every app resolve.
    customer = Customer.objects.get(pk=ids["customer"])
    assert (customer.name, customer.phone, customer.language, customer.sales_owner_id) == (
        "佐藤 健一",
        "090-1234-5678",
        "en",
        ids["rep"],
    )
    vehicle = Vehicle.objects.get(pk=ids["vehicle"])
    assert vehicle.customer == customer and vehicle.shaken_expiry == date(2027, 3, 31)
    job = RepairJob.objects.get(pk=ids["job"])
    assert job.customer == customer and job.vehicle == vehicle and job.title == "ブレーキ異音の修理"
    assert list(customer.jobs.all()) == [job] and list(vehicle.jobs.all()) == [job]
    assert SalesLead.objects.get(pk=ids["lead"]).customer == customer
    assert SurveyOptOut.objects.get(customer=customer).customer_id == customer.pk
    # The content type moved with the model (the same row), so the notification
    # about the customer still finds them, and the permissions still apply.
    customer_type = ContentType.objects.get_for_model(Customer)
    assert customer_type.pk == ids["customer_type"] and customer_type.app_label == "customers"
    assert not ContentType.objects.filter(app_label="dealership", model__in=["customer", "vehicle"]).exists()
    notification = Notification.objects.get(pk=ids["notification"])
    assert notification.target == customer and notification.recipient_id == ids["rep"]
    assert notification.text == "佐藤 健一 called"
    assert Permission.objects.filter(content_type=customer_type, codename="change_customer").exists()
