"""notify(): the one way to tell someone something.

Callers run it inside the transaction of the change that caused it, so the
notification rows commit or roll back together with that change (a
transactional outbox). E-mail delivery is enqueued only after commit; if the
broker is down at that moment the row simply stays `pending` and the sweeper
(`dealership.tasks.sweep_pending_notifications`) enqueues it later.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone, translation

from .models import Notification

logger = logging.getLogger(__name__)


def notify(
    recipients: Iterable[Any],
    kind: str,
    *,
    actor: Any | None,
    target: models.Model | None,
    text: Any,
) -> list[Notification]:
    """Write one notification per recipient (never the actor) and enqueue e-mails.

    `text` is a lazy translatable string; it is rendered in each recipient's
    own language. `target` must have `get_absolute_url()`.
    """
    seen: set[int] = set()
    rows: list[Notification] = []
    target_type = ContentType.objects.get_for_model(target) if target is not None else None
    url = target.get_absolute_url() if target is not None else ""
    for recipient in recipients:
        if recipient is None or recipient.pk in seen or not recipient.is_active:
            continue
        if actor is not None and recipient.pk == actor.pk:
            continue
        seen.add(recipient.pk)
        with translation.override(recipient.language):
            rendered = str(text)
        wants_email = bool(recipient.email) and recipient.wants_email(kind)
        rows.append(
            Notification(
                recipient=recipient,
                actor=actor,
                kind=kind,
                text=rendered[:500],
                url=url,
                target_type=target_type,
                target_id=target.pk if target is not None else None,
                email_status=Notification.EmailStatus.PENDING if wants_email else Notification.EmailStatus.SKIPPED,
            )
        )
    if not rows:
        return []
    created = Notification.objects.bulk_create(rows)
    # The bell's ETag follows this marker on the (already loaded) user row.
    get_user_model().objects.filter(pk__in=seen).update(notifications_changed_at=timezone.now())
    pending_ids = [n.pk for n in created if n.email_status == Notification.EmailStatus.PENDING]
    if pending_ids:
        transaction.on_commit(lambda: enqueue_email_delivery(pending_ids))
    return created


def enqueue_email_delivery(notification_ids: Iterable[int]) -> None:
    """Hand e-mail delivery to Celery; a broker failure leaves the rows pending."""
    from .tasks import deliver_notification

    for notification_id in notification_ids:
        try:
            deliver_notification.delay(notification_id)
        except Exception:
            logger.warning("Broker unavailable; notification %s stays pending", notification_id, exc_info=True)
