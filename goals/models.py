"""Team life: events (briefings, job shadowing, study sessions, meetings, socials),
who comes to them, and the action items they produce.

Goals and KPIs (DESIGN.md "Team results and team life") join this module later;
the participation figure they need is `goals.selectors.cross_department_participation`.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Department
from dealership.dates import EARLIEST_STORED, LATEST_STORED, validate_in_range
from dealership.models import Branch


class EventKind(models.TextChoices):
    BRIEFING = "briefing", _("Work briefing")
    SHADOWING = "shadowing", _("Job shadowing")
    STUDY = "study", _("Study session")
    MEETING = "meeting", _("Regular meeting")
    SOCIAL = "social", _("Team social")


# Bootstrap colour of each kind's badge (text-bg-<colour>).
KIND_COLOURS: dict[str, str] = {
    EventKind.BRIEFING: "primary",
    EventKind.SHADOWING: "success",
    EventKind.STUDY: "info",
    EventKind.MEETING: "secondary",
    EventKind.SOCIAL: "warning",
}
KIND_ICONS: dict[str, str] = {
    EventKind.BRIEFING: "easel",
    EventKind.SHADOWING: "person-arms-up",
    EventKind.STUDY: "book",
    EventKind.MEETING: "people",
    EventKind.SOCIAL: "cup-hot",
}
# The kinds where the two departments learn each other's work: they count
# for the cross-department participation figure (goals.selectors).
CROSS_DEPARTMENT_KINDS = frozenset({EventKind.SHADOWING, EventKind.STUDY})


class TeamEvent(models.Model):
    """One event of a branch's team life, planned by a manager or an organiser."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="team_events", verbose_name=_("branch"))
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices, default=EventKind.MEETING)
    title = models.CharField(_("title"), max_length=200)
    agenda = models.TextField(_("agenda"), blank=True)
    starts_at = models.DateTimeField(_("starts at"), validators=[validate_in_range])
    ends_at = models.DateTimeField(_("ends at"), validators=[validate_in_range])
    place = models.CharField(_("place"), max_length=200, blank=True)
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="organised_events",
        verbose_name=_("organizer"),
    )
    # Department values (accounts.Department); their active staff of the
    # branch are invited. A list rather than a table: it is only ever read
    # whole, with the event.
    invited_departments = models.JSONField(_("invited departments"), default=list, blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    # Stable identity in calendars (RFC 5545 UID) and its revision (SEQUENCE):
    # a calendar app replaces its copy when a newer sequence arrives.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("team event")
        verbose_name_plural = _("team events")
        indexes = [models.Index(fields=["branch", "starts_at"], name="teamevent_branch_start_idx")]
        # The forms keep times in the portal's date range (dealership/dates.py);
        # the database refuses the rest, whatever the write path: a start in
        # year 1 was stored as 1 BC, which no screen could read back.
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    starts_at__gte=EARLIEST_STORED,
                    starts_at__lt=LATEST_STORED,
                    ends_at__gte=EARLIEST_STORED,
                    ends_at__lt=LATEST_STORED,
                ),
                name="teamevent_times_in_range",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("goals:event_detail", args=[self.pk])

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def has_ended(self) -> bool:
        return self.ends_at <= timezone.now()

    @property
    def has_started(self) -> bool:
        return self.starts_at <= timezone.now()

    @property
    def kind_colour(self) -> str:
        return KIND_COLOURS[self.kind]

    @property
    def kind_icon(self) -> str:
        return KIND_ICONS[self.kind]

    @property
    def is_shadowing(self) -> bool:
        return self.kind == EventKind.SHADOWING

    def invited_department_labels(self) -> list[str]:
        return [Department(value).label for value in self.invited_departments if value in Department.values]


class RSVP(models.TextChoices):
    NONE = "none", _("No answer yet")
    YES = "yes", _("Going")
    MAYBE = "maybe", _("Maybe")
    NO = "no", _("Not going")


RSVP_COLOURS: dict[str, str] = {RSVP.NONE: "light", RSVP.YES: "success", RSVP.MAYBE: "warning", RSVP.NO: "secondary"}


class EventParticipant(models.Model):
    """One person at one event: invited or not, their answer, whether they came.

    For job shadowing, `host` is the colleague of the other department whose
    work the participant watches (a technician at the sales desk, a sales rep
    in the workshop).
    """

    event = models.ForeignKey(TeamEvent, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_participations", verbose_name=_("who")
    )
    # Invited by name (not only through a department): kept when the invited
    # departments change.
    personally_invited = models.BooleanField(_("invited by name"), default=False)
    invited = models.BooleanField(_("invited"), default=True)
    rsvp = models.CharField(_("answer"), max_length=10, choices=RSVP.choices, default=RSVP.NONE)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    attended = models.BooleanField(_("attended"), default=False)
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hosted_participations",
        verbose_name=_("shadowing host"),
    )
    # The start time the day-before reminder was sent for: once per event and
    # person, and again if the event moves (goals.services.send_event_reminders).
    reminded_for = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["user__display_name", "id"]
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="one_participation_per_event_and_user")]
        indexes = [models.Index(fields=["user", "event"], name="participant_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.event_id}: {self.rsvp}"

    @property
    def rsvp_colour(self) -> str:
        return RSVP_COLOURS[self.rsvp]


def material_path(instance: EventMaterial, filename: str) -> str:
    return f"events/{instance.event_id}/{uuid.uuid4().hex}{Path(filename).suffix.lower()}"


class EventMaterial(models.Model):
    """A file handed out for an event (slides, checklist), served only to its branch."""

    event = models.ForeignKey(TeamEvent, on_delete=models.CASCADE, related_name="materials")
    file = models.FileField(_("file"), upload_to=material_path)
    original_name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("material")
        verbose_name_plural = _("materials")

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("goals:material_file", args=[self.event_id, self.pk])


class ActionItem(models.Model):
    """Something an event decided somebody does by a date; on their home page until done."""

    event = models.ForeignKey(TeamEvent, on_delete=models.CASCADE, related_name="action_items")
    text = models.CharField(_("what"), max_length=500)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="action_items", verbose_name=_("who")
    )
    due_date = models.DateField(_("due date"), null=True, blank=True, validators=[validate_in_range])
    # The customer voice item (feedback.CustomerVoice) this follows up. A plain
    # id for now: the feedback app is built in parallel and goals must not
    # depend on its migrations yet; it becomes a ForeignKey once both landed.
    voice_item_id = models.PositiveBigIntegerField(_("customer voice item no."), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["done_at", "due_date", "id"]
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        indexes = [models.Index(fields=["assignee", "done_at"], name="actionitem_assignee_idx")]

    def __str__(self) -> str:
        return self.text

    def get_absolute_url(self) -> str:
        return f"{self.event.get_absolute_url()}#action-item-{self.pk}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_date is not None and self.due_date < timezone.localdate()


class Organiser(models.Model):
    """A staff member a manager allowed to plan events (managers always may)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_organiser", verbose_name=_("who")
    )
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    granted_at = models.DateTimeField(_("allowed since"), default=timezone.now)

    class Meta:
        verbose_name = _("event organiser")
        verbose_name_plural = _("event organisers")

    def __str__(self) -> str:
        return str(self.user)


class CalendarFeed(models.Model):
    """The secret behind one person's calendar subscription URL.

    The URL carries an HMAC of `salt` (keyed with SECRET_KEY), not the salt
    itself, so neither a database copy nor the key alone yields a working URL.
    Resetting draws a new salt: the old URL stops working at once.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    salt = models.CharField(max_length=64)
    reset_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.user} ({self.reset_at:%Y-%m-%d})"


# --- Shared goals and KPIs (goals/metrics.py is the registry of figures) -----------------------------------


def metric_choices() -> list[tuple[str, str]]:
    """The registry's metrics (a callable, so a new metric needs no migration)."""
    from .metrics import metric_choices as registry_choices

    return registry_choices()


class GoalPeriod(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    CUSTOM = "custom", _("From – to")


class GoalStatus(models.TextChoices):
    NO_DATA = "no_data", _("No data yet")
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    BEHIND = "behind", _("Behind")
    MET = "met", _("Met")


GOAL_STATUS_COLOURS: dict[str, str] = {
    GoalStatus.NO_DATA: "secondary",
    GoalStatus.ON_TRACK: "success",
    GoalStatus.AT_RISK: "warning",
    GoalStatus.BEHIND: "danger",
    GoalStatus.MET: "primary",
}
GOAL_STATUS_ICONS: dict[str, str] = {
    GoalStatus.NO_DATA: "hourglass",
    GoalStatus.ON_TRACK: "check-circle",
    GoalStatus.AT_RISK: "exclamation-triangle",
    GoalStatus.BEHIND: "arrow-down-circle",
    GoalStatus.MET: "trophy",
}
# How far from where it should be a goal may be and still count as "at risk"
# rather than "behind": a share of the target.
AT_RISK_TOLERANCE = 0.10


class GoalProgress:
    """Where a goal stands: its value, where it should be by now, its status.

    `bar` and `pace` are 0–1 positions on the progress bar: how far the value
    is towards the target, and where it should be by now.
    """

    __slots__ = ("bar", "expected", "fraction", "pace", "status", "value")

    def __init__(self, *, value, expected, bar, pace, status, fraction) -> None:
        self.value, self.expected, self.bar, self.pace = value, expected, bar, pace
        self.status, self.fraction = status, fraction

    @property
    def bar_percent(self) -> int:
        return round(100 * self.bar)

    @property
    def pace_percent(self) -> int:
        return round(100 * self.pace)

    @property
    def pace_step(self) -> int:
        """The pace marker's position in steps of 5 % (CSS classes: no inline style under the CSP)."""
        return 5 * round(20 * self.pace)

    @property
    def status_label(self) -> str:
        return GoalStatus(self.status).label

    @property
    def status_colour(self) -> str:
        return GOAL_STATUS_COLOURS[self.status]

    @property
    def status_icon(self) -> str:
        return GOAL_STATUS_ICONS[self.status]


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


class Goal(models.Model):
    """A goal sales and service reach together: a metric, a target, a period, a branch (or all)."""

    metric = models.CharField(_("metric"), max_length=40, choices=metric_choices)
    target = models.DecimalField(_("target"), max_digits=12, decimal_places=2)
    period = models.CharField(_("period"), max_length=10, choices=GoalPeriod.choices, default=GoalPeriod.MONTH)
    # Both days included; month and quarter goals start on the first day.
    start_date = models.DateField(_("from"), validators=[validate_in_range])
    end_date = models.DateField(_("to"), validators=[validate_in_range])
    # Null: the goal is for every branch together (all-branch managers set those).
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, null=True, blank=True, related_name="goals", verbose_name=_("branch")
    )
    # Department values (accounts.Department) who work on it; read whole with the goal.
    departments = models.JSONField(_("departments involved"), default=list, blank=True)
    note = models.CharField(_("how we get there"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("set by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)

    class Meta:
        ordering = ["-start_date", "metric", "id"]
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        indexes = [models.Index(fields=["archived_at", "end_date"], name="goal_active_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(end_date__gte=models.F("start_date")), name="goal_dates_in_order")
        ]

    def __str__(self) -> str:
        return f"{self.metric_label}: {self.target_display} ({self.period_label})"

    def get_absolute_url(self) -> str:
        return f"{reverse('goals:kpi_dashboard')}#goal-{self.pk}"

    @property
    def metric_def(self):
        from .metrics import get_metric

        return get_metric(self.metric)

    @property
    def metric_label(self) -> str:
        return str(self.metric_def.label) if self.metric in self._registry_keys() else self.metric

    @staticmethod
    def _registry_keys() -> set[str]:
        from .metrics import METRICS

        return set(METRICS)

    @property
    def target_display(self) -> str:
        value = float(self.target)
        return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}".rstrip("0")

    @property
    def end_exclusive(self):
        from datetime import timedelta

        return self.end_date + timedelta(days=1)

    @property
    def period_label(self) -> str:
        if self.period == GoalPeriod.MONTH:
            return f"{self.start_date:%Y-%m}"
        if self.period == GoalPeriod.QUARTER:
            return f"{self.start_date.year} Q{(self.start_date.month - 1) // 3 + 1}"
        return f"{self.start_date:%Y-%m-%d} – {self.end_date:%Y-%m-%d}"

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def department_labels(self) -> list[str]:
        return [str(Department(value).label) for value in self.departments if value in Department.values]

    def is_current(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.start_date <= today <= self.end_date

    def elapsed_fraction(self, now=None) -> float:
        """How much of the period has passed, 0 at its first local midnight, 1 at its end."""
        from .metrics import bounds

        start_at, end_at = bounds(self.start_date, self.end_exclusive)
        now = now or timezone.now()
        return _clamp((now - start_at) / (end_at - start_at))

    def value_until(self, now=None):
        """The day after which the goal's value stops counting: today's end, or the period's."""
        from datetime import timedelta

        today = timezone.localdate(now) if now else timezone.localdate()
        return min(self.end_exclusive, max(self.start_date, today + timedelta(days=1)))

    def assess(self, value: float | None, *, now=None) -> GoalProgress:
        """Status of the goal given its current value (a fact about this row and one number).

        Counts and sums (cumulative metrics) should grow with the days: where
        the value should be by now is the target × the share of the period
        passed. Rates and averages are a level to hold: it should be at the
        target all along. "Met" is final: a count that reached its target, or
        a level held at the period's end. Within AT_RISK_TOLERANCE × target of
        where it should be is "at risk"; further off is "behind".
        """
        metric = self.metric_def
        fraction = self.elapsed_fraction(now)
        ended = fraction >= 1
        target = float(self.target)
        expected = target * fraction if metric.cumulative else target
        tolerance = AT_RISK_TOLERANCE * abs(target)
        higher = metric.higher_is_better
        if value is None:
            status = GoalStatus.NO_DATA
        elif higher:
            if value >= target and (metric.cumulative or ended):
                status = GoalStatus.MET
            elif ended:
                status = GoalStatus.BEHIND
            elif value >= expected:
                status = GoalStatus.ON_TRACK
            else:
                status = GoalStatus.AT_RISK if value >= expected - tolerance else GoalStatus.BEHIND
        elif value > target + (0 if metric.cumulative or ended else tolerance):
            # Over the limit: a spent budget cannot come back, a level can (until the end).
            status = GoalStatus.BEHIND
        elif ended:
            status = GoalStatus.MET
        elif value <= expected:
            status = GoalStatus.ON_TRACK
        else:
            status = GoalStatus.AT_RISK if value <= expected + tolerance else GoalStatus.BEHIND
        if value is None:
            bar = 0.0
        elif higher or metric.cumulative:
            # Towards a target from below, or how much of a budget is spent.
            bar = _clamp(value / target) if target > 0 else float(value >= target)
        else:
            # A level to stay under: full when at or below it.
            bar = _clamp(target / value) if value > 0 else 1.0
        pace = _clamp(expected / target) if target > 0 else 1.0
        return GoalProgress(value=value, expected=expected, bar=bar, pace=pace, status=status, fraction=fraction)


class ManualKpiValue(models.Model):
    """One day's figure of a manual metric for one branch (entered by form or CSV)."""

    metric = models.CharField(_("metric"), max_length=40)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+", verbose_name=_("branch"))
    date = models.DateField(_("date"), validators=[validate_in_range])
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("entered by")
    )
    entered_at = models.DateTimeField(_("entered at"), default=timezone.now)

    class Meta:
        ordering = ["-date", "metric", "branch"]
        verbose_name = _("manual KPI value")
        verbose_name_plural = _("manual KPI values")
        constraints = [
            models.UniqueConstraint(fields=["metric", "branch", "date"], name="one_manual_value_per_metric_branch_day")
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.branch_id} {self.date}: {self.value}"


class KpiSnapshot(models.Model):
    """A metric's figure for one local day and one branch (null: all branches), for the trend charts.

    Written only by `goals.kpi_services.backfill` (the daily beat task and
    `manage.py backfill_kpis`); a day with nothing to measure is stored with
    no value, so the chart shows a gap, not a zero.
    """

    metric = models.CharField(_("metric"), max_length=40)
    branch = models.ForeignKey(
        Branch, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("branch")
    )
    date = models.DateField(_("date"))
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=4, null=True, blank=True)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    class Meta:
        ordering = ["metric", "date"]
        verbose_name = _("KPI snapshot")
        verbose_name_plural = _("KPI snapshots")
        # NULL branches are not equal to each other in a plain unique
        # constraint: the all-branch row gets its own.
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "branch", "date"],
                condition=models.Q(branch__isnull=False),
                name="one_snapshot_per_metric_branch_day",
            ),
            models.UniqueConstraint(
                fields=["metric", "date"],
                condition=models.Q(branch__isnull=True),
                name="one_all_branch_snapshot_per_metric_day",
            ),
        ]
        indexes = [models.Index(fields=["branch", "date"], name="kpisnapshot_branch_date_idx")]

    def __str__(self) -> str:
        return f"{self.metric} {self.branch_id or 'all'} {self.date}: {self.value}"
