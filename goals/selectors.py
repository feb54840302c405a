"""Reads of shared goals and KPIs, always scoped to what the user may see.

The dashboard's query count depends on the number of metrics and goals shown,
never on the number of jobs, answers or events behind them: every figure is
one aggregate query (tests/goals/test_kpi_views.py asserts it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from dealership import dates
from dealership.models import Branch
from dealership.scopes import may_see_branch, scope_to

from . import permissions
from .metrics import METRICS, Metric, Value, get_metric
from .models import Goal, GoalPeriod, GoalProgress, KpiSnapshot, ManualKpiValue
from .services import period_dates

# Goal cards shown at most (dashboard) and on the home page.
DASHBOARD_GOALS = 12
HOME_GOALS = 4


@dataclass(frozen=True)
class Period:
    """A dashboard period: local days [start, end), with the period before it."""

    kind: str  # GoalPeriod values
    start: date
    end: date  # first day not included
    # Why dates in the query were not used (the default period is shown instead); "" when they were.
    notice: str = ""

    @classmethod
    def from_query(cls, params, *, today: date | None = None) -> Period:
        today = today or timezone.localdate()
        kind = params.get("period", GoalPeriod.MONTH)
        notice = ""
        try:
            start, last = dates.parse_day(params.get("start")), dates.parse_day(params.get("end"))
            anchor = dates.parse_month(params.get("month"))
        except dates.DateRefused as refused:
            start = last = anchor = None
            notice = str(refused)
        if kind == GoalPeriod.CUSTOM:
            if start and last and start <= last and (last - start).days <= 366:
                return cls(kind=kind, start=start, end=last + timedelta(days=1))
            kind = GoalPeriod.MONTH
        if kind != GoalPeriod.QUARTER:
            kind = GoalPeriod.MONTH
        first, last = period_dates(kind, anchor or today)
        return cls(kind=kind, start=first, end=last + timedelta(days=1), notice=notice)

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> Period:
        if self.kind == GoalPeriod.CUSTOM:
            return Period(kind=self.kind, start=self.start - timedelta(days=self.days), end=self.start)
        first, last = period_dates(self.kind, self.start - timedelta(days=1))
        return Period(kind=self.kind, start=first, end=last + timedelta(days=1))

    @property
    def label(self) -> str:
        if self.kind == GoalPeriod.MONTH:
            return f"{self.start:%Y-%m}"
        if self.kind == GoalPeriod.QUARTER:
            return f"{self.start.year} Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start:%Y-%m-%d} – {self.last:%Y-%m-%d}"

    def as_query(self) -> dict[str, str]:
        if self.kind == GoalPeriod.CUSTOM:
            return {"period": self.kind, "start": self.start.isoformat(), "end": self.last.isoformat()}
        return {"period": self.kind, "month": f"{self.start:%Y-%m}"}

    @property
    def until(self) -> date:
        """The figures run to today at most: the future has no data yet."""
        return min(self.end, max(self.start, timezone.localdate() + timedelta(days=1)))


def kpi_branches(user: User) -> list[Branch]:
    """The branches the user may choose on the dashboard and in the forms (a dealership has a handful)."""
    return [branch for branch in Branch.objects.order_by("code") if may_see_branch(user, branch.pk)]


def scope_for(user: User, value: str | None) -> Branch | None:
    """The branch the dashboard shows (None: all), or Branch.DoesNotExist (→ 404).

    Someone of one branch always sees their branch; asking for another, or
    for all together, is refused like any other branch's object.
    """
    text = (value or "").strip()
    if user.sees_all_branches:
        if text in ("", "all"):
            return None
    elif text in ("", str(user.branch_id)):
        return Branch.objects.get(pk=user.branch_id)
    if not (text.isascii() and text.isdigit() and len(text) < 10):
        raise Branch.DoesNotExist
    branch = Branch.objects.get(pk=int(text))
    if not permissions.can_see_branch_figures(user, branch):
        raise Branch.DoesNotExist
    return branch


@dataclass(frozen=True)
class Figure:
    metric: Metric
    value: Value
    previous: Value

    @property
    def change(self) -> Value:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def display(self) -> str:
        return self.metric.format(self.value)

    @property
    def previous_display(self) -> str:
        return self.metric.format(self.previous)

    @property
    def change_display(self) -> str:
        return self.metric.format(self.change, signed=True)

    @property
    def improved(self) -> bool | None:
        change = self.change
        if not change:
            return None
        return (change > 0) == self.metric.higher_is_better


def figures(branch: Branch | None, period: Period) -> list[Figure]:
    """Every metric for the period beside the period before: one aggregate query per metric."""
    previous = period.previous()
    both = [(period.start, period.until), (previous.start, previous.end)]
    return [
        Figure(metric, *metric.compute_periods(branch, both))  # one query for both periods
        for metric in METRICS.values()
    ]


def trends(branch: Branch | None, period: Period, keys: list[str] | None = None) -> dict[str, list[tuple]]:
    """Daily snapshots of each metric in the period, one query: {key: [(day, value), …]}."""
    keys = keys or list(METRICS)
    series: dict[str, list[tuple]] = {key: [] for key in keys}
    rows = (
        KpiSnapshot.objects.filter(metric__in=keys, date__gte=period.start, date__lt=period.end)
        .filter(Q(branch__isnull=True) if branch is None else Q(branch=branch))
        .order_by("date")
        .values_list("metric", "date", "value")
    )
    for key, day, value in rows:
        series[key].append((day, None if value is None else float(value)))
    return series


def goals_visible_to(user: User) -> QuerySet[Goal]:
    """The goals of the branches the user sees, and the team goals of all branches (no branch)."""
    return Goal.objects.filter(branch__isnull=True) | scope_to(Goal.objects.all(), user)


def get_goal_for_user(user: User, pk: int) -> Goal:
    """The goal, or Goal.DoesNotExist when the user may not see it (→ 404)."""
    return goals_visible_to(user).select_related("branch", "created_by").get(pk=pk)


def goals_for(user: User, branch: Branch | None, start: date, end: date, *, limit: int) -> list[Goal]:
    """Goals of the scope (the branch and the all-branch ones) overlapping [start, end), not archived.

    A goal stored with days outside the portal's range (saved before the rule,
    or by a script) is left out: its progress cannot be computed (the day after
    9999-12-31 does not exist), and one such row must not break the dashboard.
    """
    qs = goals_visible_to(user).filter(
        archived_at__isnull=True,
        start_date__lt=end,
        end_date__gte=start,
        start_date__gte=dates.FIRST_DAY,
        end_date__lte=dates.LAST_DAY,
    )
    if branch is not None:
        qs = qs.filter(Q(branch__isnull=True) | Q(branch=branch))
    return list(qs.select_related("branch").order_by("end_date", "metric", "pk")[:limit])


@dataclass(frozen=True)
class GoalCard:
    goal: Goal
    progress: GoalProgress
    can_manage: bool

    @property
    def metric(self) -> Metric:
        return get_metric(self.goal.metric)

    @property
    def value_display(self) -> str:
        return self.metric.format(self.progress.value)

    @property
    def expected_display(self) -> str:
        return self.metric.format(self.progress.expected)


def goal_cards(user: User, goals: list[Goal], *, now: datetime | None = None) -> list[GoalCard]:
    """Each goal with its current value and status: one aggregate per goal."""
    now = now or timezone.now()
    cards = []
    for goal in goals:
        if goal.metric not in METRICS:
            continue
        metric = get_metric(goal.metric)
        value = metric.compute(goal.branch, goal.start_date, goal.value_until(now))
        cards.append(
            GoalCard(
                goal=goal, progress=goal.assess(value, now=now), can_manage=permissions.can_manage_goal(user, goal)
            )
        )
    return cards


def home_goals(user: User) -> list[GoalCard]:
    """The team's current goals for the home page: team figures only, nobody ranked."""
    if not permissions.can_see_kpis(user):
        return []
    today = timezone.localdate()
    branch = None if user.sees_all_branches else user.branch
    goals = goals_for(user, branch, today, today + timedelta(days=1), limit=HOME_GOALS)
    return goal_cards(user, goals)


def recent_manual_values(user: User, *, limit: int = 20) -> QuerySet[ManualKpiValue]:
    qs = scope_to(ManualKpiValue.objects.all(), user)
    return qs.select_related("branch", "entered_by").order_by("-date", "-entered_at")[:limit]
