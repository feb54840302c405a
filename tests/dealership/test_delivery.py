"""The e-mail outbox's bookkeeping (the real worker and SMTP are in tests/reliability)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dealership.models import Notification
from dealership.notifications import notify
from dealership.outbox import MAX_ATTEMPTS
from dealership.tasks import deliver_notification, sweep_pending_notifications

pytestmark = pytest.mark.django_db


def rendered_for(reader, notification: Notification) -> str:
    from django.utils import translation

    with translation.override(reader.language):
        return notification.text


def row(recipient, **fields) -> Notification:
    defaults = {"kind": "message", "template": "テスト", "send_status": "pending"}
    return Notification.objects.create(recipient=recipient, **(defaults | fields))


def test_notify_writes_rows_in_each_language_and_sends_after_commit(
    sales_rep, technician, mailoutbox, django_capture_on_commit_callbacks
):
    from dealership.i18n import gettext_lazy as _

    technician.language = "en"
    technician.save()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        created = notify([sales_rep, technician, sales_rep], "message", actor=None, target=None, text=_("Home"))
        assert not mailoutbox  # nothing leaves before the transaction commits
    assert len(callbacks) >= 1
    # Stored once as the message id; each reader sees it in their own language.
    assert {n.template["t"][0] for n in created} == {"Home"}
    assert sorted(rendered_for(n.recipient, n) for n in created) == ["Home", "ホーム"]
    assert len(mailoutbox) == 2
    assert set(Notification.objects.values_list("send_status", flat=True)) == {"sent"}


def test_a_delivered_row_is_never_sent_again(sales_rep, mailoutbox):
    notification = row(sales_rep)
    assert deliver_notification.delay(notification.pk).get() == "sent"
    assert deliver_notification.delay(notification.pk).get() == "not-pending"
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert (notification.send_status, notification.attempts) == ("sent", 1)


def test_the_sweeper_sends_rows_left_pending_but_respects_a_backoff(sales_rep, settings, mailoutbox):
    settings.EMAIL_SWEEP_GRACE_SECONDS = 0
    forgotten = row(sales_rep, created_at=timezone.now() - timedelta(minutes=5))
    waiting = row(
        sales_rep,
        created_at=timezone.now() - timedelta(minutes=5),
        next_attempt_at=timezone.now() + timedelta(minutes=2),
    )
    assert sweep_pending_notifications() == 1
    assert Notification.objects.get(pk=forgotten.pk).send_status == "sent"
    assert Notification.objects.get(pk=waiting.pk).send_status == "pending"
    assert len(mailoutbox) == 1


def test_a_send_abandoned_by_a_dead_worker_is_retried_until_attempts_run_out(sales_rep, settings, mailoutbox):
    settings.EMAIL_CLAIM_TIMEOUT_SECONDS = 60
    settings.EMAIL_SWEEP_GRACE_SECONDS = 0
    long_ago = timezone.now() - timedelta(minutes=10)
    retried = row(sales_rep, send_status="sending", claimed_at=long_ago, attempts=1, created_at=long_ago)
    hopeless = row(sales_rep, send_status="sending", claimed_at=long_ago, attempts=MAX_ATTEMPTS, created_at=long_ago)
    recent = row(sales_rep, send_status="sending", claimed_at=timezone.now(), attempts=1, created_at=long_ago)
    sweep_pending_notifications()
    assert Notification.objects.get(pk=retried.pk).send_status == "sent"
    assert Notification.objects.get(pk=hopeless.pk).send_status == "failed"
    assert Notification.objects.get(pk=recent.pk).send_status == "sending"
    assert len(mailoutbox) == 1


def test_every_beat_entry_names_a_task_the_worker_registers(settings):
    from dealership.celery import app

    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name
