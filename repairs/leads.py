"""Service → sales leads: the workshop tips sales off about a customer.

A technician or an advisor flags a lead on a job (a costly repair on an old
car, a customer who asked about new models…); the sales owner hears of it
and says what became of it, and whoever flagged it hears the outcome.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from dealership.i18n import gettext_lazy as _
from dealership.models import Notification
from dealership.notifications import notify

from . import permissions
from .models import JobEvent, RepairJob, SalesLead
from .services import JobError, record_event, refuse_finished


def flag_sales_lead(job: RepairJob, *, by: User, reason: str, note: str = "", at: datetime | None = None) -> SalesLead:
    """The workshop tips sales off; the sales owner (or, without one, the managers) hears of it."""
    if not permissions.can_flag_lead(by, job):
        raise PermissionDenied(permissions.REFUSED_LEAD_FLAG)
    refuse_finished(job)
    if reason not in SalesLead.Reason.values:
        raise JobError(_("Choose a reason from the list."))
    note = note.strip()[:500]
    if reason == SalesLead.Reason.OTHER and not note:
        raise JobError(_("Say what the opportunity is."))
    now = at or timezone.now()
    owner = job.sales_owner or job.customer.sales_owner
    with transaction.atomic():
        lead = SalesLead.objects.create(
            job=job,
            branch_id=job.branch_id,
            customer=job.customer,
            flagged_by=by,
            owner=owner,
            reason=reason,
            note=note,
            created_at=now,
            updated_at=now,
        )
        record_event(
            job, kind=JobEvent.Kind.LEAD_FLAGGED, by=by, at=now, note=note, reason=SalesLead.Reason(reason).label
        )
        recipients = (
            [owner] if owner else list(User.objects.filter(branch_id=job.branch_id, role=Role.MANAGER, is_active=True))
        )
        notify(
            recipients,
            Notification.Kind.SALES_LEAD,
            actor=by,
            target=lead,
            text=_("{name} flagged a lead on {number} {vehicle}: {reason}. {note}"),
            args={
                "name": by.display_name,
                "number": job.number,
                "vehicle": str(job.vehicle),
                "reason": SalesLead.Reason(reason).label,
                "note": note[:200],
            },
        )
    return lead


def update_lead(lead, *, by: User, status: str, outcome_note: str = "", at: datetime | None = None) -> SalesLead:
    """Sales says what became of a lead; whoever flagged it hears the outcome."""
    if not permissions.can_update_lead(by, lead):
        raise PermissionDenied(permissions.REFUSED_LEAD_UPDATE)
    if status not in SalesLead.State.values:
        raise JobError(_("Choose a status from the list."))
    outcome_note = outcome_note.strip()[:500]
    if status == lead.status and outcome_note == lead.outcome_note:
        return lead
    now = at or timezone.now()
    with transaction.atomic():
        SalesLead.objects.filter(pk=lead.pk).update(status=status, outcome_note=outcome_note, updated_at=now)
        lead.status, lead.outcome_note, lead.updated_at = status, outcome_note, now
        job = lead.job
        record_event(
            job,
            kind=JobEvent.Kind.LEAD_UPDATED,
            by=by,
            at=now,
            note=outcome_note,
            reason=SalesLead.Reason(lead.reason).label,
            status=SalesLead.State(status).label,
        )
        notify(
            [lead.flagged_by],
            Notification.Kind.LEAD_UPDATED,
            actor=by,
            target=lead,
            text=_("Your lead on {number} ({reason}) is now {status}. {outcome}"),
            args={
                "number": job.number,
                "reason": SalesLead.Reason(lead.reason).label,
                "status": SalesLead.State(status).label,
                "outcome": outcome_note[:200],
            },
        )
    return lead
