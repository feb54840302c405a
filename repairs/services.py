"""Writes on repair jobs. Each is one atomic door: validate, save changed fields,
record history, bump the branch's change marker and call `notify()`.

Nothing else assigns `job.status`, `job.technician` or `job.promised_at`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from dealership.models import Branch, Customer, Notification, Vehicle
from dealership.notifications import notify

from . import permissions
from .images import Photo
from .models import (
    INTERNAL_KINDS,
    PROMISE_KEPT_STATUSES,
    Attachment,
    CustomerStatus,
    JobMessage,
    JobReadMarker,
    PromiseChange,
    RepairJob,
    Status,
    StatusChange,
)


class JobError(Exception):
    """A refused write; `str(error)` is the message for the user."""


class IllegalTransition(JobError):
    pass


@dataclass
class StaleJob(JobError):
    """Someone else changed the job since the user loaded it."""

    job: RepairJob
    last_change: StatusChange | None

    def __str__(self) -> str:
        change = self.last_change
        if change is None:
            return str(_("This job was changed by someone else. Reload it and try again."))
        return str(
            format_lazy(
                _(
                    "{name} changed this job to “{status}” at {time}, after you opened it. "
                    "Nothing was overwritten: check the new state and try again."
                ),
                name=change.by.display_name if change.by else _("someone"),
                status=Status(change.to_status).label,
                time=timezone.localtime(change.at).strftime("%H:%M"),
            )
        )


def _job_number(job: RepairJob) -> str:
    return f"R-{timezone.localtime(job.created_at).year}-{job.pk:05d}"


def create_job(
    *,
    by: User,
    customer: Customer,
    vehicle: Vehicle,
    kind: str,
    title: str,
    customer_request: str = "",
    promised_at: datetime | None = None,
    priority: int = 3,
) -> RepairJob:
    if not permissions.can_create_job(by):
        raise PermissionDenied
    if vehicle.customer_id != customer.pk:
        raise JobError(_("This vehicle does not belong to the chosen customer."))
    if kind in INTERNAL_KINDS and promised_at is None:
        raise JobError(_("Internal requests need a due time."))
    now = timezone.now()
    with transaction.atomic():
        job = RepairJob.objects.create(
            branch_id=customer.branch_id,
            customer=customer,
            vehicle=vehicle,
            kind=kind,
            title=title,
            customer_request=customer_request,
            promised_at=promised_at,
            priority=priority,
            sales_owner=customer.sales_owner or (by if by.role == Role.SALES_REP else None),
            requested_by=by,
            service_advisor=by if by.role == Role.SERVICE_ADVISOR else None,
            received_at=now,
            created_at=now,
            updated_at=now,
        )
        job.number = _job_number(job)
        job.save(update_fields=["number"])
        StatusChange.objects.create(job=job, from_status="", to_status=Status.RECEIVED, by=by, at=now)
    return job


def change_status(job: RepairJob, *, to: str, by: User, note: str = "", expected_version: int | None) -> RepairJob:
    """Move a job to `to` if the transition table and the matrix allow it.

    The UPDATE is conditional on the version and the status the caller saw,
    so of two people acting on the same job at once exactly one wins; the
    other gets `StaleJob` naming who changed it to what.
    """
    if to not in Status.values:
        raise IllegalTransition(_("Unknown status."))
    if expected_version is not None and expected_version != job.version:
        raise StaleJob(job=job, last_change=_last_change(job))
    if to not in job.allowed_next_statuses:
        raise IllegalTransition(
            format_lazy(
                _("A job cannot go from “{current}” to “{target}”."),
                current=job.get_status_display(),
                target=Status(to).label,
            )
        )
    if not permissions.can_change_status(by, job, to):
        raise PermissionDenied(_("You may not move this job to that status."))
    now = timezone.now()
    fields = {"status": to, "updated_at": now, "version": F("version") + 1}
    if to == Status.READY:
        fields["ready_at"] = now
    if to == Status.DELIVERED:
        fields["delivered_at"] = now
    with transaction.atomic():
        won = RepairJob.objects.filter(pk=job.pk, version=job.version, status=job.status).update(**fields)
        if not won:
            raise StaleJob(job=job, last_change=_last_change(job))
        previous = job.status
        StatusChange.objects.create(job=job, from_status=previous, to_status=to, by=by, at=now, note=note[:500])
        Branch.touch(job.branch_id)
        job.status, job.updated_at, job.version = to, now, job.version + 1
        job.ready_at = fields.get("ready_at", job.ready_at)
        job.delivered_at = fields.get("delivered_at", job.delivered_at)
        notify(
            [job.sales_owner, job.requested_by],
            Notification.Kind.STATUS_CHANGED,
            actor=by,
            target=job,
            text=format_lazy(
                _("{number} {vehicle}: {status}"),
                number=job.number,
                vehicle=job.vehicle,
                status=CustomerStatus(job.customer_status).label,
            ),
        )
    return job


def _last_change(job: RepairJob) -> StatusChange | None:
    return StatusChange.objects.filter(job_id=job.pk).select_related("by").first()


def assign_technician(job: RepairJob, *, technician: User | None, by: User) -> RepairJob:
    if not permissions.can_assign(by, job):
        raise PermissionDenied
    if technician is not None and (
        technician.role != Role.TECHNICIAN or technician.branch_id != job.branch_id or not technician.is_active
    ):
        raise JobError(_("Choose an active technician of this branch."))
    if job.technician_id == (technician.pk if technician else None):
        return job
    now = timezone.now()
    with transaction.atomic():
        RepairJob.objects.filter(pk=job.pk).update(
            technician=technician, service_advisor=job.service_advisor or by, updated_at=now
        )
        Branch.touch(job.branch_id)
        job.technician, job.updated_at = technician, now
        if technician is not None:
            notify(
                [technician],
                Notification.Kind.JOB_ASSIGNED,
                actor=by,
                target=job,
                text=format_lazy(_("{number} {vehicle} was assigned to you"), number=job.number, vehicle=job.vehicle),
            )
    return job


def claim_job(job: RepairJob, *, by: User) -> RepairJob:
    """A technician takes an unassigned job; the conditional UPDATE lets one win."""
    if not permissions.can_claim(by, job):
        raise PermissionDenied(_("Only a technician can claim an unassigned job."))
    now = timezone.now()
    with transaction.atomic():
        won = RepairJob.objects.filter(pk=job.pk, technician__isnull=True).update(technician=by, updated_at=now)
        if not won:
            raise JobError(_("Someone else claimed this job a moment ago."))
        Branch.touch(job.branch_id)
    job.technician, job.updated_at = by, now
    return job


def change_promised_time(job: RepairJob, *, promised_at: datetime | None, reason: str, by: User) -> RepairJob:
    if not permissions.can_set_promise(by, job):
        raise PermissionDenied
    if not reason.strip():
        raise JobError(_("Say why the promised time changes: the customer will ask."))
    if job.promised_at == promised_at:
        return job
    now = timezone.now()
    with transaction.atomic():
        PromiseChange.objects.create(
            job=job, old_promised_at=job.promised_at, new_promised_at=promised_at, reason=reason, by=by, at=now
        )
        RepairJob.objects.filter(pk=job.pk).update(promised_at=promised_at, updated_at=now)
        Branch.touch(job.branch_id)
        job.promised_at, job.updated_at = promised_at, now
    return job


def intake(*, by: User, data: dict) -> RepairJob:
    """Create the job from the intake form, with a new customer and vehicle when asked.

    All or nothing: a refused job leaves no orphan customer or vehicle behind.
    """
    with transaction.atomic():
        customer = data.get("customer")
        if customer is None:
            customer = Customer.objects.create(
                branch_id=by.branch_id,
                name=data["new_customer_name"],
                name_kana=data.get("new_customer_kana", ""),
                phone=data.get("new_customer_phone", ""),
                email=data.get("new_customer_email", ""),
                sales_owner=by if by.role == Role.SALES_REP else None,
            )
        vehicle = data.get("vehicle")
        if vehicle is None:
            vehicle = Vehicle.objects.create(
                customer=customer,
                make=data["new_vehicle_make"],
                model=data["new_vehicle_model"],
                year=data.get("new_vehicle_year"),
                plate_number=data.get("new_vehicle_plate", ""),
            )
        return create_job(
            by=by,
            customer=customer,
            vehicle=vehicle,
            kind=data["kind"],
            title=data["title"],
            customer_request=data.get("customer_request", ""),
            promised_at=data.get("promised_at"),
            priority=data.get("priority", 3),
        )


def post_message(
    job: RepairJob,
    *,
    by: User,
    body: str,
    kind: str = JobMessage.Kind.NOTE,
    mentions: list[User] | tuple = (),
    photos: list[Photo] | tuple = (),
) -> JobMessage:
    """Post on a job's thread and tell the people on the job.

    Mentioned people get a mention; on a customer request the technician and
    the advisor get a customer-request alert; everyone else on the job (sales
    owner, technician, advisor, earlier posters) gets a message alert. Nobody
    is told twice and the author never.
    """
    if not permissions.can_post_message(by, job):
        raise PermissionDenied
    body = body.strip()
    if not body and not photos:
        raise JobError(_("Write a message or add a photo."))
    mentioned = [user for user in mentions if user.branch_id == job.branch_id and user.is_active]
    mentioned += [user for user in mentioned_in_text(body, branch_id=job.branch_id) if user not in mentioned]
    now = timezone.now()
    with transaction.atomic():
        message = JobMessage.objects.create(job=job, author=by, kind=kind, body=body, created_at=now)
        if mentioned:
            message.mentions.set(mentioned)
        for photo in photos:
            Attachment.objects.create(
                message=message,
                image=photo.image,
                thumbnail=photo.thumbnail,
                size=photo.size,
                original_name=photo.original_name,
            )
        RepairJob.objects.filter(pk=job.pk).update(last_message_at=now)
        job.last_message_at = now
        Branch.touch(job.branch_id)
        _notify_thread(job, message, by=by, mentioned=mentioned)
    return message


MENTION = re.compile(r"@([^\s@、。,!?！？]+)")


def mentioned_in_text(body: str, *, branch_id: int) -> list[User]:
    """Colleagues named as @名前 (display name without spaces) or @local-part of their e-mail."""
    handles = {handle.rstrip(".").lower() for handle in MENTION.findall(body)}
    if not handles:
        return []
    staff = User.objects.filter(branch_id=branch_id, is_active=True)
    return [
        user
        for user in staff
        if "".join(user.display_name.split()).lower() in handles or user.email.split("@")[0].lower() in handles
    ]


def _notify_thread(job: RepairJob, message: JobMessage, *, by: User, mentioned: list[User]) -> None:
    vehicle = job.vehicle
    earlier_posters = User.objects.filter(
        pk__in=JobMessage.objects.filter(job=job).exclude(pk=message.pk).values("author_id")
    )
    told: set[int] = {by.pk}

    def tell(people, kind: str, text) -> None:
        fresh = [person for person in people if person is not None and person.pk not in told]
        told.update(person.pk for person in fresh)
        notify(fresh, kind, actor=by, target=message, text=text)

    tell(
        mentioned,
        Notification.Kind.MENTION,
        format_lazy(
            _("{name} mentioned you on {number} {vehicle}"), name=by.display_name, number=job.number, vehicle=vehicle
        ),
    )
    if message.is_customer_request:
        tell(
            [job.technician, job.service_advisor],
            Notification.Kind.CUSTOMER_REQUEST,
            format_lazy(
                _("Customer request on {number} {vehicle}: {body}"),
                number=job.number,
                vehicle=vehicle,
                body=message.body[:120],
            ),
        )
    tell(
        [job.sales_owner, job.technician, job.service_advisor, *earlier_posters],
        Notification.Kind.MESSAGE,
        format_lazy(
            _("{name} on {number} {vehicle}: {body}"),
            name=by.display_name,
            number=job.number,
            vehicle=vehicle,
            body=message.body[:120],
        ),
    )


def mark_thread_read(job: RepairJob, *, by: User) -> None:
    """Remember that `by` has read the thread up to now (unread badges in lists)."""
    now = timezone.now()
    JobReadMarker.objects.bulk_create(
        [JobReadMarker(job=job, user=by, read_at=now)],
        update_conflicts=True,
        unique_fields=["job", "user"],
        update_fields=["read_at"],
    )
    User.objects.filter(pk=by.pk).update(threads_read_at=now)
    by.threads_read_at = now


AT_RISK_WINDOW = timedelta(hours=1)


def alert_jobs_at_risk(*, now: datetime | None = None) -> int:
    """Alert once per promise: when a job will miss it within the hour, and when it has.

    Idempotent: the conditional UPDATE records which promise was alerted, so
    a second run (or two beat schedulers) alerts nobody twice; a new promise
    may alert again.
    """
    now = now or timezone.now()
    active = RepairJob.objects.exclude(status__in=PROMISE_KEPT_STATUSES).filter(promised_at__isnull=False)
    sent = 0
    checks = (
        (
            "overdue_alerted_for",
            active.filter(promised_at__lte=now),
            _("{number} {vehicle} passed the time promised to the customer ({time})"),
        ),
        (
            "at_risk_alerted_for",
            active.filter(promised_at__gt=now, promised_at__lte=now + AT_RISK_WINDOW),
            _("{number} {vehicle} will miss its promised time ({time}) unless it is ready within the hour"),
        ),
    )
    for field, candidates, message in checks:
        due = candidates.exclude(**{field: F("promised_at")}).select_related(
            "vehicle", "sales_owner", "service_advisor"
        )
        for job in due:
            with transaction.atomic():
                claimed = (
                    RepairJob.objects.filter(pk=job.pk, promised_at=job.promised_at)
                    .exclude(**{field: F("promised_at")})
                    .update(**{field: job.promised_at})
                )
                if not claimed:
                    continue
                notify(
                    [job.service_advisor, job.sales_owner],
                    Notification.Kind.JOB_OVERDUE,
                    actor=None,
                    target=job,
                    text=format_lazy(
                        message,
                        number=job.number,
                        vehicle=job.vehicle,
                        time=timezone.localtime(job.promised_at).strftime("%m/%d %H:%M"),
                    ),
                )
                sent += 1
    return sent
