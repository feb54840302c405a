"""Reads on team events, always scoped to what the user may see; and the
cross-department participation figure, per branch, which goals' KPI registry
reads through here (goals never reads the event models directly).

Every list loads its relations and counts up front, so its query count does
not grow with the rows.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import User
from dealership.models import Branch
from dealership.scopes import scope_to

from .models import CROSS_DEPARTMENT_KINDS, RSVP, ActionItem, EventParticipant, TeamEvent

UPCOMING_LIMIT = 50
PAST_PAGE_SIZE = 20


def events_visible_to(user: User) -> QuerySet[TeamEvent]:
    return scope_to(TeamEvent.objects.all(), user)


def with_list_details(qs: QuerySet[TeamEvent], user: User) -> QuerySet[TeamEvent]:
    """Organizer and branch joined; the viewer's answer and the head count annotated."""
    mine = EventParticipant.objects.filter(event=OuterRef("pk"), user=user)
    return qs.select_related("organizer", "branch").annotate(
        my_rsvp=Subquery(mine.values("rsvp")[:1]),
        going=Count("participants", filter=Q(participants__rsvp=RSVP.YES), distinct=True),
        came=Count("participants", filter=Q(participants__attended=True), distinct=True),
    )


def get_event_for_user(user: User, pk: int) -> TeamEvent:
    """The event, or TeamEvent.DoesNotExist when the user may not see it (→ 404)."""
    return events_visible_to(user).select_related("organizer", "branch").get(pk=pk)


def upcoming_events(user: User, *, now: datetime | None = None) -> QuerySet[TeamEvent]:
    now = now or timezone.now()
    return with_list_details(events_visible_to(user).filter(ends_at__gt=now), user).order_by("starts_at", "id")[
        :UPCOMING_LIMIT
    ]


def past_events(user: User, *, now: datetime | None = None) -> QuerySet[TeamEvent]:
    now = now or timezone.now()
    return with_list_details(events_visible_to(user).filter(ends_at__lte=now), user).order_by("-starts_at", "-id")


@dataclass
class MonthDay:
    day: date
    in_month: bool
    is_today: bool
    events: list[TeamEvent]


def month_grid(user: User, year: int, month: int) -> list[list[MonthDay]]:
    """Weeks (Monday first) of the month, each day with its events: one query."""
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    first, last = weeks[0][0], weeks[-1][-1]
    tz = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz)
    by_day: dict[date, list[TeamEvent]] = {}
    events = with_list_details(events_visible_to(user).filter(starts_at__gte=start, starts_at__lt=end), user)
    for event in events.order_by("starts_at", "id"):
        by_day.setdefault(timezone.localdate(event.starts_at), []).append(event)
    today = timezone.localdate()
    return [
        [
            MonthDay(day=day, in_month=day.month == month, is_today=day == today, events=by_day.get(day, []))
            for day in week
        ]
        for week in weeks
    ]


def event_participants(event: TeamEvent) -> list[EventParticipant]:
    return list(
        EventParticipant.objects.filter(event=event)
        .select_related("user", "host")
        .order_by("-invited", "user__department", "user__display_name")
    )


def event_action_items(event: TeamEvent) -> list[ActionItem]:
    items = list(
        ActionItem.objects.filter(event=event)
        .select_related("assignee", "done_by")
        .order_by("done_at", "due_date", "id")
    )
    for item in items:
        item.event = event  # the permission checks read it: no query per item
    return items


def branch_staff(branch_id: int) -> QuerySet[User]:
    return User.objects.filter(branch_id=branch_id, is_active=True).order_by("department", "display_name")


def my_next_events(user: User, *, limit: int = 3) -> list[TeamEvent]:
    """Upcoming events the user is invited to or said they come to, not cancelled or declined."""
    now = timezone.now()
    mine = (
        EventParticipant.objects.filter(event=OuterRef("pk"), user=user)
        .filter(Q(invited=True) | Q(rsvp__in=(RSVP.YES, RSVP.MAYBE)))
        .exclude(rsvp=RSVP.NO)
    )
    qs = (
        events_visible_to(user)
        .filter(Exists(mine), ends_at__gt=now, cancelled_at__isnull=True)
        .annotate(my_rsvp=Subquery(EventParticipant.objects.filter(event=OuterRef("pk"), user=user).values("rsvp")[:1]))
        .order_by("starts_at", "id")
    )
    return list(qs[:limit])


def my_open_action_items(user: User, *, limit: int = 5) -> tuple[list[ActionItem], int]:
    """The user's open action items (soonest due first) and how many there are."""
    qs = scope_to(ActionItem.objects.filter(assignee=user, done_at__isnull=True), user, "event__branch")
    items = list(qs.select_related("event").order_by("due_date", "id")[:limit])
    total = len(items) if len(items) < limit else qs.count()
    return items, total


def feed_events(user: User, *, now: datetime | None = None) -> QuerySet[TeamEvent]:
    """A person's calendar feed: their branch's events of the last 60 days and the future
    that they are invited to or answered, cancelled ones included (so calendars drop them)."""
    now = now or timezone.now()
    mine = EventParticipant.objects.filter(event=OuterRef("pk"), user=user).filter(
        Q(invited=True) | Q(rsvp__in=(RSVP.YES, RSVP.MAYBE))
    )
    qs = (
        events_visible_to(user)
        .filter(Exists(mine), ends_at__gte=now - timedelta(days=60))
        .select_related("branch", "organizer")
    )
    return qs.annotate(
        my_rsvp=Subquery(EventParticipant.objects.filter(event=OuterRef("pk"), user=user).values("rsvp")[:1])
    )


@dataclass(frozen=True)
class Participation:
    """How many of a branch's active staff joined a cross-department event in a period."""

    joined: int
    staff: int

    @property
    def rate(self) -> float | None:
        """The share, 0–1; None when the branch has no active staff."""
        return self.joined / self.staff if self.staff else None

    @property
    def percent(self) -> float | None:
        return None if self.rate is None else round(self.rate * 100, 1)


def _period_bounds(start: date | datetime, end: date | datetime) -> tuple[datetime, datetime]:
    """Dates are whole local days, both included; datetimes are a half-open range."""
    tz = timezone.get_current_timezone()
    if not isinstance(start, datetime):
        start = datetime.combine(start, time.min, tzinfo=tz)
    if not isinstance(end, datetime):
        end = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def cross_department_participation(
    branch: Branch | None, start: date | datetime, end: date | datetime
) -> Participation:
    """The cross-department participation figure (DESIGN.md KPI), as database aggregates.

    A member of the branch's active staff counts as joined when they attended
    a job shadowing or study event of the branch, held in the period and not
    cancelled, that someone of another department attended too. `branch=None`
    counts every branch. One query, whatever the number of events or staff.
    """
    start_at, end_at = _period_bounds(start, end)
    staff = User.objects.filter(is_active=True, branch__isnull=False)
    events = _cross_department_sessions(branch, start_at, end_at)
    if branch is not None:
        staff = staff.filter(branch=branch)
    other_department_came = EventParticipant.objects.filter(event=OuterRef("event"), attended=True).exclude(
        user__department=OuterRef("user__department")
    )
    joined = EventParticipant.objects.filter(user=OuterRef("pk"), attended=True, event__in=events).filter(
        Exists(other_department_came)
    )
    figures = staff.aggregate(staff=Count("pk"), joined=Count("pk", filter=Q(Exists(joined))))
    return Participation(joined=figures["joined"], staff=figures["staff"])


def _cross_department_sessions(branch: Branch | None, start_at: datetime, end_at: datetime) -> QuerySet[TeamEvent]:
    """The shadowing and study events of the branch (None: every branch) held in [start_at, end_at), not cancelled."""
    sessions = TeamEvent.objects.filter(
        kind__in=CROSS_DEPARTMENT_KINDS, cancelled_at__isnull=True, starts_at__gte=start_at, starts_at__lt=end_at
    )
    return sessions if branch is None else sessions.filter(branch=branch)


def cross_department_session_days(branch: Branch | None, start_at: datetime, end_at: datetime) -> set[date]:
    """The local days in [start_at, end_at) with a cross-department session (the figure's daily snapshots)."""
    return set(
        _cross_department_sessions(branch, start_at, end_at)
        .annotate(day=TruncDate("starts_at", tzinfo=timezone.get_current_timezone()))
        .values_list("day", flat=True)
    )


def cross_department_attendances(
    branch: Branch | None, start_at: datetime, end_at: datetime
) -> QuerySet[EventParticipant]:
    """Who attended the cross-department sessions in [start_at, end_at): the figure's drill-down, latest first."""
    rows = EventParticipant.objects.filter(
        attended=True, event__in=_cross_department_sessions(branch, start_at, end_at)
    )
    return rows.select_related("event", "user", "event__branch").order_by(
        "-event__starts_at", "event_id", "user__display_name"
    )
