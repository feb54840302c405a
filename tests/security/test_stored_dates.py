"""A stored date out of the portal's range (issue 17) breaks no screen.

The forms keep every typed date between 2000 and 2100 (dealership/dates.py),
but rows saved before that rule, or written by a script, may hold anything a
column takes. These rows are written straight to the database (QuerySet.update
skips every validator) and each screen that reads them must still answer 200,
on PostgreSQL and on SQLite.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from customers.models import Vehicle
from events import services as goal_services
from events.models import ActionItem, TeamEvent
from feedback import services as feedback_services
from feedback.models import CustomerVoice, VoiceCategory, VoiceSource
from goals import services as kpi_services
from goals.models import Goal, GoalPeriod, ManualKpiValue
from tests.events import conftest as events_conftest
from tests.factories import CustomerFactory, VehicleFactory

pytestmark = pytest.mark.django_db

plan = events_conftest.plan  # the team-event tests' fixture: `plan(**overrides)` plans an event

EXTREME_DAYS = [date(1, 1, 1), date(1999, 12, 31), date(2101, 1, 1), date(9999, 12, 31)]
PERSONAS = ["sales_rep", "technician", "advisor", "manager", "other_branch_user"]


def screens(customer_pk: int, voice_pk: int, event_pk: int) -> list[str]:
    return [
        reverse("home"),
        reverse("events:event_list"),
        reverse("events:event_list") + "?when=past",
        reverse("events:event_month"),
        reverse("events:event_detail", args=[event_pk]),
        reverse("events:event_ics", args=[event_pk]),
        reverse("goals:kpi_dashboard"),
        reverse("goals:home_goals"),
        reverse("goals:kpi_manual"),
        reverse("feedback:voice_list"),
        reverse("feedback:voice_overdue"),
        reverse("feedback:voice_detail", args=[voice_pk]),
        reverse("customers:customer_detail", args=[customer_pk]),
        reverse("feedback:results"),
    ]


@pytest.mark.parametrize("day", EXTREME_DAYS, ids=str)
def test_screens_survive_stored_dates_out_of_range(request, day, branch, manager, sales_rep, plan):
    event = plan(invited_departments=["sales", "service", "management"])
    item = goal_services.add_action_item(event, by=manager, text="見積書の見直し", assignee=sales_rep)
    customer = CustomerFactory(branch=branch, sales_owner=sales_rep)
    vehicle = VehicleFactory(customer=customer)
    voice = feedback_services.record_voice(
        by=manager,
        customer=customer,
        source=VoiceSource.PHONE,
        category=VoiceCategory.REQUEST,
        title="代車の相談",
        assignee=sales_rep,
    )
    today = timezone.localdate()
    goal = kpi_services.create_goal(
        by=manager,
        metric="new_car_deliveries",
        target=10,
        period=GoalPeriod.MONTH,
        start_date=today,
        branch=branch,
        departments=["sales", "service"],
    )
    ManualKpiValue.objects.create(metric="walk_ins", branch=branch, date=today, value=3, entered_by=manager)
    ActionItem.objects.filter(pk=item.pk).update(due_date=day)
    CustomerVoice.objects.filter(pk=voice.pk).update(due_date=day)
    Vehicle.objects.filter(pk=vehicle.pk).update(shaken_expiry=day)
    Goal.objects.filter(pk=goal.pk).update(start_date=min(day, today), end_date=max(day, today))
    ManualKpiValue.objects.update(date=day)
    failures = []
    for persona in PERSONAS:
        client = Client(raise_request_exception=False)
        client.force_login(request.getfixturevalue(persona))
        for url in screens(customer.pk, voice.pk, event.pk):
            response = client.get(url)
            if response.status_code >= 500:
                failures.append(f"{persona} {url}: {response.exc_info[1]!r}")
    assert not failures, "\n".join(failures)


# --- Team events: the database refuses times it could not give back ---------------------------------

TOKYO = ZoneInfo("Asia/Tokyo")
# Year 1 in Tokyo is 1 BC in UTC: PostgreSQL stored it and its driver then failed on every read
# ("year -1 is out of range"); SQLite cannot even convert it to UTC, so there it is year 1 UTC.
YEAR_ONE = datetime(1, 1, 1, tzinfo=TOKYO if connection.vendor == "postgresql" else UTC)
OUT_OF_RANGE_TIMES = [YEAR_ONE, datetime(1999, 12, 30, tzinfo=UTC), datetime(9999, 12, 31, 23, tzinfo=UTC)]


@pytest.mark.parametrize("moment", OUT_OF_RANGE_TIMES, ids=str)
@pytest.mark.parametrize("field", ["starts_at", "ends_at"])
def test_the_database_refuses_an_event_time_outside_the_range_whatever_writes_it(plan, field, moment):
    event = plan()
    with pytest.raises(IntegrityError), transaction.atomic():
        TeamEvent.objects.filter(pk=event.pk).update(**{field: moment})
    assert TeamEvent.objects.values_list("starts_at", "ends_at").get() == (event.starts_at, event.ends_at)


def test_the_database_keeps_an_event_at_the_edges_of_the_range(plan):
    event = plan()
    first = datetime(2000, 1, 1, tzinfo=TOKYO)
    last = datetime(2100, 12, 31, 23, 59, tzinfo=TOKYO)
    TeamEvent.objects.filter(pk=event.pk).update(starts_at=first, ends_at=last)
    event.refresh_from_db()
    assert (event.starts_at, event.ends_at) == (first, last)


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_event_times_saved_before_the_range_to_its_edge(branch, manager):
    before, after = ("goals", "0002_goals_kpis"), ("goals", "0003_dates_in_portal_range")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    try:
        OldEvent = executor.loader.project_state([before]).apps.get_model("goals", "TeamEvent")
        normal = datetime(2026, 7, 1, 18, tzinfo=TOKYO)
        rows = {
            "year one": OldEvent.objects.create(
                branch_id=branch.pk, title="1", starts_at=YEAR_ONE, ends_at=normal, created_at=normal, updated_at=normal
            ).pk,
            "far future": OldEvent.objects.create(
                branch_id=branch.pk,
                title="2",
                starts_at=normal,
                ends_at=datetime(9999, 12, 31, 23, tzinfo=UTC),
                created_at=normal,
                updated_at=normal,
            ).pk,
            "normal": OldEvent.objects.create(
                branch_id=branch.pk, title="3", starts_at=normal, ends_at=normal, created_at=normal, updated_at=normal
            ).pk,
        }
        executor.loader.build_graph()
        executor.migrate([after])
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    events = TeamEvent.objects.in_bulk(rows.values())
    assert events[rows["year one"]].starts_at == datetime(2000, 1, 1, 12, tzinfo=UTC)
    assert events[rows["far future"]].ends_at == datetime(2100, 12, 31, 12, tzinfo=UTC)
    assert (events[rows["normal"]].starts_at, events[rows["normal"]].ends_at) == (normal, normal)
    client = Client(raise_request_exception=False)
    client.force_login(manager)
    assert client.get(reverse("events:event_list") + "?when=past").status_code == 200


# --- promised times ----------------------------------------------------------------------


@pytest.mark.parametrize("moment", OUT_OF_RANGE_TIMES, ids=str)
def test_the_services_refuse_a_promised_time_outside_the_range(advisor, moment):
    from repairs import services as job_services
    from repairs.models import JobKind
    from tests.factories import RepairJobFactory

    job = RepairJobFactory(branch=advisor.branch)
    with pytest.raises(job_services.JobError, match="2000"):
        job_services.change_promised_time(job, promised_at=moment, reason="the customer asked", by=advisor)
    with pytest.raises(job_services.JobError, match="2000"):
        job_services.create_job(
            by=advisor,
            customer=job.customer,
            vehicle=job.vehicle,
            kind=JobKind.REPAIR,
            title="x",
            promised_at=moment,
        )
    job.refresh_from_db()
    assert job.promised_at != moment


@pytest.mark.parametrize("moment", OUT_OF_RANGE_TIMES, ids=str)
def test_the_database_refuses_a_promised_time_outside_the_range_whatever_writes_it(moment):
    from repairs.models import RepairJob
    from tests.factories import RepairJobFactory

    job = RepairJobFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        RepairJob.objects.filter(pk=job.pk).update(promised_at=moment)
    RepairJob.objects.filter(pk=job.pk).update(promised_at=None)
    assert RepairJob.objects.get(pk=job.pk).promised_at is None


@pytest.mark.django_db(transaction=True)
def test_the_migration_clears_promised_times_saved_before_the_range(advisor):
    from repairs.models import RepairJob
    from tests.factories import RepairJobFactory

    kept, year_one, far = (RepairJobFactory(branch=advisor.branch) for _ in range(3))
    before, after = ("repairs", "0008_drop_last_message_at"), ("repairs", "0009_promised_at_in_range")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    try:
        OldJob = executor.loader.project_state([before]).apps.get_model("repairs", "RepairJob")
        OldJob.objects.filter(pk=year_one.pk).update(promised_at=YEAR_ONE)
        OldJob.objects.filter(pk=far.pk).update(promised_at=datetime(9999, 12, 31, 23, tzinfo=UTC))
        executor.loader.build_graph()
        executor.migrate([after])
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    promises = dict(RepairJob.objects.values_list("pk", "promised_at"))
    assert promises[year_one.pk] is None and promises[far.pk] is None
    assert promises[kept.pk] == kept.promised_at
    client = Client(raise_request_exception=False)
    client.force_login(advisor)
    assert client.get(reverse("repairs:board")).status_code == 200
    assert client.get(reverse("repairs:job_detail", args=[year_one.pk])).status_code == 200
