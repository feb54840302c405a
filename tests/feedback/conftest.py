"""Delivered jobs, invitations and answers for the customer-voice tests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from feedback import services
from feedback.models import SurveyInvitation
from repairs.models import RepairJob
from tests.factories import CustomerFactory, VehicleFactory

# The real worker, private broker and SMTP server of the e-mail reliability tests.
from tests.reliability.conftest import (  # noqa: F401 - fixtures for test_email_delivery.py
    celery_broker,
    celery_worker,
    celery_workers,
    private_redis,
    smtp_server,
    worker_database_url,
)


def delivered_job(
    *, customer, sales_owner=None, advisor=None, technician=None, delivered_ago=timedelta(hours=30), **fields
):
    """A delivered job as the workshop leaves it (built directly: the timeline is not under test here)."""
    now = timezone.now()
    delivered_at = now - delivered_ago
    job = RepairJob.objects.create(
        branch_id=customer.branch_id,
        customer=customer,
        vehicle=fields.pop("vehicle", None) or VehicleFactory(customer=customer),
        kind=fields.pop("kind", "repair"),
        title=fields.pop("title", "ブレーキ異音の修理"),
        sales_owner=sales_owner,
        requested_by=advisor,
        service_advisor=advisor,
        technician=technician,
        status="delivered",
        received_at=delivered_at - timedelta(days=1),
        ready_at=delivered_at - timedelta(hours=2),
        delivered_at=delivered_at,
        **fields,
    )
    job.number = f"R-2026-{job.pk:05d}"
    job.save(update_fields=["number"])
    return job


@pytest.fixture
def customer(branch, sales_rep):
    return CustomerFactory(branch=branch, sales_owner=sales_rep, name="佐藤 健一", name_kana="サトウ ケンイチ")


@pytest.fixture
def make_delivered_job(branch, sales_rep, advisor, technician):
    """`make_delivered_job(language="en", delivered_ago=timedelta(hours=2), email="")`."""

    def make(*, customer=None, language: str = "ja", email: str | None = None, **fields):
        if customer is None:
            extra = {} if email is None else {"email": email}
            customer = CustomerFactory(branch=branch, sales_owner=sales_rep, language=language, **extra)
        fields.setdefault("sales_owner", sales_rep)
        fields.setdefault("advisor", advisor)
        fields.setdefault("technician", technician)
        return delivered_job(customer=customer, **fields)

    return make


@pytest.fixture
def invitation(make_delivered_job) -> SurveyInvitation:
    """A sent invitation of a delivered job (its e-mail is not under test here)."""
    job = make_delivered_job()
    created, _ = services.create_invitation(job, deliver=False)
    services.record_survey_sent(created)
    created.refresh_from_db()
    return created


@pytest.fixture
def survey_url():
    def url(invitation: SurveyInvitation) -> str:
        return services.survey_path(invitation)

    return url


def answers(**overrides) -> services.Answers:
    values = {
        "overall": 4,
        "nps": 8,
        "explanation": 4,
        "quality": 5,
        "timeliness": 3,
        "comment": "",
        "may_contact": False,
    }
    return services.Answers(**{**values, **overrides})


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run what a committed transaction would have enqueued (the test's own transaction never commits)."""
    return django_capture_on_commit_callbacks
