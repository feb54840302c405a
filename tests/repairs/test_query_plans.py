"""The list, board and queue use an index at 10,000 jobs: no sequential scan of the jobs table.

PostgreSQL only (its planner is what production runs); in CI DATABASE_URL
points at PostgreSQL, so this runs there. Plans are read with EXPLAIN after
ANALYZE, on a branch shaped like the benchmark's: two branches, a third of
the jobs active.
"""

from __future__ import annotations

import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from repairs import selectors
from repairs.models import RepairJob, Status
from tests.conftest import missing
from tests.factories import CustomerFactory, VehicleFactory

pytestmark = pytest.mark.django_db

JOBS = 10_000
ACTIVE = [s for s in Status.values if s not in ("delivered", "cancelled")]


@pytest.fixture
def busy_branch(branch, other_branch, sales_rep, technician, advisor):
    if connection.vendor != "postgresql":
        if os.environ.get("DATABASE_URL", "").startswith("postgres"):
            pytest.fail("DATABASE_URL points at PostgreSQL but the connection is not PostgreSQL")
        missing("query plans are checked on PostgreSQL (set DATABASE_URL)")
    now = timezone.now()
    vehicles = {
        b.pk: VehicleFactory(customer=CustomerFactory(branch=b, sales_owner=sales_rep)) for b in (branch, other_branch)
    }
    jobs = []
    for index in range(JOBS):
        home = branch if index % 2 else other_branch
        vehicle = vehicles[home.pk]
        jobs.append(
            RepairJob(
                branch=home,
                customer=vehicle.customer,
                vehicle=vehicle,
                title=f"job {index}",
                status=ACTIVE[index % len(ACTIVE)] if index % 3 == 0 else "delivered",
                sales_owner=sales_rep if index % 7 == 0 else None,
                requested_by=advisor,
                technician=technician if index % 5 == 0 else None,
                priority=1 + index % 4,
                promised_at=now,
                received_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    RepairJob.objects.bulk_create(jobs, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE repairs_repairjob")
        cursor.execute("ANALYZE repairs_jobmessage")
    return branch


def plan(queryset) -> str:
    return queryset.explain()


def assert_no_seq_scan_of_jobs(text: str) -> None:
    assert "Seq Scan on repairs_repairjob" not in text, text


def plans_of_the_screen(run) -> list[str]:
    """EXPLAIN every query that `run()` sends to the jobs table: the screen's own queries, not copies of them."""
    with CaptureQueriesContext(connection) as captured:
        run()
    sqls = [q["sql"] for q in captured.captured_queries if '"repairs_repairjob"' in q["sql"]]
    assert sqls
    plans = []
    with connection.cursor() as cursor:
        for sql in sqls:
            cursor.execute(f"EXPLAIN {sql}")
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


@pytest.mark.parametrize("scope", ["mine", "branch"])
def test_the_job_lists_use_an_index(busy_branch, sales_rep, scope):
    filters = selectors.JobFilters(scope=scope)
    for text in plans_of_the_screen(lambda: list(selectors.filtered_jobs(sales_rep, filters)[:25])):
        assert_no_seq_scan_of_jobs(text)


def test_the_board_uses_an_index(busy_branch, advisor):
    for text in plans_of_the_screen(lambda: selectors.board_columns(advisor)):
        assert_no_seq_scan_of_jobs(text)


def test_the_queue_uses_an_index(busy_branch, technician):
    for text in plans_of_the_screen(lambda: selectors.technician_queue(technician)):
        assert_no_seq_scan_of_jobs(text)


def test_the_unread_counts_use_an_index(busy_branch, advisor):
    jobs = list(RepairJob.objects.filter(branch=advisor.branch).values_list("pk", flat=True)[:50])
    for text in plans_of_the_screen(lambda: selectors.unread_counts(advisor, jobs)):
        assert_no_seq_scan_of_jobs(text)
