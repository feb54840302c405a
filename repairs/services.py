"""Writes on repair jobs. Each is one atomic door: validate, save changed fields,
write one timeline row (`record_event`, which also bumps the version keys of
the screens that show the job) and call `notify()`.

Nothing else assigns `job.status`, `job.technician` or `job.promised_at`;
views, the admin, tasks and the demo data all come through here. The writes
of the job's approvals, leads and status links live beside it, one module
each (repairs/approvals.py, leads.py, status_links.py), built on these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import format_lazy

from accounts.models import Role, User
from customers.models import Customer, Vehicle
from dealership import dates, versions
from dealership.i18n import gettext_lazy as _
from dealership.i18n import pgettext_lazy
from dealership.models import Notification
from dealership.notifications import notify, portable

from . import permissions, selectors
from .images import Photo
from .models import (
    CUSTOMER_STATUS,
    FINISHED_STATUSES,
    INTERNAL_KINDS,
    PROMISE_KEPT_STATUSES,
    Attachment,
    CustomerStatus,
    JobEvent,
    JobKind,
    JobMessage,
    JobReadMarker,
    RepairJob,
    Status,
)


class JobError(Exception):
    """A refused write; `str(error)` is the message for the user."""


class IllegalTransition(JobError):
    pass


@dataclass
class StaleJob(JobError):
    """Someone else changed the job since the user loaded it."""

    job: RepairJob
    last_change: JobEvent | None

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


def record_event(
    job: RepairJob,
    *,
    kind: str,
    by: User | None,
    at: datetime | None = None,
    note: str = "",
    from_status: str = "",
    to_status: str = "",
    **data,
) -> JobEvent:
    """Write one row of the job's timeline and tell the polled screens.

    Every service that changes a job calls this once, inside its own
    transaction, so the row commits or rolls back with the change. It also
    moves the job's `updated_at` and bumps the version keys of the screens
    that show the job (`screens_changed`).
    """
    at = at or timezone.now()
    event = JobEvent.objects.create(
        job=job,
        kind=kind,
        by=by,
        at=at,
        note=note[:500],
        from_status=from_status,
        to_status=to_status,
        data={name: portable(value) for name, value in data.items()},
    )
    RepairJob.objects.filter(pk=job.pk).update(updated_at=at)
    job.updated_at = at
    screens_changed(job)
    return event


def screens_changed(job: RepairJob, *, people: tuple[int | None, ...] = (), pool: bool = False) -> None:
    """Bump the version keys of every screen that shows `job` (dealership.versions).

    The job's page, its branch's board and "all jobs" list, the lists and
    queues of the people on it (plus `people`, e.g. a technician who just
    lost it), and the unassigned pool when the job is or was in it. Nothing
    else re-renders.
    """
    on_job = {job.sales_owner_id, job.requested_by_id, job.technician_id, *people} - {None}
    keys = [f"job:{job.pk}", f"branchjobs:{job.branch_id}", "branchjobs:all", *(f"person:{pk}" for pk in on_job)]
    if pool or job.technician_id is None:
        keys += [f"pool:{job.branch_id}", "pool:all"]
    versions.bump(*keys)


def _moment(value: datetime | None) -> dict:
    """A time for a timeline row's data, shown in local time by JobEvent.summary."""
    return {"dt": value.isoformat() if value else ""}


def advisors_for(job: RepairJob) -> list[User]:
    """The job's advisor, or every active advisor of its branch while it has none."""
    if job.service_advisor_id:
        return [job.service_advisor]
    return list(User.objects.filter(branch_id=job.branch_id, role=Role.SERVICE_ADVISOR, is_active=True))


def _job_number(job: RepairJob) -> str:
    return f"R-{timezone.localtime(job.created_at).year}-{job.pk:05d}"


def _check_promise_in_range(promised_at: datetime | None) -> None:
    """A promised time in the portal's date range (dealership/dates.py), whatever the caller.

    The forms check it too; this covers the admin, scripts and the seed.
    """
    if promised_at is not None and not dates.is_in_range(promised_at):
        raise JobError(dates.OUT_OF_RANGE % dates.RANGE)


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
    at: datetime | None = None,
) -> RepairJob:
    """Open a job (a walk-in, or an internal request of sales to the workshop).

    The branch's service advisors hear of it at once: the workshop learns of
    a delivery-prep request from the portal, not by looking.
    """
    if not permissions.can_create_job(by):
        raise PermissionDenied
    if vehicle.customer_id != customer.pk:
        raise JobError(_("This vehicle does not belong to the chosen customer."))
    if kind in INTERNAL_KINDS and promised_at is None:
        raise JobError(_("Internal requests need a due time."))
    _check_promise_in_range(promised_at)
    now = at or timezone.now()
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
        RepairJob.objects.filter(pk=job.pk).update(number=job.number)
        # The new job reaches the screens through its "opened" row (record_event);
        # a new customer or vehicle of the intake shows nowhere else yet.
        record_event(job, kind=JobEvent.Kind.CREATED, by=by, at=now, to_status=Status.RECEIVED)
        internal = kind in INTERNAL_KINDS
        notify(
            [*advisors_for(job), job.technician],
            Notification.Kind.JOB_CREATED,
            actor=by,
            target=job,
            text=_("New internal request {number}: {kind} for {vehicle}, due {due}")
            if internal
            else _("New job {number}: {kind} for {vehicle}"),
            args={
                "number": job.number,
                "kind": JobKind(kind).label,
                "vehicle": str(vehicle),
                "due": timezone.localtime(promised_at).strftime("%m/%d %H:%M") if promised_at else "",
            },
        )
    return job


def change_status(
    job: RepairJob,
    *,
    to: str,
    by: User,
    note: str = "",
    expected_version: int | None,
    at: datetime | None = None,
    authorised: bool = False,
    quiet: bool = False,
) -> RepairJob:
    """Move a job to `to` if the transition table and the matrix allow it.

    `authorised` is for another service that has checked its own, narrower
    rule for this one move (a sales rep recording the customer's approval
    sends the job back to work); `quiet` for one that sends its own, more
    specific alert to the same people (the approval request and decision).

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
    if not authorised and not permissions.can_change_status(by, job, to):
        raise PermissionDenied(permissions.REFUSED_STATUS_MOVE)
    # `at` is for replaying history (demo data, imports); people act now.
    now = at or timezone.now()
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
        job.status, job.version = to, job.version + 1
        job.ready_at = fields.get("ready_at", job.ready_at)
        job.delivered_at = fields.get("delivered_at", job.delivered_at)
        record_event(job, kind=JobEvent.Kind.STATUS, by=by, at=now, note=note, from_status=previous, to_status=to)
        # Sales hear of workshop moves only when what the customer would be
        # told changes: 診断中 → 作業中 → 完成検査 is one "work in progress".
        if CUSTOMER_STATUS[previous] != CUSTOMER_STATUS[to] and not quiet:
            notify(
                [job.sales_owner, job.requested_by],
                Notification.Kind.STATUS_CHANGED,
                actor=by,
                target=job,
                text=_("{number} {vehicle}: {status}"),
                args={
                    "number": job.number,
                    "vehicle": str(job.vehicle),
                    "status": CustomerStatus(job.customer_status).label,
                },
            )
    return job


def _last_change(job: RepairJob) -> JobEvent | None:
    return JobEvent.objects.filter(job_id=job.pk, kind=JobEvent.Kind.STATUS).select_related("by").first()


def assign_technician(job: RepairJob, *, technician: User | None, by: User) -> RepairJob:
    if not permissions.can_assign(by, job):
        raise PermissionDenied
    if technician is not None and (
        technician.role != Role.TECHNICIAN or technician.branch_id != job.branch_id or not technician.is_active
    ):
        raise JobError(_("Choose an active technician of this branch."))
    if job.technician_id == (technician.pk if technician else None):
        return job
    with transaction.atomic():
        advisor = job.service_advisor or (by if by.role == Role.SERVICE_ADVISOR else None)
        previous = job.technician_id
        RepairJob.objects.filter(pk=job.pk).update(technician=technician, service_advisor=advisor)
        job.technician, job.service_advisor = technician, advisor
        screens_changed(job, people=(previous,), pool=True)
        record_event(
            job,
            kind=JobEvent.Kind.ASSIGNED,
            by=by,
            technician=technician.display_name if technician else pgettext_lazy("technician", "nobody"),
        )
        if technician is not None:
            notify(
                [technician],
                Notification.Kind.JOB_ASSIGNED,
                actor=by,
                target=job,
                text=_("{number} {vehicle} was assigned to you"),
                args={"number": job.number, "vehicle": str(job.vehicle)},
            )
    return job


def claim_job(job: RepairJob, *, by: User) -> RepairJob:
    """A technician takes an unassigned job; the conditional UPDATE lets one win.

    The advisor and the sales owner hear who took it ("佐藤 took R-…").
    """
    if not permissions.can_claim(by, job):
        raise PermissionDenied(_("Only a technician can claim an unassigned job."))
    with transaction.atomic():
        won = RepairJob.objects.filter(pk=job.pk, technician__isnull=True).update(technician=by)
        if not won:
            raise JobError(_("Someone else claimed this job a moment ago."))
        job.technician = by
        screens_changed(job, pool=True)
        record_event(job, kind=JobEvent.Kind.CLAIMED, by=by)
        notify(
            [*advisors_for(job), job.sales_owner],
            Notification.Kind.JOB_CLAIMED,
            actor=by,
            target=job,
            text=_("{name} took {number} {vehicle}"),
            args={"name": by.display_name, "number": job.number, "vehicle": str(job.vehicle)},
        )
    return job


def release_jobs_of(technician: User, *, branch_id: int, by: User | None) -> int:
    """Unassign `technician` from the open jobs of a branch they no longer work at.

    Called when someone moves to another branch: the jobs go back to the
    branch's pool with a timeline row, and the advisors are told.
    """
    released = 0
    jobs = RepairJob.objects.filter(branch_id=branch_id, technician=technician).exclude(status__in=FINISHED_STATUSES)
    for job in jobs.select_related("vehicle", "service_advisor"):
        with transaction.atomic():
            if not RepairJob.objects.filter(pk=job.pk, technician=technician).update(technician=None):
                continue
            job.technician = None
            screens_changed(job, people=(technician.pk,), pool=True)
            record_event(
                job,
                kind=JobEvent.Kind.RELEASED,
                by=by,
                technician=technician.display_name,
                reason=_("moved to another branch"),
            )
            notify(
                advisors_for(job),
                Notification.Kind.JOB_ASSIGNED,
                actor=by,
                target=job,
                text=_("{number} {vehicle} needs a technician: {name} moved to another branch"),
                args={"number": job.number, "vehicle": str(job.vehicle), "name": technician.display_name},
            )
            released += 1
    return released


def change_promised_time(job: RepairJob, *, promised_at: datetime | None, reason: str, by: User) -> RepairJob:
    """Move the time promised to the customer; the sales owner hears old, new and why."""
    if not permissions.can_set_promise(by, job):
        raise PermissionDenied
    reason = reason.strip()
    if not reason:
        raise JobError(_("Say why the promised time changes: the customer will ask."))
    _check_promise_in_range(promised_at)
    if job.promised_at == promised_at:
        return job
    with transaction.atomic():
        old = job.promised_at
        RepairJob.objects.filter(pk=job.pk).update(promised_at=promised_at)
        job.promised_at = promised_at
        record_event(job, kind=JobEvent.Kind.PROMISE, by=by, note=reason, old=_moment(old), new=_moment(promised_at))
        notify(
            [job.sales_owner, job.requested_by],
            Notification.Kind.PROMISE_CHANGED,
            actor=by,
            target=job,
            text=_("{number} {vehicle}: promised time {old} → {new} ({reason})"),
            args={
                "number": job.number,
                "vehicle": str(job.vehicle),
                "old": timezone.localtime(old).strftime("%m/%d %H:%M") if old else "—",
                "new": timezone.localtime(promised_at).strftime("%m/%d %H:%M") if promised_at else "—",
                "reason": reason[:200],
            },
        )
    return job


def intake(
    *,
    by: User,
    kind: str,
    title: str,
    customer: Customer | None = None,
    vehicle: Vehicle | None = None,
    new_customer_name: str = "",
    new_customer_kana: str = "",
    new_customer_phone: str = "",
    new_customer_email: str = "",
    new_vehicle_make: str = "",
    new_vehicle_model: str = "",
    new_vehicle_year: int | None = None,
    new_vehicle_plate: str = "",
    customer_request: str = "",
    promised_at: datetime | None = None,
    priority: int = 3,
) -> RepairJob:
    """Open a job for a walk-in, with a new customer and vehicle when asked.

    All or nothing: a refused job leaves no orphan customer or vehicle behind.
    """
    if not permissions.can_create_job(by):
        raise PermissionDenied
    with transaction.atomic():
        if customer is None:
            if not new_customer_name.strip():
                raise JobError(_("Choose a customer or enter the new customer's name."))
            customer = Customer.objects.create(
                branch_id=by.branch_id,
                name=new_customer_name.strip(),
                name_kana=new_customer_kana,
                phone=new_customer_phone,
                email=new_customer_email,
                sales_owner=by if by.role == Role.SALES_REP else None,
            )
        if vehicle is None:
            if not (new_vehicle_make.strip() and new_vehicle_model.strip()):
                raise JobError(_("Choose a vehicle or enter the new vehicle's make and model."))
            vehicle = Vehicle.objects.create(
                customer=customer,
                make=new_vehicle_make.strip(),
                model=new_vehicle_model.strip(),
                year=new_vehicle_year,
                plate_number=new_vehicle_plate,
            )
        return create_job(
            by=by,
            customer=customer,
            vehicle=vehicle,
            kind=kind,
            title=title,
            customer_request=customer_request,
            promised_at=promised_at,
            priority=priority,
        )


def post_message(
    job: RepairJob,
    *,
    by: User,
    body: str,
    kind: str = JobMessage.Kind.NOTE,
    mentions: list[User] | tuple = (),
    photos: list[Photo] | tuple = (),
    told_otherwise: list[User] | tuple = (),
) -> JobMessage:
    """Post on a job's thread and tell the people on the job.

    Mentioned people get a mention; on a customer request the technician and
    the advisor get a customer-request alert; everyone else on the job (sales
    owner, technician, advisor, earlier posters) gets a message alert. Nobody
    is told twice and the author never; nor is anyone in `told_otherwise`,
    whom the caller's own alert about the same moment already reaches (the
    approval request that posts its photos).
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
        # Unread badges change on the screens that show the job; the thread itself too.
        screens_changed(job)
        versions.bump(f"thread:{job.pk}")
        _notify_thread(job, message, by=by, mentioned=mentioned, told_otherwise=told_otherwise)
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


def _notify_thread(
    job: RepairJob, message: JobMessage, *, by: User, mentioned: list[User], told_otherwise: list[User] | tuple = ()
) -> None:
    earlier_posters = User.objects.filter(
        pk__in=JobMessage.objects.filter(job=job).exclude(pk=message.pk).values("author_id")
    )
    told: set[int] = {by.pk, *(person.pk for person in told_otherwise)}
    args = {"name": by.display_name, "number": job.number, "vehicle": str(job.vehicle), "body": message.body[:200]}

    def tell(people, kind: str, text) -> None:
        fresh = [person for person in people if person is not None and person.pk not in told]
        told.update(person.pk for person in fresh)
        notify(fresh, kind, actor=by, target=message, text=text, args=args)

    tell(mentioned, Notification.Kind.MENTION, _("{name} mentioned you on {number} {vehicle}: {body}"))
    if message.is_customer_request:
        tell(
            [job.technician, job.service_advisor],
            Notification.Kind.CUSTOMER_REQUEST,
            _("Customer request on {number} {vehicle}: {body}"),
        )
    tell(
        [job.sales_owner, job.technician, job.service_advisor, *earlier_posters],
        Notification.Kind.MESSAGE,
        _("{name} on {number} {vehicle}: {body}"),
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
    # Only the reader's own lists change (their unread badges).
    versions.bump(f"read:{by.pk}")


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
            RepairJob.objects.filter(selectors.at_risk(now)),
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
                    [*advisors_for(job), job.sales_owner],
                    Notification.Kind.JOB_OVERDUE,
                    actor=None,
                    target=job,
                    text=message,
                    args={
                        "number": job.number,
                        "vehicle": str(job.vehicle),
                        "time": timezone.localtime(job.promised_at).strftime("%m/%d %H:%M"),
                    },
                )
                sent += 1
    return sent


def refuse_finished(job: RepairJob) -> None:
    """Nothing more is asked on a delivered or cancelled job (approvals, leads)."""
    if job.status in FINISHED_STATUSES:
        raise JobError(
            format_lazy(
                _("{number} is already “{status}”: nothing more can be asked on it."),
                number=job.number,
                status=job.get_status_display(),
            )
        )
