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
from django.utils import timezone

from .emails import send_notification_email
from .models import Notification

logger = logging.getLogger(__name__)

MAX_EMAIL_ATTEMPTS = 5
# Errors worth another try: the SMTP server or the network misbehaved.
TRANSIENT_ERRORS = (smtplib.SMTPException, OSError)


def claim_for_email(notification_id: int) -> bool:
    """Move one row pending → sending; True only for the worker that won it."""
    return bool(
        Notification.objects.filter(pk=notification_id, email_status=Notification.EmailStatus.PENDING).update(
            email_status=Notification.EmailStatus.SENDING, claimed_at=timezone.now()
        )
    )


@shared_task(bind=True, max_retries=MAX_EMAIL_ATTEMPTS - 1)
def deliver_notification(self, notification_id: int) -> str:
    if not claim_for_email(notification_id):
        return "not-pending"
    notification = Notification.objects.select_related("recipient", "actor").get(pk=notification_id)
    attempts = notification.email_attempts + 1
    try:
        send_notification_email(notification)
    except TRANSIENT_ERRORS as exc:
        error = f"{type(exc).__name__}: {exc}"
        final = self.request.retries >= self.max_retries
        status = Notification.EmailStatus.FAILED if final else Notification.EmailStatus.PENDING
        Notification.objects.filter(pk=notification_id).update(
            email_status=status, email_attempts=attempts, email_error=error
        )
        if final:
            logger.error("Notification %s e-mail failed after %s attempts: %s", notification_id, attempts, error)
            return "failed"
        raise self.retry(exc=exc, countdown=settings.EMAIL_RETRY_BASE_SECONDS * 2**self.request.retries) from exc
    Notification.objects.filter(pk=notification_id).update(
        email_status=Notification.EmailStatus.SENT, email_attempts=attempts, email_sent_at=timezone.now()
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
    Notification.objects.filter(
        email_status=Notification.EmailStatus.SENDING,
        claimed_at__lt=now - timedelta(seconds=settings.EMAIL_CLAIM_TIMEOUT_SECONDS),
    ).update(email_status=Notification.EmailStatus.PENDING)
    ids = list(
        Notification.objects.filter(
            email_status=Notification.EmailStatus.PENDING,
            created_at__lt=now - timedelta(seconds=settings.EMAIL_SWEEP_GRACE_SECONDS),
        ).values_list("pk", flat=True)[:1000]
    )
    for notification_id in ids:
        deliver_notification.delay(notification_id)
    return len(ids)
