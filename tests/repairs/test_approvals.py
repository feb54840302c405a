"""The customer's approval, from the workshop through the sales rep and back."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from dealership.models import Notification
from repairs import approvals, leads, services, status_links, tasks
from repairs.images import process_photo
from repairs.models import ApprovalRequest, JobEvent, RepairJob
from tests.conftest import missing
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def working_job(job, technician, advisor):
    """The job fixture, claimed by the technician and in diagnosis."""
    services.claim_job(job, by=technician)
    services.change_status(job, to="diagnosing", by=technician, expected_version=job.version)
    Notification.objects.all().delete()
    return job


@pytest.fixture
def approval(working_job, technician):
    approval = approvals.request_approval(
        working_job, by=technician, work="リアブレーキパッド交換", reason="残り2mm", estimate_yen=35000
    )
    Notification.objects.all().delete()
    return approval


def told(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient__email", flat=True))


def photo_upload(name: str = "pads.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


# --- raising a request ------------------------------------------------------------


def test_requesting_approval_moves_the_job_to_awaiting_approval_and_alerts_only_the_sales_owner(
    working_job, technician, sales_rep, advisor
):
    approval = approvals.request_approval(working_job, by=technician, work="タイヤ交換", estimate_yen="¥48,400")

    working_job.refresh_from_db()
    assert working_job.status == "awaiting_approval"
    assert approval.estimate_yen == 48400
    assert approval.status == "pending"
    assert told("approval_requested") == {sales_rep.email}
    # The approval alert replaces the generic status alert: nobody is told twice.
    assert not Notification.objects.filter(kind="status_changed").exists()
    assert not Notification.objects.filter(recipient=technician).exists()
    kinds = list(JobEvent.objects.filter(job=working_job).values_list("kind", flat=True)[:2])
    assert kinds == ["approval_requested", "status"]


def test_a_customer_without_sales_owner_alerts_every_advisor_of_the_branch(
    make_job, technician, advisor, branch, sales_rep
):
    second_advisor = UserFactory(role="service_advisor", department="service", branch=branch)
    job = make_job(sales_owner=None, technician=technician)
    job.customer.sales_owner = None
    job.customer.save()
    services.change_status(job, to="diagnosing", by=technician, expected_version=job.version)
    Notification.objects.all().delete()

    approvals.request_approval(job, by=technician, work="ワイパー交換", estimate_yen=3300)

    assert told("approval_requested") == {advisor.email, second_advisor.email}


def test_photos_are_posted_on_the_thread_and_linked_to_the_request(working_job, technician):
    photo = process_photo(photo_upload())

    approval = approvals.request_approval(
        working_job, by=technician, work="マフラー交換", estimate_yen=52000, photos=[photo]
    )

    assert approval.message is not None
    assert approval.message.job_id == working_job.pk
    assert approval.message.attachments.count() == 1


def test_a_request_with_photos_alerts_the_sales_owner_once(working_job, technician, sales_rep, advisor):
    approvals.request_approval(
        working_job, by=technician, work="マフラー交換", estimate_yen=52000, photos=[process_photo(photo_upload())]
    )

    to_owner = Notification.objects.filter(recipient=sales_rep)
    assert list(to_owner.values_list("kind", flat=True)) == ["approval_requested"]
    # The advisor on the job is not asked to decide, so the photos reach them as a message.
    assert "message" in set(Notification.objects.filter(recipient=advisor).values_list("kind", flat=True))


@pytest.mark.parametrize("estimate", [0, -5, "0", "-1200", "12.5", "3万", "", "abc", 10_000_001, "10,000,001"])
def test_a_zero_negative_fractional_or_absurd_estimate_is_refused_with_a_message(working_job, technician, estimate):
    with pytest.raises(services.JobError) as refused:
        approvals.request_approval(working_job, by=technician, work="エンジン載せ替え", estimate_yen=estimate)
    assert str(refused.value)
    working_job.refresh_from_db()
    assert working_job.status == "diagnosing"
    assert not ApprovalRequest.objects.exists()


def test_the_largest_sensible_estimate_is_accepted(working_job, technician):
    approval = approvals.request_approval(
        working_job, by=technician, work="エンジン載せ替え", estimate_yen="10,000,000"
    )
    assert approval.estimate_yen == 10_000_000


@pytest.mark.parametrize("final", ["cancelled", "delivered"])
def test_no_approval_can_be_asked_on_a_cancelled_or_delivered_job(make_job, advisor, final):
    job = make_job(status=final)
    with pytest.raises((services.JobError, PermissionDenied)):
        approvals.request_approval(job, by=advisor, work="追加作業", estimate_yen=1000)
    assert not ApprovalRequest.objects.exists()


def test_a_technician_cannot_ask_on_a_job_assigned_to_someone_else(working_job, other_technician):
    with pytest.raises(PermissionDenied):
        approvals.request_approval(working_job, by=other_technician, work="追加作業", estimate_yen=1000)


def test_a_sales_rep_does_not_raise_approval_requests(working_job, sales_rep):
    with pytest.raises(PermissionDenied):
        approvals.request_approval(working_job, by=sales_rep, work="追加作業", estimate_yen=1000)


# --- recording the decision -------------------------------------------------------


def test_an_approval_sends_the_job_back_to_work_and_tells_technician_and_advisor(
    approval, sales_rep, technician, advisor
):
    later = approval.requested_at + timedelta(minutes=42)
    approvals.record_approval_decision(
        approval, by=sales_rep, decision="approved", contact_method="phone", note="OK", at=later
    )

    approval.refresh_from_db()
    job = RepairJob.objects.get(pk=approval.job_id)
    assert job.status == "in_progress"
    assert approval.status == "approved"
    assert approval.decided_by == sales_rep
    assert approval.response_seconds == 42 * 60
    assert told("approval_decided") == {technician.email, advisor.email}
    assert not Notification.objects.filter(recipient=sales_rep).exists()
    event = JobEvent.objects.filter(job=job, kind="approval_decided").get()
    assert event.by == sales_rep
    assert "42 min" in event.summary


def test_a_declined_request_lets_the_job_continue_without_the_extra_work(approval, sales_rep):
    approvals.record_approval_decision(approval, by=sales_rep, decision="declined", contact_method="line")
    approval.refresh_from_db()
    assert approval.status == "declined"
    assert RepairJob.objects.get(pk=approval.job_id).status == "in_progress"


def test_could_not_reach_keeps_the_request_open_for_another_try(approval, sales_rep, technician):
    approvals.record_approval_decision(approval, by=sales_rep, decision="unreachable", contact_method="phone")
    approval.refresh_from_db()
    assert approval.status == "unreachable"
    assert approval.attempts == 1
    assert approval.decided_at is None
    assert RepairJob.objects.get(pk=approval.job_id).status == "awaiting_approval"
    assert technician.email in told("approval_decided")

    approvals.record_approval_decision(approval, by=sales_rep, decision="approved", contact_method="phone")
    approval.refresh_from_db()
    assert approval.status == "approved"
    assert RepairJob.objects.get(pk=approval.job_id).status == "in_progress"


def test_a_second_decision_is_refused_naming_who_decided_and_when(approval, sales_rep, manager):
    approvals.record_approval_decision(approval, by=sales_rep, decision="approved", contact_method="phone")
    stale = ApprovalRequest.objects.select_related("job").get(pk=approval.pk)
    stale.status = "pending"  # what a page opened before the first decision still believes

    with pytest.raises(approvals.AlreadyDecided) as refused:
        approvals.record_approval_decision(stale, by=manager, decision="declined", contact_method="phone")

    message = str(refused.value)
    decided_at = ApprovalRequest.objects.get(pk=approval.pk).decided_at
    assert sales_rep.display_name in message
    assert timezone.localtime(decided_at).strftime("%H:%M") in message
    assert ApprovalRequest.objects.get(pk=approval.pk).status == "approved"


@pytest.mark.parametrize("persona", ["technician", "other_sales_rep"])
def test_only_the_sales_owner_an_advisor_or_a_manager_records_a_decision(request, approval, persona, branch):
    person = (
        request.getfixturevalue("technician")
        if persona == "technician"
        else UserFactory(role="sales_rep", department="sales", branch=branch)
    )
    with pytest.raises(PermissionDenied):
        approvals.record_approval_decision(approval, by=person, decision="approved", contact_method="phone")
    assert ApprovalRequest.objects.get(pk=approval.pk).status == "pending"


@pytest.mark.parametrize("persona", ["advisor", "manager"])
def test_an_advisor_or_a_manager_may_record_the_decision(request, approval, persona):
    approvals.record_approval_decision(
        approval, by=request.getfixturevalue(persona), decision="approved", contact_method="in_person"
    )
    assert ApprovalRequest.objects.get(pk=approval.pk).status == "approved"


def test_an_unknown_decision_or_contact_method_is_refused(approval, sales_rep):
    with pytest.raises(services.JobError):
        approvals.record_approval_decision(approval, by=sales_rep, decision="maybe", contact_method="phone")
    with pytest.raises(services.JobError):
        approvals.record_approval_decision(approval, by=sales_rep, decision="approved", contact_method="pigeon")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_decisions_on_postgresql_exactly_one_wins(job, technician, sales_rep, manager):
    if connection.vendor != "postgresql":
        missing("needs PostgreSQL (set DATABASE_URL) for real concurrent transactions")
    services.claim_job(job, by=technician)
    services.change_status(job, to="diagnosing", by=technician, expected_version=job.version)
    approval = approvals.request_approval(job, by=technician, work="バッテリー交換", estimate_yen=22000)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def decide(user, decision: str) -> None:
        try:
            copy = ApprovalRequest.objects.select_related("job", "job__vehicle").get(pk=approval.pk)
            barrier.wait(timeout=10)
            approvals.record_approval_decision(copy, by=user, decision=decision, contact_method="phone")
            outcomes[user.email] = "won"
        except approvals.AlreadyDecided as refused:
            outcomes[user.email] = f"refused: {refused}"
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=decide, args=(sales_rep, "approved")),
        threading.Thread(target=decide, args=(manager, "declined")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcome.split(":")[0] for outcome in outcomes.values()) == ["refused", "won"]
    winner = next(email for email, outcome in outcomes.items() if outcome == "won")
    refusal = next(outcome for outcome in outcomes.values() if outcome.startswith("refused"))
    decided = ApprovalRequest.objects.select_related("decided_by").get(pk=approval.pk)
    assert decided.decided_by.email == winner
    assert decided.decided_by.display_name in refusal
    assert JobEvent.objects.filter(job=job, kind="approval_decided").count() == 1
    assert RepairJob.objects.get(pk=job.pk).status == "in_progress"


# --- the reminder -----------------------------------------------------------------


def test_an_undecided_request_reminds_sales_owner_and_advisor_once(approval, sales_rep, advisor, technician, settings):
    settings.APPROVAL_REMINDER_MINUTES = 120
    early = approval.requested_at + timedelta(minutes=119)
    assert approvals.remind_undecided_approvals(now=early) == 0

    late = approval.requested_at + timedelta(minutes=121)
    assert approvals.remind_undecided_approvals(now=late) == 1
    assert told("approval_reminder") == {sales_rep.email, advisor.email}
    assert approvals.remind_undecided_approvals(now=late + timedelta(hours=3)) == 0
    assert Notification.objects.filter(kind="approval_reminder").count() == 2


def test_a_decided_request_is_never_reminded(approval, sales_rep):
    approvals.record_approval_decision(approval, by=sales_rep, decision="approved", contact_method="phone")
    assert approvals.remind_undecided_approvals(now=timezone.now() + timedelta(days=1)) == 0


def test_the_beat_task_runs_the_reminder(approval, settings, time_machine):
    settings.APPROVAL_REMINDER_MINUTES = 1
    time_machine.move_to(timezone.now() + timedelta(minutes=5))
    assert tasks.remind_undecided_approvals.delay().get() == 1
    assert "remind-undecided-approvals" in settings.CELERY_BEAT_SCHEDULE


# --- the screens ------------------------------------------------------------------


def test_a_technician_raises_a_request_from_the_phone_form(client_for, working_job, technician, sales_rep):
    client = client_for(technician)
    url = reverse("repairs:approval_new", args=[working_job.pk])
    assert client.get(url).status_code == 200

    response = client.post(
        url,
        {
            "work": "ブレーキローター研磨",
            "reason": "段減りあり",
            "estimate_yen": "１２，１００",
            "photos": [photo_upload()],
        },
    )

    assert response.status_code == 302
    approval = ApprovalRequest.objects.get(job=working_job)
    assert approval.estimate_yen == 12100
    assert approval.message.attachments.count() == 1
    assert told("approval_requested") == {sales_rep.email}


@pytest.mark.parametrize("estimate", ["0", "-3000", "1500.5", "99999999", "たくさん"])
def test_the_phone_form_refuses_a_bad_estimate_with_a_message(client_for, working_job, technician, estimate):
    response = client_for(technician).post(
        reverse("repairs:approval_new", args=[working_job.pk]), {"work": "追加作業", "estimate_yen": estimate}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["estimate_yen"]
    assert not ApprovalRequest.objects.exists()


def test_a_sales_rep_may_not_open_the_request_form(client_for, working_job, sales_rep):
    assert client_for(sales_rep).get(reverse("repairs:approval_new", args=[working_job.pk])).status_code == 403


def test_the_sales_owner_records_the_decision_on_its_page(client_for, approval, sales_rep, technician):
    client = client_for(sales_rep)
    url = reverse("repairs:approval_decide", args=[approval.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert approval.job.customer.phone in page.content.decode()  # the rep calls from this page

    response = client.post(url, {"decision": "approved", "contact_method": "phone", "note": "電話で了承"})

    assert response.status_code == 302
    assert ApprovalRequest.objects.get(pk=approval.pk).status == "approved"
    assert technician.email in told("approval_decided")


def test_a_decision_posted_twice_shows_who_decided_and_when(client_for, approval, sales_rep, manager):
    approvals.record_approval_decision(approval, by=manager, decision="declined", contact_method="phone")
    response = client_for(sales_rep).post(
        reverse("repairs:approval_decide", args=[approval.pk]), {"decision": "approved", "contact_method": "phone"}
    )
    assert response.status_code == 409
    assert manager.display_name in response.content.decode()
    assert ApprovalRequest.objects.get(pk=approval.pk).status == "declined"


def test_the_decision_form_refuses_an_unknown_answer(client_for, approval, sales_rep):
    response = client_for(sales_rep).post(
        reverse("repairs:approval_decide", args=[approval.pk]), {"decision": "maybe", "contact_method": "phone"}
    )
    assert response.status_code == 400
    assert ApprovalRequest.objects.get(pk=approval.pk).status == "pending"


def test_a_technician_may_not_record_the_decision(client_for, approval, technician):
    response = client_for(technician).post(
        reverse("repairs:approval_decide", args=[approval.pk]), {"decision": "approved", "contact_method": "phone"}
    )
    assert response.status_code == 403


def test_a_technician_never_sees_the_customers_phone_or_email(client_for, approval, technician):
    client = client_for(technician)
    customer = approval.job.customer
    for url in (
        reverse("repairs:job_approvals_leads", args=[approval.job_id]),
        reverse("repairs:approval_new", args=[approval.job_id]),
        reverse("repairs:leads"),
    ):
        body = client.get(url).content.decode()
        assert customer.phone not in body
        assert customer.email not in body


@pytest.mark.parametrize(
    "name,kind",
    [("repairs:approval_decide", "approval"), ("repairs:approval_new", "job"), ("repairs:job_approvals_leads", "job")],
)
def test_another_branch_gets_404_on_every_approval_url(client_for, other_branch_manager, approval, name, kind):
    client = client_for(other_branch_manager)
    target = approval.pk if kind == "approval" else approval.job_id
    assert client.get(reverse(name, args=[target])).status_code == 404
    assert client.post(reverse(name, args=[target]), {"decision": "approved"}).status_code in (404, 405)
    assert ApprovalRequest.objects.get(pk=approval.pk).status == "pending"


def test_the_waiting_list_home_panel_and_navigation_show_the_request(client_for, approval, sales_rep):
    client = client_for(sales_rep)
    page = client.get(reverse("repairs:approvals")).content.decode()
    assert approval.job.number in page
    assert reverse("repairs:approval_decide", args=[approval.pk]) in page
    home = client.get(reverse("home")).content.decode()
    assert reverse("repairs:approval_decide", args=[approval.pk]) in home
    assert "(1)" in home  # the count beside "Approvals" in the navigation


def test_the_waiting_list_polls_with_an_etag_and_shows_a_new_request_without_reload(
    client_for, working_job, technician, sales_rep
):
    client = client_for(sales_rep)
    first = client.get(reverse("repairs:approvals"), HTTP_HX_REQUEST="true")
    assert (
        client.get(reverse("repairs:approvals"), HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=first["ETag"]).status_code
        == 304
    )

    approvals.request_approval(working_job, by=technician, work="ベルト交換", estimate_yen=9800)

    again = client.get(reverse("repairs:approvals"), HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert working_job.number in again.content.decode()


def test_other_sales_reps_do_not_see_the_request_in_their_waiting_list(client_for, approval, branch):
    colleague = UserFactory(role="sales_rep", department="sales", branch=branch)
    body = client_for(colleague).get(reverse("repairs:approvals")).content.decode()
    assert approval.job.number not in body


def test_the_job_section_shows_the_decision_to_the_technician(client_for, approval, sales_rep, technician):
    client = client_for(technician)
    before = client.get(reverse("repairs:job_approvals_leads", args=[approval.job_id]))
    approvals.record_approval_decision(approval, by=sales_rep, decision="approved", contact_method="phone")
    after = client.get(
        reverse("repairs:job_approvals_leads", args=[approval.job_id]), HTTP_IF_NONE_MATCH=before["ETag"]
    )
    assert after.status_code == 200
    assert 'data-status="approved"' in after.content.decode()
    assert sales_rep.display_name in after.content.decode()


def test_the_waiting_list_costs_the_same_queries_for_many_requests(
    client_for, make_job, technician, sales_rep, django_assert_max_num_queries
):
    for index in range(6):
        job = make_job(technician=technician)
        services.change_status(job, to="diagnosing", by=technician, expected_version=job.version)
        approvals.request_approval(job, by=technician, work=f"作業{index}", estimate_yen=1000 + index)
    client = client_for(sales_rep)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("repairs:approvals"))
    assert response.content.decode().count('data-job="') == 6


# --- the admin ----------------------------------------------------------------------


def test_the_admin_records_a_decision_only_through_the_service(client, branch, approval, technician):
    superuser = UserFactory(email="root@example.com", branch=branch, is_staff=True, is_superuser=True, role="manager")
    client.force_login(superuser)
    response = client.post(
        reverse("admin:repairs_approvalrequest_changelist"),
        {"action": "record_approved", "_selected_action": [approval.pk]},
    )
    assert response.status_code == 302
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by) == ("approved", superuser)
    assert RepairJob.objects.get(pk=approval.job_id).status == "in_progress"
    assert JobEvent.objects.filter(job_id=approval.job_id, kind="approval_decided", by=superuser).exists()
    assert technician.email in told("approval_decided")


def test_the_job_section_costs_the_same_queries_whatever_its_history(client_for, working_job, technician, sales_rep):
    from django.test.utils import CaptureQueriesContext

    from repairs.images import process_photo as photo

    client = client_for(sales_rep)
    url = reverse("repairs:job_approvals_leads", args=[working_job.pk])
    counts = []
    job = working_job
    for index in range(3):
        approval = approvals.request_approval(
            job, by=technician, work=f"作業{index}", estimate_yen=5000, photos=[photo(photo_upload())]
        )
        approvals.record_approval_decision(approval, by=sales_rep, decision="declined", contact_method="phone")
        job = RepairJob.objects.get(pk=job.pk)
        leads.flag_sales_lead(job, by=technician, reason="wear_parts")
        status_links.create_status_link(job, by=sales_rep)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        counts.append(len(captured))
    body = response.content.decode()
    assert body.count('data-testid="approval"') == 3
    assert body.count('data-testid="status-link"') == 3
    assert counts[0] == counts[-1] <= 12, counts
