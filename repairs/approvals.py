"""The customer's approval of extra work, asked through sales.

A technician finds extra work and asks (`request_approval`: the job waits
for approval, the sales owner gets an urgent alert); sales calls the
customer and records the answer (`record_approval_decision`: the job goes
back to work); a request left undecided reminds them once
(`remind_undecided_approvals`, a beat task). Each write is one atomic door
like the job's own (repairs.services).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import format_lazy

from accounts.models import Role, User
from dealership import versions
from dealership.i18n import gettext_lazy as _
from dealership.models import Notification
from dealership.notifications import notify

from . import permissions
from .images import Photo
from .models import (
    FINISHED_STATUSES,
    MAX_ESTIMATE_YEN,
    OPEN_APPROVAL_STATUSES,
    ApprovalRequest,
    JobEvent,
    RepairJob,
    Status,
)
from .services import JobError, advisors_for, change_status, post_message, record_event, refuse_finished


def parse_estimate(value: object) -> int:
    """Whole yen, tax included, 1 … ¥10,000,000; anything else is refused with a message.

    Accepts what people type ("35000", "35,000", "¥35,000", full-width
    digits); refuses fractions, zero, negatives and absurd amounts.
    """
    if isinstance(value, bool):
        raise JobError(_("Enter the estimate in whole yen, tax included."))
    if isinstance(value, int):
        amount = value
    else:
        text = str(value or "").strip()
        text = text.translate(str.maketrans("０１２３４５６７８９，．－", "0123456789,.-"))
        text = text.replace(",", "").replace("¥", "").replace("円", "").replace("￥", "").strip()
        if not re.fullmatch(r"-?\d{1,12}", text):
            raise JobError(_("Enter the estimate in whole yen, tax included (for example 35000)."))
        amount = int(text)
    if amount <= 0:
        raise JobError(_("The estimate must be more than ¥0."))
    if amount > MAX_ESTIMATE_YEN:
        raise JobError(
            format_lazy(
                _("An estimate above ¥{limit} cannot be right: check the amount."), limit=f"{MAX_ESTIMATE_YEN:,}"
            )
        )
    return amount


def approval_deciders(job: RepairJob) -> list[User]:
    """Who is asked for the customer's answer: the sales owner, else the branch's advisors."""
    owner = job.sales_owner or job.customer.sales_owner
    if owner is not None and owner.is_active:
        return [owner]
    return list(User.objects.filter(branch_id=job.branch_id, role=Role.SERVICE_ADVISOR, is_active=True))


def request_approval(
    job: RepairJob,
    *,
    by: User,
    work: str,
    estimate_yen: object,
    reason: str = "",
    photos: list[Photo] | tuple = (),
    at: datetime | None = None,
) -> ApprovalRequest:
    """The workshop found extra work: ask the customer through sales.

    The job goes to awaiting approval through `change_status`; the photos
    are posted on the thread (one message) and linked; the sales owner (or,
    without one, the branch's advisors) gets an urgent alert.
    """
    if not permissions.can_request_approval(by, job):
        raise PermissionDenied(permissions.REFUSED_APPROVAL_REQUEST)
    refuse_finished(job)
    work = work.strip()
    if not work:
        raise JobError(_("Say what the extra work is."))
    amount = parse_estimate(estimate_yen)
    if Status.AWAITING_APPROVAL not in job.allowed_next_statuses:
        raise JobError(
            format_lazy(
                _("A job that is “{status}” cannot wait for approval: move it to diagnosing or in progress first."),
                status=job.get_status_display(),
            )
        )
    now = at or timezone.now()
    deciders = approval_deciders(job)
    with transaction.atomic():
        change_status(
            job,
            to=Status.AWAITING_APPROVAL,
            by=by,
            note=work[:200],
            expected_version=job.version,
            at=now,
            quiet=True,
        )
        message = None
        if photos:
            message = post_message(
                job,
                by=by,
                body=str(format_lazy(_("Photos for the approval request: {work}"), work=work[:150])),
                photos=photos,
                told_otherwise=deciders,  # the urgent alert below links the photos
            )
        approval = ApprovalRequest.objects.create(
            job=job,
            requested_by=by,
            work=work[:200],
            reason=reason.strip()[:2000],
            estimate_yen=amount,
            message=message,
            requested_at=now,
        )
        record_event(
            job,
            kind=JobEvent.Kind.APPROVAL_REQUESTED,
            by=by,
            at=now,
            note=reason.strip(),
            work=approval.work,
            estimate=f"{amount:,}",
            approval=approval.pk,
        )
        notify(
            deciders,
            Notification.Kind.APPROVAL_REQUESTED,
            actor=by,
            target=approval,
            text=_(
                "Urgent: {number} {vehicle} needs the customer's approval for {work} (¥{estimate}). "
                "Please call the customer."
            ),
            args={"number": job.number, "vehicle": str(job.vehicle), "work": approval.work, "estimate": f"{amount:,}"},
        )
    return approval


class AlreadyDecided(JobError):
    pass


def record_approval_decision(
    approval: ApprovalRequest,
    *,
    by: User,
    decision: str,
    contact_method: str = "",
    note: str = "",
    at: datetime | None = None,
) -> ApprovalRequest:
    """Record what the customer said. Approved or declined: the job goes back to work
    (declined: without the extra work). Could not reach: stays open, try again later.

    The conditional UPDATE on an open status lets exactly one final decision
    win; the loser is told who decided and when.
    """
    Decision = ApprovalRequest.Decision
    job = approval.job
    if not permissions.can_decide_approval(by, job):
        raise PermissionDenied(permissions.REFUSED_APPROVAL_DECISION)
    if decision not in (Decision.APPROVED, Decision.DECLINED, Decision.UNREACHABLE):
        raise JobError(_("Choose approved, declined or could not reach."))
    if contact_method and contact_method not in ApprovalRequest.ContactMethod.values:
        raise JobError(_("Choose how the customer was contacted."))
    note = note.strip()[:500]
    now = at or timezone.now()
    with transaction.atomic():
        if decision == Decision.UNREACHABLE:
            won = ApprovalRequest.objects.filter(pk=approval.pk, status__in=OPEN_APPROVAL_STATUSES).update(
                status=Decision.UNREACHABLE,
                attempts=F("attempts") + 1,
                last_attempt_at=now,
                contact_method=contact_method,
                decision_note=note,
            )
        else:
            seconds = max(0, int((now - approval.requested_at).total_seconds()))
            won = ApprovalRequest.objects.filter(pk=approval.pk, status__in=OPEN_APPROVAL_STATUSES).update(
                status=decision,
                decided_by=by,
                decided_at=now,
                response_seconds=seconds,
                contact_method=contact_method,
                decision_note=note,
            )
        if not won:
            raise _already_decided(approval)
        approval.refresh_from_db()
        contact = (
            ApprovalRequest.ContactMethod(contact_method).label if contact_method else _("no contact method given")
        )
        if decision != Decision.UNREACHABLE and job.status == Status.AWAITING_APPROVAL:
            change_status(
                job,
                to=Status.IN_PROGRESS,
                by=by,
                note=str(Decision(decision).label),
                expected_version=None,
                at=now,
                authorised=True,
                quiet=True,
            )
        record_event(
            job,
            kind=JobEvent.Kind.APPROVAL_DECIDED,
            by=by,
            at=now,
            note=note,
            work=approval.work,
            decision=Decision(decision).label,
            contact=contact,
            waited=approval.response_display,
            approval=approval.pk,
        )
        if decision == Decision.UNREACHABLE:
            text = _("{number} {vehicle}: {name} could not reach the customer about {work}; trying again later.")
        elif decision == Decision.APPROVED:
            text = _("{number} {vehicle}: the customer approved {work} (¥{estimate}). Go ahead.")
        else:
            text = _("{number} {vehicle}: the customer declined {work}. Continue without it.")
        notify(
            [job.technician, *advisors_for(job), approval.requested_by],
            Notification.Kind.APPROVAL_DECIDED,
            actor=by,
            target=approval,
            text=text,
            args={
                "number": job.number,
                "vehicle": str(job.vehicle),
                "work": approval.work,
                "estimate": f"{approval.estimate_yen:,}",
                "name": by.display_name,
            },
        )
    return approval


def _already_decided(approval: ApprovalRequest) -> AlreadyDecided:
    current = ApprovalRequest.objects.select_related("decided_by").get(pk=approval.pk)
    return AlreadyDecided(
        format_lazy(
            _("{name} already recorded “{decision}” at {time}. Nothing was overwritten."),
            name=current.decided_by.display_name if current.decided_by else _("someone"),
            decision=current.get_status_display(),
            time=timezone.localtime(current.decided_at).strftime("%m/%d %H:%M") if current.decided_at else "—",
        )
    )


def remind_undecided_approvals(*, now: datetime | None = None) -> int:
    """Alert the sales owner and the advisor once about approvals left undecided.

    Idempotent: the conditional UPDATE on `reminded_at IS NULL` claims each
    request, so a second run (or a second beat) reminds nobody twice.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.APPROVAL_REMINDER_MINUTES)
    due = (
        ApprovalRequest.objects.filter(
            status__in=OPEN_APPROVAL_STATUSES, reminded_at__isnull=True, requested_at__lte=cutoff
        )
        .exclude(job__status__in=FINISHED_STATUSES)
        .select_related("job", "job__vehicle", "job__customer__sales_owner", "job__sales_owner", "job__service_advisor")
    )
    sent = 0
    for approval in due:
        with transaction.atomic():
            if not ApprovalRequest.objects.filter(pk=approval.pk, reminded_at__isnull=True).update(reminded_at=now):
                continue
            job = approval.job
            # The approvals lists highlight a reminded request; nothing else shows it.
            versions.bump(f"approvals:{job.branch_id}", "approvals:all")
            notify(
                [*approval_deciders(job), *advisors_for(job)],
                Notification.Kind.APPROVAL_REMINDER,
                actor=None,
                target=approval,
                text=_(
                    "Still undecided after {minutes} min: {number} {vehicle}, {work} (¥{estimate}). "
                    "The workshop is waiting."
                ),
                args={
                    "minutes": approval.waiting_minutes,
                    "number": job.number,
                    "vehicle": str(job.vehicle),
                    "work": approval.work,
                    "estimate": f"{approval.estimate_yen:,}",
                },
            )
            sent += 1
    return sent
