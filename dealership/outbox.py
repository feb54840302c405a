"""The outbox, written once: how a message row (`OutboxMessage`) leaves the portal.

Every kind of message goes the same way — staff e-mails
(`dealership.Notification`), survey e-mails (`feedback.SurveyInvitation`) and
the customer messages that come next:

1. The row is written in the transaction of the change that caused it, as
   `pending`, and `enqueue_on_commit` hands its id to the model's delivery
   task once that transaction has committed.
2. The task calls `deliver()`: a conditional UPDATE (pending → sending)
   claims the row for exactly one worker and counts the attempt; the kind's
   own `send` function sends it; the row is marked `sent`. A transient error
   puts it back to `pending` with an exponential backoff (the task retries it,
   see `RetryLater`); after `MAX_ATTEMPTS` it ends `failed` with the error.
3. The beat task calls `sweep()`: a row still `pending` after the grace period
   missed its enqueue (broker down at commit time) and is enqueued again; a
   row stuck in `sending` past the claim timeout belongs to a worker that died
   mid-send and goes back to `pending` (or `failed`, if that was its last
   attempt). That window is the only place a message could be sent twice,
   which we prefer to losing it.

Tasks take ids and are idempotent: a second run finds the row no longer
pending and returns "not-pending". The timings are the `EMAIL_*` settings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import OutboxMessage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Errors worth another try: the mail server or the network misbehaved
# (smtplib.SMTPException and socket errors are OSErrors). Anything else is a
# bug, which Celery reports, and the sweeper retries the row later.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (OSError,)

Status = OutboxMessage.SendStatus
M = TypeVar("M", bound=OutboxMessage)


class RetryLater(Exception):
    """The send failed transiently and attempts remain: retry after `countdown` seconds.

    The row is already back to `pending` with `next_attempt_at` set; the
    Celery task turns this into `self.retry(countdown=...)`.
    """

    def __init__(self, countdown: int, error: str) -> None:
        super().__init__(error)
        self.countdown = countdown


def enqueue(model: type[OutboxMessage], ids: Iterable[int]) -> None:
    """Hand each row to the model's delivery task; a broker failure leaves it pending for the sweeper."""
    task = import_string(model.delivery_task)
    for pk in ids:
        try:
            task.delay(pk)
        except Exception:
            logger.warning("Broker unavailable; %s %s stays pending", model._meta.label, pk, exc_info=True)


def enqueue_on_commit(model: type[OutboxMessage], ids: Sequence[int]) -> None:
    """`enqueue` once the current transaction commits (at once outside one); nothing if it rolls back."""
    ids = list(ids)
    if ids:
        transaction.on_commit(lambda: enqueue(model, ids))


def claim(model: type[OutboxMessage], pk: int) -> bool:
    """Move one row pending → sending; True only for the worker that won it.

    The attempt is counted here, at the claim, so a send that kills its
    worker every time still runs out of attempts and ends `failed`.
    """
    return bool(
        model._default_manager.filter(pk=pk, send_status=Status.PENDING).update(
            send_status=Status.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1
        )
    )


def deliver(
    model: type[M],
    pk: int,
    send: Callable[[M], object],
    *,
    related: Sequence[str] = (),
    on_sent: Callable[[M], object] | None = None,
) -> str:
    """Claim one row, `send(row)` it and mark it sent (with `on_sent`, see `mark_sent`).

    Returns "not-pending" when another worker has the row or it is done or
    skipped, "sent", or "failed" after the last attempt. Raises `RetryLater`
    with the backoff when the send failed transiently and attempts remain.
    `related` is what `send` reads through the row (for `select_related`).
    """
    if not claim(model, pk):
        return "not-pending"
    rows = model._default_manager.all()
    row = (rows.select_related(*related) if related else rows).get(pk=pk)
    try:
        send(row)
    except TRANSIENT_ERRORS as exc:
        error = f"{type(exc).__name__}: {exc}"
        rows = model._default_manager.filter(pk=pk)
        if row.attempts >= MAX_ATTEMPTS:
            rows.update(send_status=Status.FAILED, last_error=error)
            logger.error("%s %s failed after %s attempts: %s", model._meta.label, pk, row.attempts, error)
            return "failed"
        countdown = settings.EMAIL_RETRY_BASE_SECONDS * 2 ** (row.attempts - 1)
        rows.update(
            send_status=Status.PENDING,
            last_error=error,
            next_attempt_at=timezone.now() + timedelta(seconds=countdown),
        )
        raise RetryLater(countdown, error) from exc
    mark_sent(row, on_sent=on_sent)
    return "sent"


def mark_sent(row: M, *, at: datetime | None = None, on_sent: Callable[[M], object] | None = None) -> bool:
    """Mark `row` sent, once; True for the call that did it.

    That call also runs `on_sent(row)` in the same transaction (the survey
    puts "survey sent" on the job's timeline). A pending or sending row
    becomes sent, and so does a failed one: the sweeper may have given up on
    a worker that did finish. A skipped or already sent row is left alone,
    so `on_sent` runs once per row.
    """
    now = at or timezone.now()
    with transaction.atomic():
        won = (
            type(row)
            ._default_manager.filter(pk=row.pk, send_status__in=[Status.PENDING, Status.SENDING, Status.FAILED])
            .update(send_status=Status.SENT, sent_at=now, next_attempt_at=None, last_error="")
        )
        if not won:
            return False
        row.send_status, row.sent_at, row.next_attempt_at, row.last_error = Status.SENT, now, None, ""
        if on_sent is not None:
            on_sent(row)
    return True


def sweep(model: type[OutboxMessage], *, now: datetime | None = None) -> int:
    """Free the rows dead workers left in `sending` and re-enqueue the forgotten pending ones; returns how many."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.EMAIL_SWEEP_GRACE_SECONDS)
    rows = model._default_manager
    stuck = rows.filter(
        send_status=Status.SENDING,
        claimed_at__lt=now - timedelta(seconds=settings.EMAIL_CLAIM_TIMEOUT_SECONDS),
    )
    stuck.filter(attempts__gte=MAX_ATTEMPTS).update(
        send_status=Status.FAILED, last_error="The worker stopped during every attempt."
    )
    stuck.update(send_status=Status.PENDING)
    ids = list(
        rows.filter(send_status=Status.PENDING, created_at__lt=now - grace)
        # A row waiting out its backoff belongs to its task's own retry.
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=now - grace))
        .values_list("pk", flat=True)[:1000]
    )
    enqueue(model, ids)
    return len(ids)


def retry_failed(model: type[OutboxMessage], ids: Iterable[int]) -> int:
    """Send failed rows again (an admin action): failed → pending with a fresh allowance, enqueued after commit.

    Returns how many rows were failed and now wait again.
    """
    with transaction.atomic():
        failed = list(
            model._default_manager.select_for_update()
            .filter(pk__in=list(ids), send_status=Status.FAILED)
            .values_list("pk", flat=True)
        )
        model._default_manager.filter(pk__in=failed).update(
            send_status=Status.PENDING, attempts=0, next_attempt_at=None
        )
        enqueue_on_commit(model, failed)
    return len(failed)
