"""Who is told what: one test per row of the README's table ("Who hears what").

Nobody is told twice for one event, never the actor, and never someone who
cannot see the job. Each test names the exact set of recipients.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from dealership.models import Notification
from repairs import services
from repairs.models import JobEvent, RepairJob
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def told(kind: str | None = None) -> dict[str, int]:
    """Recipient e-mail → how many notifications (of `kind`) they got."""
    rows = Notification.objects.all()
    if kind:
        rows = rows.filter(kind=kind)
    counts: dict[str, int] = {}
    for email in rows.values_list("recipient__email", flat=True):
        counts[email] = counts.get(email, 0) + 1
    return counts


def text_of(notification: Notification, language: str) -> str:
    with translation.override(language):
        return notification.text


def test_a_new_job_tells_the_branchs_service_advisors_and_nobody_else(
    sales_rep, customer, vehicle, advisor, technician, other_branch_user
):
    second_advisor = UserFactory(email="advisor2@example.com", role="service_advisor", branch=advisor.branch)
    services.create_job(by=sales_rep, customer=customer, vehicle=vehicle, kind="repair", title="異音")
    assert told() == {advisor.email: 1, second_advisor.email: 1}
    assert set(Notification.objects.values_list("kind", flat=True)) == {"job_created"}


def test_an_internal_request_tells_the_advisors_with_its_due_time(sales_rep, customer, vehicle, advisor):
    due = timezone.now() + timedelta(days=3)
    services.create_job(
        by=sales_rep, customer=customer, vehicle=vehicle, kind="pdi", title="納車前整備", promised_at=due
    )
    notification = Notification.objects.get(recipient=advisor)
    assert "納車前整備" in text_of(notification, "ja") or "New-car delivery prep" in text_of(notification, "en")
    assert timezone.localtime(due).strftime("%m/%d %H:%M") in text_of(notification, "en")


def test_a_claim_tells_the_advisor_and_the_sales_owner_who_took_it(job, technician, advisor, sales_rep):
    RepairJob.objects.filter(pk=job.pk).update(technician=None)
    job.refresh_from_db()
    services.claim_job(job, by=technician)
    assert told() == {advisor.email: 1, sales_rep.email: 1}
    notification = Notification.objects.get(recipient=sales_rep)
    assert notification.kind == "job_claimed"
    assert technician.display_name in text_of(notification, "ja")
    assert job.number in text_of(notification, "en")


def test_an_assignment_tells_only_the_technician(job, technician, advisor):
    services.assign_technician(job, technician=technician, by=advisor)
    assert told() == {technician.email: 1}
    assert told("job_assigned") == {technician.email: 1}


def test_a_new_promise_tells_the_sales_owner_and_requester_with_old_new_and_reason(job, manager, sales_rep, advisor):
    old = timezone.now() + timedelta(hours=3)
    new = timezone.now() + timedelta(days=1)
    RepairJob.objects.filter(pk=job.pk).update(promised_at=old)
    job.refresh_from_db()
    services.change_promised_time(job, promised_at=new, reason="部品の入荷遅れ", by=manager)
    assert told() == {sales_rep.email: 1, advisor.email: 1}  # sales owner and requester
    text = text_of(Notification.objects.get(recipient=sales_rep), "en")
    assert timezone.localtime(old).strftime("%m/%d %H:%M") in text
    assert timezone.localtime(new).strftime("%m/%d %H:%M") in text
    assert "部品の入荷遅れ" in text


def test_a_workshop_only_move_stays_on_the_timeline_and_tells_nobody(job, technician, sales_rep):
    job.technician = technician
    job.save()
    services.change_status(job, to="diagnosing", by=technician, expected_version=job.version)
    first = told()
    # 診断中 → 作業中 → 完成検査 is "work in progress" for the customer all along.
    services.change_status(job, to="in_progress", by=technician, expected_version=job.version)
    services.change_status(job, to="quality_check", by=technician, expected_version=job.version)
    assert told() == first
    assert first[sales_rep.email] == 1
    assert JobEvent.objects.filter(job=job, kind="status").count() == 3


def test_a_customer_facing_move_tells_the_sales_owner_and_requester_once_never_the_actor(job, advisor, sales_rep):
    RepairJob.objects.filter(pk=job.pk).update(requested_by=sales_rep)  # requester == sales owner
    job.refresh_from_db()
    services.change_status(job, to="diagnosing", by=advisor, expected_version=job.version)
    assert told() == {sales_rep.email: 1}


def test_a_mention_carries_the_message_text(job, technician, sales_rep):
    services.post_message(job, by=technician, body="@営業花子 ブレーキパッドが残り2mmです", mentions=[sales_rep])
    notification = Notification.objects.get(recipient=sales_rep)
    assert notification.kind == "mention"
    assert "ブレーキパッドが残り2mmです" in text_of(notification, "en")


def test_a_customer_request_tells_technician_and_advisor_once_each(job, technician, advisor, sales_rep):
    job.technician = technician
    job.save()
    services.post_message(job, by=sales_rep, body="代車希望", kind="customer_request", mentions=[technician])
    assert told() == {technician.email: 1, advisor.email: 1}


def test_nobody_hears_of_a_job_they_cannot_see(job, other_branch_user, advisor):
    services.post_message(job, by=advisor, body="確認", mentions=[other_branch_user])
    assert other_branch_user.email not in told()


def test_someone_moved_to_another_branch_is_released_from_open_jobs_and_hears_no_more(
    job, technician, advisor, sales_rep, other_branch
):
    services.assign_technician(job, technician=technician, by=advisor)
    services.post_message(job, by=technician, body="作業開始します")
    technician.branch = other_branch
    technician.save()
    job.refresh_from_db()
    assert job.technician is None
    released = JobEvent.objects.get(job=job, kind="released")
    assert technician.display_name in released.summary
    assert Notification.objects.filter(recipient=advisor, kind="job_assigned").exists()

    Notification.objects.all().delete()
    services.post_message(job, by=sales_rep, body="お客様より", kind="customer_request")
    assert technician.email not in told()  # earlier poster, but no longer of this branch
    assert told() == {advisor.email: 1}


def test_any_save_that_moves_someone_releases_their_jobs_too(job, technician, advisor, other_branch):
    # The admin and scripts save the user row directly, not through the Team page.
    services.assign_technician(job, technician=technician, by=advisor)
    technician.branch = other_branch
    technician.save(update_fields=["branch"])
    assert RepairJob.objects.get(pk=job.pk).technician is None
