"""The customer's status link: a signed, expiring, revocable page of one job.

A sales rep (or an advisor, a manager) creates a link and sends it or shows
its QR code; the customer sees the customer-facing status, the model and a
masked plate without signing in (repairs.views_status_links.status_page)
until the link expires or is revoked.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from dealership.i18n import gettext_lazy as _
from dealership.models import Notification
from dealership.notifications import notify

from . import permissions
from .models import CustomerStatusLink, JobEvent, RepairJob, Status
from .services import JobError, record_event


def create_status_link(job: RepairJob, *, by: User, at: datetime | None = None) -> CustomerStatusLink:
    """A page the customer opens without signing in; earlier live links keep working until revoked."""
    if not permissions.can_manage_status_link(by, job):
        raise PermissionDenied(_("Only sales reps, advisors and managers share status links."))
    if job.status == Status.CANCELLED:
        raise JobError(_("This job was cancelled: there is nothing to show the customer."))
    now = at or timezone.now()
    with transaction.atomic():
        link = CustomerStatusLink.objects.create(job=job, created_by=by, created_at=now)
        record_event(job, kind=JobEvent.Kind.LINK_CREATED, by=by, at=now)
        notify(
            [job.sales_owner],
            Notification.Kind.STATUS_CHANGED,
            actor=by,
            target=job,
            text=_("{name} created a status link for the customer of {number} {vehicle}"),
            args={"name": by.display_name, "number": job.number, "vehicle": str(job.vehicle)},
        )
    return link


def revoke_status_link(link: CustomerStatusLink, *, by: User, at: datetime | None = None) -> CustomerStatusLink:
    """Stop a link at once (sent to the wrong person, car sold...)."""
    job = link.job
    if not permissions.can_manage_status_link(by, job):
        raise PermissionDenied(permissions.REFUSED_LINK_MANAGE)
    now = at or timezone.now()
    with transaction.atomic():
        if not CustomerStatusLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=by
        ):
            raise JobError(_("This link was already revoked."))
        link.revoked_at, link.revoked_by = now, by
        record_event(job, kind=JobEvent.Kind.LINK_REVOKED, by=by, at=now)
        notify(
            [job.sales_owner, link.created_by],
            Notification.Kind.STATUS_CHANGED,
            actor=by,
            target=job,
            text=_("{name} revoked the customer's status link of {number} {vehicle}"),
            args={"name": by.display_name, "number": job.number, "vehicle": str(job.vehicle)},
        )
    return link
