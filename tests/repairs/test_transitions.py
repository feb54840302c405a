"""Every allowed transition succeeds; every other one is refused with a message.

Driven twice: from the code's TRANSITIONS table and from a table written here
by hand, so a wrong entry in the code's table fails a test.
"""

from __future__ import annotations

import itertools

import pytest

from repairs import services
from repairs.models import TRANSITIONS, JobEvent, RepairJob, Status

pytestmark = pytest.mark.django_db

# Written from DESIGN.md's workflow, independently of repairs/models.py.
EXPECTED = {
    "received": {"diagnosing", "in_progress", "on_hold", "cancelled"},
    "diagnosing": {"awaiting_approval", "awaiting_parts", "in_progress", "on_hold", "cancelled"},
    "awaiting_approval": {"in_progress", "awaiting_parts", "on_hold", "cancelled"},
    "awaiting_parts": {"in_progress", "on_hold", "cancelled"},
    "in_progress": {"awaiting_approval", "awaiting_parts", "quality_check", "on_hold", "cancelled"},
    "quality_check": {"in_progress", "ready"},
    "ready": {"delivered", "in_progress"},
    "delivered": set(),
    "on_hold": {"diagnosing", "awaiting_parts", "in_progress", "cancelled"},
    "cancelled": set(),
}
ALL_PAIRS = list(itertools.product(Status.values, Status.values))


def test_the_code_table_matches_the_hand_written_table():
    assert {status: set(targets) for status, targets in TRANSITIONS.items()} == EXPECTED


def test_every_status_has_an_entry_and_targets_are_real_statuses():
    assert set(TRANSITIONS) == set(Status.values)
    for targets in TRANSITIONS.values():
        assert set(targets) <= set(Status.values)


@pytest.mark.parametrize(("source", "target"), ALL_PAIRS)
def test_a_transition_succeeds_exactly_when_the_table_allows_it(source, target, make_job, advisor):
    job = make_job(status=source)
    history_before = JobEvent.objects.filter(job=job).count()
    if target in EXPECTED[source]:
        services.change_status(job, to=target, by=advisor, note="ok", expected_version=job.version)
        job.refresh_from_db()
        assert job.status == target
        assert job.version == 2
        change = JobEvent.objects.filter(job=job, kind="status").first()
        assert (change.from_status, change.to_status, change.by, change.note) == (source, target, advisor, "ok")
    else:
        with pytest.raises(services.IllegalTransition) as refused:
            services.change_status(job, to=target, by=advisor, expected_version=job.version)
        assert str(refused.value)
        assert RepairJob.objects.get(pk=job.pk).status == source
        assert JobEvent.objects.filter(job=job).count() == history_before


def test_timestamps_follow_the_workflow(make_job, advisor):
    job = make_job(status="quality_check")
    services.change_status(job, to="ready", by=advisor, expected_version=job.version)
    assert job.ready_at is not None and job.delivered_at is None
    services.change_status(job, to="delivered", by=advisor, expected_version=job.version)
    job.refresh_from_db()
    assert job.delivered_at >= job.ready_at


def test_the_customer_sees_the_customer_facing_layer(make_job):
    assert make_job(status="quality_check").get_customer_status_display() == "作業中"
    assert make_job(status="awaiting_approval").customer_status == "waiting_approval"
    assert make_job(status="ready").customer_status == "ready"
