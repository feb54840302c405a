"""Writes on team events. Each is one atomic door: check, validate, save the
changed fields, and tell the people concerned with `notify()` in the same
transaction. Views, the admin, the reminder task and the demo data all come
through here.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Department, User
from dealership.i18n import gettext_lazy as _
from dealership.models import Branch, Notification
from dealership.notifications import notify
from dealership.scopes import may_see_branch
from dealership.updates import save_changed

from . import permissions
from .models import (
    RSVP,
    ActionItem,
    CalendarFeed,
    EventKind,
    EventMaterial,
    EventParticipant,
    Organiser,
    TeamEvent,
)

MAX_MATERIAL_BYTES = 20 * 1024 * 1024
MATERIAL_SUFFIXES = frozenset(
    {".pdf", ".pptx", ".ppt", ".docx", ".doc", ".xlsx", ".xls", ".csv", ".txt", ".png", ".jpg", ".jpeg"}
)


class EventError(Exception):
    """A refused write; `str(error)` is the message for the user."""


@dataclass(frozen=True)
class Pair:
    """A shadowing visitor and the colleague of the other department they shadow."""

    visitor: User
    host: User


def _when(event: TeamEvent) -> str:
    start, end = timezone.localtime(event.starts_at), timezone.localtime(event.ends_at)
    same_day = start.date() == end.date()
    return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}" if same_day else f"{start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M}"


def _event_args(event: TeamEvent) -> dict:
    return {"kind": EventKind(event.kind).label, "title": event.title, "when": _when(event), "place": event.place}


def _validate(
    *,
    branch: Branch,
    kind: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    invited_departments: Sequence[str],
    invitees: Iterable[User],
    pairs: Sequence[Pair],
) -> None:
    if kind not in EventKind.values:
        raise EventError(_("Choose a kind of event."))
    if not title.strip():
        raise EventError(_("Give the event a title."))
    if ends_at <= starts_at:
        raise EventError(_("The event must end after it starts."))
    if any(value not in Department.values for value in invited_departments):
        raise EventError(_("Choose departments from the list."))
    people = [*invitees, *(pair.visitor for pair in pairs), *(pair.host for pair in pairs)]
    if any(person.branch_id != branch.pk or not person.is_active for person in people):
        raise EventError(_("Invite active staff of the event's branch only."))
    if pairs and kind != EventKind.SHADOWING:
        raise EventError(_("Only job shadowing pairs visitors with hosts."))
    visitors: set[int] = set()
    for pair in pairs:
        if pair.visitor.pk == pair.host.pk or pair.visitor.department == pair.host.department:
            raise EventError(
                _(
                    "{visitor} and {host} work in the same department: "
                    "job shadowing pairs a visitor with a host from the other department."
                ).format(visitor=pair.visitor.display_name, host=pair.host.display_name)
            )
        if pair.visitor.pk in visitors:
            raise EventError(
                _("{visitor} is paired twice: give each visitor one host.").format(visitor=pair.visitor.display_name)
            )
        visitors.add(pair.visitor.pk)


def _invited_people(event: TeamEvent, invitees: Iterable[User], pairs: Sequence[Pair]) -> dict[int, dict]:
    """Who the event invites now: {user id: {"user", "personally", "host"}}."""
    wanted: dict[int, dict] = {}
    if event.invited_departments:
        staff = User.objects.filter(branch_id=event.branch_id, is_active=True, department__in=event.invited_departments)
        for user in staff:
            wanted[user.pk] = {"user": user, "personally": False, "host": None}
    for user in invitees:
        wanted[user.pk] = {"user": user, "personally": True, "host": None}
    for pair in pairs:
        for user in (pair.visitor, pair.host):
            wanted.setdefault(user.pk, {"user": user, "personally": True, "host": None})["personally"] = True
        wanted[pair.visitor.pk]["host"] = pair.host
    return wanted


def _sync_participants(event: TeamEvent, wanted: dict[int, dict]) -> list[User]:
    """Make the participant rows match `wanted`; returns the newly invited people.

    Someone no longer invited keeps their row (and answer) marked not invited,
    so a change of departments never erases what people said or did.
    """
    existing = {row.user_id: row for row in EventParticipant.objects.filter(event=event)}
    new_rows, newly_invited = [], []
    for user_id, entry in wanted.items():
        row = existing.get(user_id)
        host_id = entry["host"].pk if entry["host"] else None
        if row is None:
            new_rows.append(
                EventParticipant(
                    event=event, user=entry["user"], personally_invited=entry["personally"], host_id=host_id
                )
            )
            newly_invited.append(entry["user"])
            continue
        changes = {"invited": True, "personally_invited": entry["personally"], "host_id": host_id}
        if not row.invited:
            newly_invited.append(entry["user"])
        if any(getattr(row, name) != value for name, value in changes.items()):
            EventParticipant.objects.filter(pk=row.pk).update(**changes)
    EventParticipant.objects.bulk_create(new_rows)
    EventParticipant.objects.filter(event=event, invited=True).exclude(user_id__in=list(wanted)).update(
        invited=False, host=None
    )
    return newly_invited


def _store_materials(event: TeamEvent, files: Sequence[UploadedFile], by: User) -> None:
    for upload in files:
        EventMaterial.objects.create(
            event=event,
            file=upload,
            original_name=upload.name[:200],
            size=upload.size or 0,
            uploaded_by=by,
        )


def _concerned(event: TeamEvent):
    """The participants who hear of changes: invited or said they come, and did not decline."""
    return EventParticipant.objects.filter(Q(invited=True) | Q(rsvp__in=(RSVP.YES, RSVP.MAYBE)), event=event).exclude(
        rsvp=RSVP.NO
    )


def check_material(upload: UploadedFile) -> None:
    """Refuse files the portal will not hand out: unknown types and very large ones."""
    name = upload.name or ""
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    if suffix not in MATERIAL_SUFFIXES:
        raise EventError(_("{name}: share slides, documents, spreadsheets, PDFs or pictures.").format(name=name[:80]))
    if (upload.size or 0) > MAX_MATERIAL_BYTES:
        raise EventError(_("{name} is larger than 20 MB.").format(name=name[:80]))


def remove_material(material: EventMaterial, *, by: User) -> None:
    """Take a file off an event; the stored file goes after the row is gone for good."""
    if not permissions.can_manage_event(by, material.event):
        raise PermissionDenied
    stored = material.file
    with transaction.atomic():
        material.delete()
        transaction.on_commit(lambda: stored.storage.delete(stored.name))


def plan_event(
    *,
    by: User,
    branch: Branch,
    kind: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    agenda: str = "",
    place: str = "",
    invited_departments: Sequence[str] = (),
    invitees: Sequence[User] = (),
    pairs: Sequence[Pair] = (),
    materials: Sequence[UploadedFile] = (),
    at: datetime | None = None,
) -> TeamEvent:
    """Plan an event and invite its departments and people; each invitee is told."""
    if not permissions.can_plan_event(by) or not may_see_branch(by, branch.pk):
        raise PermissionDenied(_("Only managers and the organisers they name plan events."))
    invited_departments = list(dict.fromkeys(invited_departments))
    _validate(
        branch=branch,
        kind=kind,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        invited_departments=invited_departments,
        invitees=invitees,
        pairs=pairs,
    )
    for upload in materials:
        check_material(upload)
    now = at or timezone.now()
    with transaction.atomic():
        event = TeamEvent.objects.create(
            branch=branch,
            kind=kind,
            title=title.strip(),
            agenda=agenda.strip(),
            starts_at=starts_at,
            ends_at=ends_at,
            place=place.strip(),
            organizer=by,
            invited_departments=invited_departments,
            created_at=now,
            updated_at=now,
        )
        wanted = _invited_people(event, invitees, pairs)
        # The organizer is there too (and answers "going" by planning it).
        wanted.setdefault(by.pk, {"user": by, "personally": True, "host": None})
        invited = _sync_participants(event, wanted)
        EventParticipant.objects.filter(event=event, user=by).update(rsvp=RSVP.YES, answered_at=now)
        _store_materials(event, materials, by)
        notify(
            invited,
            Notification.Kind.EVENT_INVITED,
            actor=by,
            target=event,
            text=_("You are invited: {kind} “{title}”, {when} {place}"),
            args=_event_args(event),
        )
    return event


# The fields whose change people must hear about (a new agenda is not worth a mail).
NOTIFIED_FIELDS = ("kind", "title", "starts_at", "ends_at", "place")


def update_event(
    event: TeamEvent,
    *,
    by: User,
    kind: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    agenda: str = "",
    place: str = "",
    invited_departments: Sequence[str] = (),
    invitees: Sequence[User] = (),
    pairs: Sequence[Pair] = (),
    materials: Sequence[UploadedFile] = (),
) -> TeamEvent:
    """Change an event. Participants hear of a new time, place, title or kind;
    people invited by the change get an invitation instead."""
    if not permissions.can_manage_event(by, event):
        raise PermissionDenied
    if event.is_cancelled:
        raise EventError(_("This event was cancelled; plan a new one instead."))
    invited_departments = list(dict.fromkeys(invited_departments))
    _validate(
        branch=event.branch,
        kind=kind,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        invited_departments=invited_departments,
        invitees=invitees,
        pairs=pairs,
    )
    for upload in materials:
        check_material(upload)
    values = {
        "kind": kind,
        "title": title.strip(),
        "agenda": agenda.strip(),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "place": place.strip(),
        "invited_departments": invited_departments,
    }
    with transaction.atomic():
        before = set(_concerned(event).values_list("user_id", flat=True))
        changed = save_changed(event, values, also={"updated_at": timezone.now(), "sequence": event.sequence + 1})
        wanted = _invited_people(event, invitees, pairs)
        if event.organizer_id:
            wanted.setdefault(event.organizer_id, {"user": event.organizer, "personally": True, "host": None})
        invited = _sync_participants(event, wanted)
        _store_materials(event, materials, by)
        notify(
            invited,
            Notification.Kind.EVENT_INVITED,
            actor=by,
            target=event,
            text=_("You are invited: {kind} “{title}”, {when} {place}"),
            args=_event_args(event),
        )
        if any(name in NOTIFIED_FIELDS for name in changed):
            newly = {user.pk for user in invited}
            still = _concerned(event).filter(user_id__in=before - newly)
            notify(
                [row.user for row in still.select_related("user")],
                Notification.Kind.EVENT_CHANGED,
                actor=by,
                target=event,
                text=_("Changed: {kind} “{title}” is now {when} {place}"),
                args=_event_args(event),
            )
    return event


def cancel_event(event: TeamEvent, *, by: User, reason: str = "") -> TeamEvent:
    """Cancel an event; everyone invited who had not declined is told, with the reason."""
    if not permissions.can_manage_event(by, event):
        raise PermissionDenied
    now = timezone.now()
    with transaction.atomic():
        won = TeamEvent.objects.filter(pk=event.pk, cancelled_at__isnull=True).update(
            cancelled_at=now, cancel_reason=reason.strip()[:300], updated_at=now, sequence=F("sequence") + 1
        )
        if not won:
            raise EventError(_("This event was already cancelled."))
        event.cancelled_at, event.cancel_reason, event.updated_at = now, reason.strip()[:300], now
        event.sequence += 1
        told = _concerned(event).select_related("user")
        notify(
            [row.user for row in told],
            Notification.Kind.EVENT_CHANGED,
            actor=by,
            target=event,
            text=_("Cancelled: {kind} “{title}”, {when} {reason}"),
            args={**_event_args(event), "reason": event.cancel_reason},
        )
    return event


def rsvp(event: TeamEvent, *, by: User, answer: str, at: datetime | None = None) -> EventParticipant:
    """Answer yes / maybe / no. Anyone of the branch may, invited or not, until the event ends."""
    if not permissions.can_rsvp(by, event, at=at):
        raise PermissionDenied(_("This event is over or cancelled."))
    if answer not in (RSVP.YES, RSVP.MAYBE, RSVP.NO):
        raise EventError(_("Answer going, maybe or not going."))
    now = at or timezone.now()
    with transaction.atomic():
        row, created = EventParticipant.objects.get_or_create(
            event=event, user=by, defaults={"invited": False, "rsvp": answer, "answered_at": now}
        )
        if not created and row.rsvp != answer:
            row.rsvp, row.answered_at = answer, now
            row.save(update_fields=["rsvp", "answered_at"])
    return row


def record_attendance(
    event: TeamEvent, *, by: User, attendees: Iterable[User], minutes: str | None = None
) -> TeamEvent:
    """Mark who came (people of the branch who were not invited are added) and keep the minutes."""
    if not permissions.can_manage_event(by, event):
        raise PermissionDenied
    if event.is_cancelled:
        raise EventError(_("This event was cancelled."))
    if timezone.localdate(event.starts_at) > timezone.localdate():
        raise EventError(_("Attendance is taken on the day of the event, not before."))
    attendees = list(attendees)
    if any(person.branch_id != event.branch_id for person in attendees):
        raise EventError(_("Only staff of the event's branch can attend."))
    came = {person.pk for person in attendees}
    with transaction.atomic():
        existing = set(EventParticipant.objects.filter(event=event).values_list("user_id", flat=True))
        EventParticipant.objects.bulk_create(
            [
                EventParticipant(event=event, user=person, invited=False, attended=True)
                for person in attendees
                if person.pk not in existing
            ]
        )
        EventParticipant.objects.filter(event=event).filter(Q(user_id__in=came) & Q(attended=False)).update(
            attended=True
        )
        EventParticipant.objects.filter(event=event, attended=True).exclude(user_id__in=came).update(attended=False)
        if minutes is not None and minutes.strip() != event.minutes:
            event.minutes = minutes.strip()
            event.updated_at = timezone.now()
            event.save(update_fields=["minutes", "updated_at"])
    return event


def add_action_item(
    event: TeamEvent,
    *,
    by: User,
    text: str,
    assignee: User,
    due_date: date | None = None,
    voice_item_id: int | None = None,
    at: datetime | None = None,
) -> ActionItem:
    """Record what somebody will do after the event; the assignee is alerted."""
    if not permissions.can_manage_event(by, event):
        raise PermissionDenied
    text = text.strip()
    if not text:
        raise EventError(_("Write what needs doing."))
    if assignee.branch_id != event.branch_id or not assignee.is_active:
        raise EventError(_("Give the action item to active staff of the event's branch."))
    now = at or timezone.now()
    if due_date is not None and due_date < timezone.localdate(event.starts_at):
        raise EventError(_("The due date is before the event."))
    with transaction.atomic():
        item = ActionItem.objects.create(
            event=event,
            text=text[:500],
            assignee=assignee,
            due_date=due_date,
            voice_item_id=voice_item_id,
            created_by=by,
            created_at=now,
        )
        notify(
            [assignee],
            Notification.Kind.ACTION_ITEM,
            actor=by,
            target=item,
            text=_("Action item from “{title}”: {text} (due {due})"),
            args={"title": event.title, "text": item.text[:200], "due": due_date.isoformat() if due_date else "—"},
        )
    return item


def complete_action_item(item: ActionItem, *, by: User, at: datetime | None = None) -> ActionItem:
    """Mark an action item done (its assignee or the event's organisers)."""
    if not permissions.can_complete_action_item(by, item):
        raise PermissionDenied
    now = at or timezone.now()
    won = ActionItem.objects.filter(pk=item.pk, done_at__isnull=True).update(done_at=now, done_by=by)
    if won:
        item.done_at, item.done_by = now, by
    return item


def reopen_action_item(item: ActionItem, *, by: User) -> ActionItem:
    if not permissions.can_complete_action_item(by, item):
        raise PermissionDenied
    ActionItem.objects.filter(pk=item.pk).update(done_at=None, done_by=None)
    item.done_at = item.done_by = None
    return item


def calendar_feed_for(user: User) -> CalendarFeed:
    """The user's feed secret, drawn on first use."""
    feed, _created = CalendarFeed.objects.get_or_create(user=user, defaults={"salt": secrets.token_urlsafe(32)})
    return feed


def reset_calendar_secret(*, user: User) -> CalendarFeed:
    """Draw a new secret: the old subscription URL stops working at once."""
    with transaction.atomic():
        feed = calendar_feed_for(user)
        feed.salt = secrets.token_urlsafe(32)
        feed.reset_at = timezone.now()
        feed.save(update_fields=["salt", "reset_at"])
    return feed


def grant_organiser(*, by: User, user: User) -> Organiser:
    if not permissions.can_manage_organisers(by):
        raise PermissionDenied
    if not may_see_branch(by, user.branch_id) or not user.is_active:
        raise EventError(_("Choose active staff of your branch."))
    organiser, _created = Organiser.objects.get_or_create(user=user, defaults={"granted_by": by})
    return organiser


def revoke_organiser(*, by: User, user: User) -> None:
    if not permissions.can_manage_organisers(by):
        raise PermissionDenied
    if not may_see_branch(by, user.branch_id):
        raise EventError(_("Choose active staff of your branch."))
    Organiser.objects.filter(user=user).delete()


REMINDER_WINDOW = timedelta(hours=24)


def send_event_reminders(*, now: datetime | None = None) -> int:
    """Remind everyone not declining of an event starting within the next day.

    Once per event and person: the conditional UPDATE records which start time
    the reminder was for, so a second run (or a second beat) reminds nobody
    twice, while an event moved to another day reminds again.
    """
    now = now or timezone.now()
    due = (
        EventParticipant.objects.filter(
            Q(invited=True) | Q(rsvp__in=(RSVP.YES, RSVP.MAYBE)),
            event__cancelled_at__isnull=True,
            event__starts_at__gt=now,
            event__starts_at__lte=now + REMINDER_WINDOW,
            user__is_active=True,
        )
        .exclude(rsvp=RSVP.NO)
        .exclude(reminded_for=F("event__starts_at"))
        .select_related("event", "user")
    )
    sent = 0
    for row in due:
        event = row.event
        with transaction.atomic():
            claimed = (
                EventParticipant.objects.filter(pk=row.pk, event__starts_at=event.starts_at)
                .exclude(reminded_for=event.starts_at)
                .update(reminded_for=event.starts_at)
            )
            if not claimed:
                continue
            notify(
                [row.user],
                Notification.Kind.EVENT_REMINDER,
                actor=None,
                target=event,
                text=_("Reminder: {kind} “{title}” starts {when} {place}"),
                args=_event_args(event),
            )
            sent += 1
    return sent
