"""The invitation beat task and the survey e-mail (eager tasks, Django's test mailbox)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from dealership import outbox
from feedback import services, tasks
from feedback.models import SkipReason, SurveyInvitation, SurveyOptOut
from repairs.models import JobEvent
from tests.factories import CustomerFactory

from .conftest import delivered_job

pytestmark = pytest.mark.django_db


def test_a_delivered_job_past_its_delay_is_invited_once_and_mailed_once(make_delivered_job, settings, on_commit):
    settings.SURVEY_DELAY_HOURS = 24
    job = make_delivered_job(delivered_ago=timedelta(hours=25))

    with on_commit(execute=True):
        first = tasks.invite_delivered_jobs()
        second = tasks.invite_delivered_jobs()

    assert first == {"invited": 1, "no_email": 0, "opted_out": 0}
    assert second == {"invited": 0, "no_email": 0, "opted_out": 0}
    invitation = SurveyInvitation.objects.get(job=job)
    assert invitation.send_status == SurveyInvitation.SendStatus.SENT
    assert invitation.attempts == 1 and invitation.sent_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [job.customer.email]
    assert JobEvent.objects.filter(job=job, kind=JobEvent.Kind.SURVEY_SENT).count() == 1


def test_a_job_delivered_less_than_the_delay_ago_is_not_invited_yet(make_delivered_job, settings):
    settings.SURVEY_DELAY_HOURS = 24
    job = make_delivered_job(delivered_ago=timedelta(hours=23))

    assert services.invite_delivered_jobs() == {"invited": 0, "no_email": 0, "opted_out": 0}
    assert not SurveyInvitation.objects.filter(job=job).exists()

    later = timezone.now() + timedelta(hours=2)
    assert services.invite_delivered_jobs(now=later)["invited"] == 1


def test_jobs_not_delivered_or_delivered_long_ago_are_not_invited(make_delivered_job, settings):
    settings.SURVEY_VALID_DAYS = 30
    old = make_delivered_job(delivered_ago=timedelta(days=31))
    open_job = make_delivered_job()
    open_job.status = "ready"
    open_job.save(update_fields=["status"])

    assert services.invite_delivered_jobs()["invited"] == 0
    assert not SurveyInvitation.objects.filter(job__in=[old, open_job]).exists()


def test_customers_without_email_or_who_opted_out_are_skipped_and_counted(make_delivered_job, on_commit):
    no_email = make_delivered_job(email="")
    opted = make_delivered_job()
    SurveyOptOut.objects.create(customer=opted.customer)
    invited = make_delivered_job()

    with on_commit(execute=True):
        counts = services.invite_delivered_jobs()

    assert counts == {"invited": 1, "no_email": 1, "opted_out": 1}
    rows = {row.job_id: row for row in SurveyInvitation.objects.all()}
    assert rows[no_email.pk].send_status == SurveyInvitation.SendStatus.SKIPPED
    assert rows[no_email.pk].skip_reason == SkipReason.NO_EMAIL
    assert rows[opted.pk].skip_reason == SkipReason.OPTED_OUT
    assert rows[invited.pk].send_status == SurveyInvitation.SendStatus.SENT
    assert [message.to for message in mail.outbox] == [[invited.customer.email]]
    # Handled once: the skipped jobs are not reconsidered on the next run.
    assert services.invite_delivered_jobs() == {"invited": 0, "no_email": 0, "opted_out": 0}


def test_a_customer_who_opted_out_is_never_invited_again(make_delivered_job, customer, sales_rep, advisor, on_commit):
    first = make_delivered_job(customer=customer)
    with on_commit(execute=True):
        services.invite_delivered_jobs()
    services.opt_out(SurveyInvitation.objects.get(job=first))

    delivered_job(customer=customer, sales_owner=sales_rep, advisor=advisor)
    counts = services.invite_delivered_jobs()

    assert counts == {"invited": 0, "no_email": 0, "opted_out": 1}
    assert len(mail.outbox) == 1


def test_the_email_is_in_the_customers_language_with_a_survey_link_and_a_one_click_opt_out(
    make_delivered_job, on_commit
):
    english = make_delivered_job(language="en")
    japanese = make_delivered_job(language="ja")

    with on_commit(execute=True):
        services.invite_delivered_jobs()

    sent = {message.to[0]: message for message in mail.outbox}
    for job, language in ((english, "en"), (japanese, "ja")):
        message = sent[job.customer.email]
        invitation = SurveyInvitation.objects.get(job=job)
        assert message.extra_headers["Content-Language"] == language
        html = message.alternatives[0][0]
        assert f'<html lang="{language}">' in html
        survey = f"http://testserver{services.survey_path(invitation)}"
        stop = f"http://testserver{services.opt_out_path(invitation)}"
        assert survey in message.body and f'href="{survey}"' in html
        assert stop in message.body
        assert message.extra_headers["List-Unsubscribe"] == f"<{stop}>"
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert invitation.language == language
    assert "Answer the survey" in sent[english.customer.email].body


def test_the_email_is_never_sent_twice_for_one_invitation(invitation):
    SurveyInvitation.objects.filter(pk=invitation.pk).update(send_status=SurveyInvitation.SendStatus.PENDING)

    assert outbox.claim(SurveyInvitation, invitation.pk) is True
    assert outbox.claim(SurveyInvitation, invitation.pk) is False
    assert services.send_survey_email(invitation.pk) == "not-pending"
    assert mail.outbox == []


def test_an_smtp_failure_keeps_the_row_pending_with_backoff_then_fails_after_five_attempts(
    make_delivered_job, monkeypatch, settings
):
    settings.EMAIL_RETRY_BASE_SECONDS = 30
    job = make_delivered_job()
    invitation, _ = services.create_invitation(job, deliver=False)

    def refuse(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(services, "send_templated_email", refuse)
    with pytest.raises(outbox.RetryLater) as retry:
        services.send_survey_email(invitation.pk)
    invitation.refresh_from_db()
    assert retry.value.countdown == 30
    assert invitation.send_status == SurveyInvitation.SendStatus.PENDING
    assert invitation.attempts == 1 and "connection refused" in invitation.last_error
    assert invitation.next_attempt_at > timezone.now() + timedelta(seconds=25)

    for expected in (60, 120, 240):
        with pytest.raises(outbox.RetryLater) as retry:
            services.send_survey_email(invitation.pk)
        assert retry.value.countdown == expected
    assert services.send_survey_email(invitation.pk) == "failed"
    invitation.refresh_from_db()
    assert invitation.send_status == SurveyInvitation.SendStatus.FAILED and invitation.attempts == 5
    assert not JobEvent.objects.filter(job=job, kind=JobEvent.Kind.SURVEY_SENT).exists()


def test_an_email_that_went_out_after_the_sweeper_gave_up_on_its_worker_is_on_the_timeline_once(
    make_delivered_job, monkeypatch
):
    job = make_delivered_job()
    invitation, _ = services.create_invitation(job, deliver=False)

    def send_while_the_sweeper_gives_up(*args, **kwargs):
        SurveyInvitation.objects.filter(pk=invitation.pk).update(send_status=SurveyInvitation.SendStatus.FAILED)

    monkeypatch.setattr(services, "send_templated_email", send_while_the_sweeper_gives_up)

    assert services.send_survey_email(invitation.pk) == "sent"
    invitation.refresh_from_db()
    assert invitation.send_status == SurveyInvitation.SendStatus.SENT
    services.record_survey_sent(invitation)
    assert JobEvent.objects.filter(job=job, kind=JobEvent.Kind.SURVEY_SENT).count() == 1


def test_the_sweeper_enqueues_pending_rows_and_returns_stuck_ones(make_delivered_job, settings):
    settings.EMAIL_SWEEP_GRACE_SECONDS = 30
    settings.EMAIL_CLAIM_TIMEOUT_SECONDS = 600
    lost, fresh, stuck = (make_delivered_job() for _ in range(3))
    long_ago = timezone.now() - timedelta(hours=1)
    for job in (lost, fresh, stuck):
        services.create_invitation(job, deliver=False)
    SurveyInvitation.objects.filter(job__in=[lost, stuck]).update(created_at=long_ago)
    SurveyInvitation.objects.filter(job=stuck).update(
        send_status=SurveyInvitation.SendStatus.SENDING, claimed_at=long_ago, attempts=1
    )

    assert tasks.sweep_pending_survey_emails() == 2

    status = dict(SurveyInvitation.objects.values_list("job_id", "send_status"))
    assert status == {
        lost.pk: SurveyInvitation.SendStatus.SENT,
        stuck.pk: SurveyInvitation.SendStatus.SENT,
        fresh.pk: SurveyInvitation.SendStatus.PENDING,
    }
    assert sorted(message.to[0] for message in mail.outbox) == sorted([lost.customer.email, stuck.customer.email])
    assert tasks.sweep_pending_survey_emails() == 0


def test_a_link_signed_with_another_salt_or_tampered_is_refused(invitation):
    from django.core import signing

    good = services.survey_path(invitation).split("/")[-2]
    assert services.invitation_from_link(good).pk == invitation.pk
    with pytest.raises(services.BadSurveyLink):
        services.invitation_from_link(signing.Signer(salt="repairs.status-link").sign(invitation.token))
    with pytest.raises(services.BadSurveyLink):
        services.invitation_from_link(good[:-1] + ("A" if good[-1] != "A" else "B"))
    with pytest.raises(services.UnknownSurveyLink):
        services.invitation_from_link(services.survey_signer().sign("no-such-token"))


def test_opting_out_stops_the_customers_pending_invitations(make_delivered_job, customer, sales_rep, advisor):
    first = delivered_job(customer=customer, sales_owner=sales_rep, advisor=advisor)
    second = delivered_job(customer=customer, sales_owner=sales_rep, advisor=advisor)
    one, _ = services.create_invitation(first, deliver=False)
    two, _ = services.create_invitation(second, deliver=False)

    services.opt_out(one)
    services.opt_out(one)

    assert SurveyOptOut.objects.filter(customer=customer).count() == 1
    two.refresh_from_db()
    assert two.send_status == SurveyInvitation.SendStatus.SKIPPED and two.skip_reason == SkipReason.OPTED_OUT
    assert services.send_survey_email(two.pk) == "not-pending"


def test_a_customer_factory_without_email_really_has_none(branch):
    assert CustomerFactory(branch=branch, email="").email == ""


@pytest.mark.parametrize(
    ("kind", "intro"),
    [
        ("survey_low_score", "A customer answered the survey with a low score."),
        ("voice_assigned", "A customer voice item is now yours."),
        ("voice_updated", "A customer voice item you are on changed."),
    ],
)
def test_each_staff_kind_of_customer_voice_has_its_own_email(kind, intro, branch, mailoutbox):
    from dealership.emails import send_notification_email
    from dealership.models import Notification
    from tests.factories import UserFactory

    recipient = UserFactory(branch=branch, language="en")
    notification = Notification.objects.create(
        recipient=recipient, kind=kind, template="R-1 Prius", url="/voice/items/1/"
    )

    send_notification_email(notification)

    message = mailoutbox[0]
    assert intro in message.body and "http://testserver/voice/items/1/" in message.body
    assert message.subject.startswith("[Dealership Portal] [") and "R-1 Prius" in message.subject
    assert '<html lang="en">' in message.alternatives[0][0]
