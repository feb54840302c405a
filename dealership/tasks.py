"""Background work of the core: e-mail delivery of notifications and its sweeper.

Tasks take ids, never model instances, and are idempotent: the conditional
UPDATE in `claim_for_email` lets exactly one worker send a given e-mail.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from .emails import send_notification_email
from .models import Notification

logger = logging.getLogger(__name__)

MAX_EMAIL_ATTEMPTS = 5
# Errors worth another try: the SMTP server or the network misbehaved.
TRANSIENT_ERRORS = (smtplib.SMTPException, OSError)


def claim_for_email(notification_id: int) -> bool:
    """Move one row pending → sending; True only for the worker that won it.

    The attempt is counted at the claim, so a send that kills its worker
    every time still runs out of attempts and ends `failed`.
    """
    return bool(
        Notification.objects.filter(pk=notification_id, email_status=Notification.EmailStatus.PENDING).update(
            email_status=Notification.EmailStatus.SENDING,
            claimed_at=timezone.now(),
            email_attempts=F("email_attempts") + 1,
        )
    )


# Attempts are counted on the row (not by Celery), so a chain restarted by the
# sweeper does not get a fresh allowance.
@shared_task(bind=True, max_retries=None)
def deliver_notification(self, notification_id: int) -> str:
    if not claim_for_email(notification_id):
        return "not-pending"
    notification = Notification.objects.select_related("recipient", "actor").get(pk=notification_id)
    try:
        send_notification_email(notification)
    except TRANSIENT_ERRORS as exc:
        error = f"{type(exc).__name__}: {exc}"
        rows = Notification.objects.filter(pk=notification_id)
        if notification.email_attempts >= MAX_EMAIL_ATTEMPTS:
            rows.update(email_status=Notification.EmailStatus.FAILED, email_error=error)
            logger.error(
                "Notification %s e-mail failed after %s attempts: %s", notification_id, MAX_EMAIL_ATTEMPTS, error
            )
            return "failed"
        countdown = settings.EMAIL_RETRY_BASE_SECONDS * 2 ** (notification.email_attempts - 1)
        rows.update(
            email_status=Notification.EmailStatus.PENDING,
            email_error=error,
            next_attempt_at=timezone.now() + timedelta(seconds=countdown),
        )
        raise self.retry(exc=exc, countdown=countdown) from exc
    Notification.objects.filter(pk=notification_id).update(
        email_status=Notification.EmailStatus.SENT, email_sent_at=timezone.now(), next_attempt_at=None
    )
    return "sent"


@shared_task
def sweep_pending_notifications() -> int:
    """Re-enqueue e-mails whose delivery never started or whose worker died.

    A row still `pending` a little while after it was written missed its
    enqueue (broker down at commit time). A row stuck in `sending` past the
    claim timeout belongs to a worker that died mid-send: it goes back to
    pending. That window is the only place an e-mail could be sent twice,
    which we prefer to losing it.
    """
    now = timezone.now()
    grace = timedelta(seconds=settings.EMAIL_SWEEP_GRACE_SECONDS)
    stuck = Notification.objects.filter(
        email_status=Notification.EmailStatus.SENDING,
        claimed_at__lt=now - timedelta(seconds=settings.EMAIL_CLAIM_TIMEOUT_SECONDS),
    )
    stuck.filter(email_attempts__gte=MAX_EMAIL_ATTEMPTS).update(
        email_status=Notification.EmailStatus.FAILED, email_error="The worker stopped during every attempt."
    )
    stuck.update(email_status=Notification.EmailStatus.PENDING)
    ids = list(
        Notification.objects.filter(email_status=Notification.EmailStatus.PENDING, created_at__lt=now - grace)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=now - grace))
        .values_list("pk", flat=True)[:1000]
    )
    for notification_id in ids:
        deliver_notification.delay(notification_id)
    return len(ids)
