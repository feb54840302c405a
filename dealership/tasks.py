"""Background work of the core: e-mail delivery of notifications and its sweeper.

Thin adapters around `dealership.outbox`, which claims, sends, backs off and
sweeps the same way for every outbox message. Tasks take ids, never model
instances, and are idempotent.
"""

from __future__ import annotations

from celery import shared_task

from . import outbox
from .emails import send_notification_email
from .models import Notification


# Attempts are counted on the row (not by Celery), so a chain restarted by the
# sweeper does not get a fresh allowance.
@shared_task(bind=True, max_retries=None)
def deliver_notification(self, notification_id: int) -> str:
    try:
        return outbox.deliver(Notification, notification_id, send_notification_email, related=["recipient", "actor"])
    except outbox.RetryLater as later:
        raise self.retry(exc=later, countdown=later.countdown) from later


@shared_task
def sweep_pending_notifications() -> int:
    """Re-enqueue e-mails whose delivery never started or whose worker died (see `outbox.sweep`)."""
    return outbox.sweep(Notification)
