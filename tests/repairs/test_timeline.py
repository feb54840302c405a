"""One timeline per job: each service writes exactly one row and bumps the markers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from dealership import versions
from repairs import services
from repairs.models import JobEvent, RepairJob

pytestmark = pytest.mark.django_db


def markers(job: RepairJob) -> tuple:
    return (
        versions.tokens([f"job:{job.pk}"])[0],
        RepairJob.objects.get(pk=job.pk).updated_at,
        JobEvent.objects.filter(job=job).count(),
    )


def run_status(job, people):
    services.change_status(job, to="diagnosing", by=people["advisor"], expected_version=job.version)


def run_assign(job, people):
    services.assign_technician(job, technician=people["technician"], by=people["advisor"])


def run_claim(job, people):
    RepairJob.objects.filter(pk=job.pk).update(technician=None)
    job.technician = None
    services.claim_job(job, by=people["technician"])


def run_promise(job, people):
    services.change_promised_time(
        job, promised_at=timezone.now() + timedelta(days=1), reason="部品待ち", by=people["advisor"]
    )


def run_release(job, people):
    RepairJob.objects.filter(pk=job.pk).update(technician=people["technician"])
    services.release_jobs_of(people["technician"], branch_id=job.branch_id, by=people["advisor"])


@pytest.mark.parametrize(
    ("write", "kind"),
    [
        (run_status, "status"),
        (run_assign, "assigned"),
        (run_claim, "claimed"),
        (run_promise, "promise"),
        (run_release, "released"),
    ],
)
def test_each_service_writes_exactly_one_timeline_row_and_bumps_the_markers(
    write, kind, job, advisor, technician, sales_rep
):
    people = {"advisor": advisor, "technician": technician, "sales_rep": sales_rep}
    branch_before, updated_before, events_before = markers(job)
    write(job, people)
    branch_after, updated_after, events_after = markers(job)
    assert events_after == events_before + 1
    assert JobEvent.objects.filter(job=job).first().kind == kind
    assert branch_after != branch_before  # the job's screens were told
    assert updated_after > updated_before


def test_opening_a_job_writes_one_created_row(sales_rep, customer, vehicle):
    job = services.create_job(by=sales_rep, customer=customer, vehicle=vehicle, kind="repair", title="異音")
    assert list(job.events.values_list("kind", "by")) == [("created", sales_rep.pk)]


def test_a_refused_write_leaves_no_row(job, sales_rep):
    before = JobEvent.objects.count()
    with pytest.raises(services.JobError):
        services.change_promised_time(job, promised_at=timezone.now(), reason="   ", by=job.service_advisor)
    with pytest.raises(services.IllegalTransition):
        services.change_status(job, to="delivered", by=job.service_advisor, expected_version=job.version)
    assert JobEvent.objects.count() == before


def test_the_timeline_reads_in_the_viewers_language(job, advisor):
    services.change_status(job, to="diagnosing", by=advisor, expected_version=job.version)
    event = JobEvent.objects.filter(kind="status").get()
    with translation.override("en"):
        assert event.summary == "Received → Diagnosing"
    with translation.override("ja"):
        assert event.summary == "入庫 → 診断中"


def test_the_job_page_shows_every_kind_of_row_with_who_and_when(job, advisor, technician, client):
    services.assign_technician(job, technician=technician, by=advisor)
    services.change_status(job, to="diagnosing", by=technician, expected_version=job.version, note="試運転")
    services.change_promised_time(job, promised_at=timezone.now() + timedelta(days=1), reason="部品待ち", by=advisor)
    client.force_login(advisor)
    body = client.get(job.get_absolute_url()).content.decode()
    for text in ("整備 太郎", "試運転", "部品待ち", "診断中"):
        assert text in body
    assert body.count('data-kind="') == JobEvent.objects.filter(job=job).count()
