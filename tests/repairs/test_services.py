from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from dealership.models import Notification
from repairs import services
from repairs.models import JobEvent, RepairJob

pytestmark = pytest.mark.django_db


def test_create_job_numbers_it_and_records_the_intake(sales_rep, customer, vehicle):
    job = services.create_job(by=sales_rep, customer=customer, vehicle=vehicle, kind="maintenance", title="12ヶ月点検")
    assert job.number == f"R-{timezone.localtime().year}-{job.pk:05d}"
    assert (job.status, job.sales_owner, job.requested_by, job.branch) == (
        "received",
        sales_rep,
        sales_rep,
        customer.branch,
    )
    assert list(job.events.values_list("kind", "from_status", "to_status")) == [("created", "", "received")]


def test_internal_requests_need_a_due_time(sales_rep, customer, vehicle):
    with pytest.raises(services.JobError):
        services.create_job(by=sales_rep, customer=customer, vehicle=vehicle, kind="pdi", title="納車前整備")
    assert not RepairJob.objects.exists()


def test_a_vehicle_of_another_customer_is_refused(sales_rep, customer, make_job):
    foreign_vehicle = make_job().vehicle
    with pytest.raises(services.JobError):
        services.create_job(by=sales_rep, customer=customer, vehicle=foreign_vehicle, kind="repair", title="x")


def test_technicians_cannot_create_jobs(technician, customer, vehicle):
    with pytest.raises(PermissionDenied):
        services.create_job(by=technician, customer=customer, vehicle=vehicle, kind="repair", title="x")


def test_change_status_notifies_the_sales_owner_and_requester_but_never_the_actor(job, technician, sales_rep, advisor):
    job.technician = technician
    job.save()
    services.change_status(job, to="diagnosing", by=technician, expected_version=job.version)
    recipients = set(Notification.objects.values_list("recipient__email", flat=True))
    assert recipients == {sales_rep.email, advisor.email}
    assert Notification.objects.get(recipient=sales_rep).kind == "status_changed"
    told_before = Notification.objects.filter(recipient=advisor).count()
    services.change_status(job, to="on_hold", by=advisor, expected_version=job.version)
    assert Notification.objects.filter(recipient=advisor).count() == told_before  # never the actor
    assert Notification.objects.filter(recipient=sales_rep).count() == 2


def test_the_notification_text_is_rendered_in_the_readers_language(job, advisor, sales_rep):
    from django.utils import translation

    services.change_status(job, to="diagnosing", by=advisor, expected_version=job.version)
    notification = Notification.objects.get(recipient=sales_rep)
    with translation.override("en"):
        assert "Work in progress" in notification.text
    with translation.override("ja"):
        assert "作業中" in notification.text


def test_a_stale_version_is_refused_and_names_who_changed_it(job, advisor, manager):
    seen = job.version
    services.change_status(job, to="diagnosing", by=manager, expected_version=seen)
    stale_copy = RepairJob.objects.get(pk=job.pk)
    stale_copy.version = seen
    stale_copy.status = "received"
    with pytest.raises(services.StaleJob) as conflict:
        services.change_status(stale_copy, to="in_progress", by=advisor, expected_version=seen)
    assert manager.display_name in str(conflict.value)
    job.refresh_from_db()
    assert job.status == "diagnosing"
    assert job.events.filter(kind="status").count() == 1


def test_a_technician_cannot_move_a_job_assigned_to_someone_else(job, technician, other_technician):
    job.technician = other_technician
    job.save()
    with pytest.raises(PermissionDenied):
        services.change_status(job, to="diagnosing", by=technician, expected_version=job.version)
    assert RepairJob.objects.get(pk=job.pk).status == "received"


def test_only_the_own_sales_rep_hands_a_ready_car_over(make_job, sales_rep, branch):
    from tests.factories import UserFactory

    colleague = UserFactory(branch=branch, role="sales_rep", department="sales")
    job = make_job(status="ready", sales_owner=sales_rep)
    with pytest.raises(PermissionDenied):
        services.change_status(job, to="delivered", by=colleague, expected_version=job.version)
    with pytest.raises(PermissionDenied):
        services.change_status(job, to="in_progress", by=sales_rep, expected_version=job.version)
    services.change_status(job, to="delivered", by=sales_rep, expected_version=job.version)
    assert RepairJob.objects.get(pk=job.pk).status == "delivered"


def test_every_write_bumps_the_version_keys_of_the_screens_that_show_the_job(job, advisor):
    from dealership import versions

    keys = [f"job:{job.pk}", f"branchjobs:{job.branch_id}", f"person:{job.sales_owner_id}"]
    unrelated = ["person:999999", f"thread:{job.pk}"]
    before = versions.tokens(keys + unrelated)
    services.change_status(job, to="diagnosing", by=advisor, expected_version=job.version)
    after = versions.tokens(keys + unrelated)
    assert all(old != new for old, new in zip(before[:3], after[:3], strict=True))
    assert before[3:] == after[3:]


def test_claim_job_lets_one_technician_take_an_unassigned_job(job, technician, other_technician):
    services.claim_job(job, by=technician)
    stale = RepairJob.objects.get(pk=job.pk)
    stale.technician = None
    with pytest.raises(services.JobError):
        services.claim_job(stale, by=other_technician)
    assert RepairJob.objects.get(pk=job.pk).technician == technician


def test_assign_technician_notifies_the_technician(job, advisor, technician):
    services.assign_technician(job, technician=technician, by=advisor)
    assert RepairJob.objects.get(pk=job.pk).technician == technician
    assert Notification.objects.get(recipient=technician).kind == "job_assigned"


def test_assign_refuses_a_technician_of_another_branch(job, advisor, other_branch):
    from tests.factories import UserFactory

    stranger = UserFactory(branch=other_branch, role="technician", department="service")
    with pytest.raises(services.JobError):
        services.assign_technician(job, technician=stranger, by=advisor)


def test_sales_reps_cannot_assign_or_change_promises(job, sales_rep, technician):
    with pytest.raises(PermissionDenied):
        services.assign_technician(job, technician=technician, by=sales_rep)
    with pytest.raises(PermissionDenied):
        services.change_promised_time(job, promised_at=timezone.now(), reason="x", by=sales_rep)


def test_change_promised_time_records_the_reason(job, advisor):
    new_time = timezone.now() + timedelta(days=1)
    services.change_promised_time(job, promised_at=new_time, reason="部品入荷が明日になったため", by=advisor)
    change = JobEvent.objects.get(job=job, kind="promise")
    assert (change.data["new"]["dt"], change.note, change.by) == (
        new_time.isoformat(),
        "部品入荷が明日になったため",
        advisor,
    )
    with pytest.raises(services.JobError):
        services.change_promised_time(job, promised_at=new_time + timedelta(hours=1), reason="  ", by=advisor)
    assert JobEvent.objects.filter(kind="promise").count() == 1


def test_a_status_change_that_rolls_back_leaves_no_history_and_no_notification(job, advisor, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "screens_changed", explode)
    with pytest.raises(RuntimeError):
        services.change_status(job, to="diagnosing", by=advisor, expected_version=job.version)
    assert RepairJob.objects.get(pk=job.pk).status == "received"
    assert JobEvent.objects.filter(job=job).count() == 1
    assert not Notification.objects.exists()
