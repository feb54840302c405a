"""Shared team goals and the figures behind them.

`Goal` is a target on one metric of the registry (goals/metrics.py);
`ManualKpiValue` holds the figures from outside the portal (the dealer's DMS);
`KpiSnapshot` keeps each metric's daily figure for the trend charts. The team
events these figures partly count live in events/.

The registry sits below this module: the models import it (a goal's metric,
its label and direction), and it never imports them back.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Department
from dealership.dates import validate_in_range
from dealership.models import Branch

from .metrics import METRICS, Metric, bounds, get_metric, metric_choices


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

    # The registry's metrics, as a callable: a new metric needs no migration.
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
    def metric_def(self) -> Metric:
        return get_metric(self.metric)

    @property
    def metric_label(self) -> str:
        return str(self.metric_def.label) if self.metric in METRICS else self.metric

    @property
    def target_display(self) -> str:
        value = float(self.target)
        return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}".rstrip("0")

    @property
    def end_exclusive(self) -> date:
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

    def is_current(self, today: date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.start_date <= today <= self.end_date

    def elapsed_fraction(self, now: datetime | None = None) -> float:
        """How much of the period has passed, 0 at its first local midnight, 1 at its end."""
        start_at, end_at = bounds(self.start_date, self.end_exclusive)
        now = now or timezone.now()
        return _clamp((now - start_at) / (end_at - start_at))

    def value_until(self, now: datetime | None = None) -> date:
        """The day after which the goal's value stops counting: today's end, or the period's."""
        today = timezone.localdate(now) if now else timezone.localdate()
        return min(self.end_exclusive, max(self.start_date, today + timedelta(days=1)))

    def assess(self, value: float | None, *, now: datetime | None = None) -> GoalProgress:
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

    Written only by `goals.services.backfill` (the daily beat task and
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
