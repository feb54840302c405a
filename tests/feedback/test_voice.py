"""Low scores open recovery items; voice items move, notify and refuse what they should."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from dealership.models import Notification
from feedback import services
from feedback.models import CustomerVoice, VoiceEvent, VoiceStatus
from repairs.models import JobEvent
from tests.factories import CustomerFactory, UserFactory

from .conftest import answers, delivered_job

# The refusals below are matched in English; the staff default is Japanese.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


@pytest.mark.parametrize(("overall", "nps"), [(2, 9), (5, 6), (1, 0)])
def test_a_low_answer_opens_a_recovery_item_for_the_sales_owner_with_the_advisor_and_alerts_both(
    invitation, sales_rep, advisor, overall, nps
):
    response = services.submit_survey(invitation, answers=answers(overall=overall, nps=nps, comment="遅れました"))

    voice = CustomerVoice.objects.get()
    assert voice.is_recovery and voice.survey_response == response
    assert (voice.assignee, voice.co_assignee) == (sales_rep, advisor)
    assert voice.category == "complaint" and voice.source == "survey"
    assert voice.status == VoiceStatus.OPEN and voice.description == "遅れました"
    assert voice.due_date == timezone.localdate() + timedelta(days=2)
    alerts = Notification.objects.filter(kind=Notification.Kind.SURVEY_LOW_SCORE)
    assert sorted(alerts.values_list("recipient_id", flat=True)) == sorted([sales_rep.pk, advisor.pk])
    assert all(alert.url == voice.get_absolute_url() for alert in alerts)
    assert JobEvent.objects.filter(job=invitation.job, kind=JobEvent.Kind.VOICE).count() == 1


@pytest.mark.parametrize(("overall", "nps"), [(3, 7), (4, 10), (5, 9)])
def test_an_answer_that_is_not_low_opens_nothing(invitation, overall, nps):
    services.submit_survey(invitation, answers=answers(overall=overall, nps=nps))

    assert not CustomerVoice.objects.exists()
    assert not Notification.objects.filter(kind=Notification.Kind.SURVEY_LOW_SCORE).exists()


def test_a_second_submission_is_refused_as_already_answered(invitation):
    services.submit_survey(invitation, answers=answers())
    fresh = type(invitation).objects.get(pk=invitation.pk)
    fresh.answered_at = None  # as if loaded before the first answer committed

    with pytest.raises(services.AlreadyAnswered):
        services.submit_survey(fresh, answers=answers(overall=1, nps=0))

    assert not CustomerVoice.objects.exists()


@pytest.fixture
def voice(customer, sales_rep, advisor, make_delivered_job):
    job = make_delivered_job(customer=customer)
    return services.record_voice(
        by=sales_rep,
        customer=customer,
        job=job,
        source="sales_conversation",
        category="complaint",
        title="代車が汚れていた",
        assignee=advisor,
        due_date=timezone.localdate() + timedelta(days=3),
    )


def test_recording_a_voice_item_writes_history_the_job_timeline_and_tells_the_owner(voice, sales_rep, advisor):
    assert voice.raised_by == sales_rep and voice.branch_id == voice.customer.branch_id
    assert list(VoiceEvent.objects.values_list("kind", flat=True)) == ["recorded"]
    event = JobEvent.objects.get(job=voice.job, kind=JobEvent.Kind.VOICE)
    assert "代車が汚れていた" in event.summary
    alert = Notification.objects.get(kind=Notification.Kind.VOICE_ASSIGNED)
    assert alert.recipient == advisor and alert.actor == sales_rep


def test_status_moves_follow_the_table_and_tell_the_people_on_the_item(voice, sales_rep, advisor):
    services.change_voice_status(voice, to=VoiceStatus.IN_PROGRESS, by=advisor, note="確認中")

    assert voice.status == VoiceStatus.IN_PROGRESS
    updated = Notification.objects.filter(kind=Notification.Kind.VOICE_UPDATED)
    assert list(updated.values_list("recipient_id", flat=True)) == [sales_rep.pk]
    with pytest.raises(services.VoiceError):
        services.change_voice_status(voice, to=VoiceStatus.CLOSED, by=advisor)
    with pytest.raises(services.VoiceError, match="resolved"):
        services.change_voice_status(voice, to=VoiceStatus.RESOLVED, by=advisor)

    services.resolve_voice(voice, resolution="清掃して再度お渡し", by=advisor)
    assert voice.status == VoiceStatus.RESOLVED and voice.resolved_at is not None

    with pytest.raises(services.VoiceError, match="followed up"):
        services.change_voice_status(voice, to=VoiceStatus.CLOSED, by=advisor)
    services.confirm_follow_up(voice, by=sales_rep, note="ご納得いただけました")
    services.change_voice_status(voice, to=VoiceStatus.CLOSED, by=advisor)

    voice.refresh_from_db()
    assert voice.status == VoiceStatus.CLOSED and voice.customer_followed_up and voice.closed_at
    assert voice.followed_up_by == sales_rep
    kinds = list(VoiceEvent.objects.filter(voice=voice).order_by("at", "id").values_list("kind", flat=True))
    assert kinds == ["recorded", "status", "status", "followed_up", "status"]
    assert JobEvent.objects.filter(job=voice.job, kind=JobEvent.Kind.VOICE).count() == 5
    with pytest.raises(services.VoiceError):
        services.change_voice_status(voice, to=VoiceStatus.OPEN, by=advisor)


def test_praise_closes_without_a_follow_up(customer, technician):
    praise = services.record_voice(
        by=technician,
        customer=customer,
        source="workshop",
        category="praise",
        title="写真が分かりやすい",
        assignee=technician,
    )
    services.resolve_voice(praise, resolution="チームに共有", by=technician)
    services.change_voice_status(praise, to=VoiceStatus.CLOSED, by=technician)

    assert praise.status == VoiceStatus.CLOSED


def test_a_technician_not_on_the_item_may_not_move_it_and_only_sales_confirm_follow_up(voice, technician, advisor):
    with pytest.raises(PermissionDenied):
        services.change_voice_status(voice, to=VoiceStatus.IN_PROGRESS, by=technician)
    with pytest.raises(PermissionDenied):
        services.confirm_follow_up(voice, by=advisor)
    assert voice.status == VoiceStatus.OPEN


def test_assigning_tells_the_new_people_only_and_refuses_staff_of_another_branch(
    voice, sales_rep, advisor, technician, other_branch_user
):
    Notification.objects.all().delete()
    services.assign_voice(voice, by=advisor, assignee=advisor, co_assignee=technician, due_date=date(2030, 1, 31))

    assert (voice.assignee, voice.co_assignee, voice.due_date) == (advisor, technician, date(2030, 1, 31))
    assert list(Notification.objects.values_list("recipient_id", "kind")) == [(technician.pk, "voice_assigned")]
    assert VoiceEvent.objects.filter(voice=voice, kind="assigned").count() == 1
    with pytest.raises(services.VoiceError):
        services.assign_voice(voice, by=advisor, assignee=other_branch_user)


def test_nobody_hears_of_an_item_they_cannot_see(customer, sales_rep, other_branch_user):
    # An all-branch manager could see it; a colleague of another branch cannot.
    services.record_voice(
        by=sales_rep, customer=customer, source="phone", category="question", title="保証は？", assignee=sales_rep
    )
    voice = CustomerVoice.objects.get()
    services.change_voice_status(voice, to=VoiceStatus.IN_PROGRESS, by=sales_rep)
    services.notify_voice(voice, [other_branch_user], "voice_updated", actor=sales_rep, text="x", args={})

    assert not Notification.objects.filter(recipient=other_branch_user).exists()


def test_a_job_of_another_customer_cannot_be_linked(customer, sales_rep, advisor, branch):
    stranger = CustomerFactory(branch=branch)
    job = delivered_job(customer=stranger, sales_owner=sales_rep, advisor=advisor)

    with pytest.raises(services.VoiceError):
        services.record_voice(by=sales_rep, customer=customer, job=job, source="phone", category="request", title="x")


def test_an_all_branch_manager_may_record_for_any_branch(other_branch, branch):
    chief = UserFactory(role="manager", branch=branch, all_branches=True)
    foreign = CustomerFactory(branch=other_branch)

    voice = services.record_voice(by=chief, customer=foreign, source="phone", category="request", title="依頼")

    assert voice.branch_id == other_branch.pk
