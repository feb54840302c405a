"""Query counts stay constant in the number of jobs (issue targets)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dealership.celery import app as celery_app
from repairs.models import Status
from tests.factories import CustomerFactory, RepairJobFactory, VehicleFactory

pytestmark = pytest.mark.django_db

STATUSES = [s for s in Status.values if s not in ("delivered", "cancelled")]


def add_jobs(count: int, branch, sales_rep, technician, advisor) -> None:
    for index in range(count):
        customer = CustomerFactory(branch=branch, sales_owner=sales_rep)
        RepairJobFactory(
            vehicle=VehicleFactory(customer=customer),
            sales_owner=sales_rep,
            requested_by=advisor,
            technician=technician if index % 2 else None,
            status=STATUSES[index % len(STATUSES)],
        )


def queries_for(client, url: str) -> int:
    cache.clear()  # measure the rendering path, not a cached fragment
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    ("url", "budget"),
    [
        (reverse("repairs:my_cars"), 8),
        (reverse("repairs:job_list"), 8),
        (reverse("repairs:board"), 8),
        (reverse("repairs:my_queue"), 8),
        (reverse("home"), 8),
    ],
)
def test_list_screens_cost_the_same_for_10_and_200_jobs(
    client_for, branch, sales_rep, technician, advisor, url, budget
):
    client = client_for(technician)
    add_jobs(10, branch, sales_rep, technician, advisor)
    small = queries_for(client, url)
    add_jobs(190, branch, sales_rep, technician, advisor)
    large = queries_for(client, url)
    assert small == large
    assert large <= budget


def test_the_job_page_costs_at_most_12_queries_whatever_its_history(client_for, branch, sales_rep, technician, advisor):
    from repairs import services

    add_jobs(1, branch, sales_rep, technician, advisor)
    from repairs.models import RepairJob

    job = RepairJob.objects.get()
    client = client_for(advisor)
    short = queries_for(client, job.get_absolute_url())
    for _ in range(10):
        services.change_status(
            job, to="on_hold" if job.status != "on_hold" else "in_progress", by=advisor, expected_version=None
        )
    long = queries_for(client, job.get_absolute_url())
    assert short == long <= 12


@pytest.mark.django_db(transaction=True)  # a real transaction, as in production: no test savepoints
def test_a_status_change_post_costs_at_most_10_queries(client_for, branch, sales_rep, technician, advisor):
    add_jobs(200, branch, sales_rep, technician, advisor)
    from django.contrib.contenttypes.models import ContentType

    from repairs.models import RepairJob

    ContentType.objects.get_for_model(RepairJob)  # process-wide cache, warm after the first request

    job = RepairJob.objects.filter(status="received").first()
    client = client_for(advisor)
    # E-mail delivery belongs to the worker, not to the request being measured.
    celery_app.conf.task_always_eager = False
    with CaptureQueriesContext(connection) as captured:
        response = client.post(
            reverse("repairs:job_status", args=[job.pk]), {"to": "diagnosing", "version": job.version}
        )
    assert response.status_code == 302
    assert RepairJob.objects.get(pk=job.pk).status == "diagnosing"
    # SQLite logs transaction control as statements; PostgreSQL does not.
    statements = [q["sql"] for q in captured.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
    assert len(statements) <= 10, "\n".join(sql[:90] for sql in statements)
