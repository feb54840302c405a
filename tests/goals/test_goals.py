"""Goals: progress and pace for both directions through a period; the goal services;
snapshots (idempotent per day and branch), the backfill, the beat task and the command."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Department, Role
from dealership.settings import CELERY_BEAT_SCHEDULE
from goals import services as kpi_services
from goals import tasks
from goals.metrics import METRICS, get_metric
from goals.models import Goal, GoalPeriod, GoalStatus, KpiSnapshot
from tests.factories import UserFactory

from .test_metrics import at, job, response

pytestmark = pytest.mark.django_db

BOTH = [Department.SALES, Department.SERVICE]


def goal(metric: str, target, **extra) -> Goal:
    """An October 2026 goal (31 days)."""
    fields = {"period": GoalPeriod.MONTH, "start_date": date(2026, 10, 1), "end_date": date(2026, 10, 31)}
    return Goal(metric=metric, target=Decimal(str(target)), departments=BOTH, **(fields | extra))


START = at(1, 0)  # the period's first moment
MIDDLE = at(16, 12)  # 15.5 of 31 days: exactly half
END = at(1, 0, month=11)  # the period is over


# --- progress and pace --------------------------------------------------------------------------------------


def test_the_elapsed_share_runs_from_zero_at_the_first_local_midnight_to_one_at_the_end():
    october = goal("jobs_delivered", 100)
    assert october.elapsed_fraction(START) == 0
    assert october.elapsed_fraction(MIDDLE) == pytest.approx(0.5)
    assert october.elapsed_fraction(END) == 1
    assert october.elapsed_fraction(at(1, 0, month=12)) == 1


@pytest.mark.parametrize(
    ("now", "value", "expected", "status"),
    [
        (START, 0, 0, GoalStatus.ON_TRACK),  # nothing expected yet
        (MIDDLE, 50, 50, GoalStatus.ON_TRACK),  # exactly on pace
        (MIDDLE, 45, 50, GoalStatus.AT_RISK),  # within 10 % of the target below the pace
        (MIDDLE, 30, 50, GoalStatus.BEHIND),
        (MIDDLE, 100, 50, GoalStatus.MET),  # a count that reached its target is met at once
        (END, 100, 100, GoalStatus.MET),
        (END, 99, 100, GoalStatus.BEHIND),
    ],
)
def test_a_count_to_reach_should_grow_with_the_days(now, value, expected, status):
    progress = goal("jobs_delivered", 100).assess(value, now=now)
    assert progress.expected == pytest.approx(expected)
    assert progress.status == status
    assert progress.bar == pytest.approx(min(value / 100, 1))
    assert progress.pace == pytest.approx(expected / 100)


@pytest.mark.parametrize(
    ("now", "value", "status"),
    [
        (START, 4.6, GoalStatus.ON_TRACK),
        (MIDDLE, 4.5, GoalStatus.ON_TRACK),  # a level held is on track, not yet met
        (MIDDLE, 4.2, GoalStatus.AT_RISK),  # within 10 % of the target
        (MIDDLE, 3.9, GoalStatus.BEHIND),
        (END, 4.5, GoalStatus.MET),
        (END, 4.4, GoalStatus.BEHIND),
    ],
)
def test_a_higher_is_better_level_is_held_all_period(now, value, status):
    progress = goal("csat", 4.5).assess(value, now=now)
    assert progress.expected == pytest.approx(4.5)  # the level, whatever the day
    assert progress.pace == 1
    assert progress.status == status


@pytest.mark.parametrize(
    ("now", "value", "status", "bar"),
    [
        (START, 20, GoalStatus.ON_TRACK, 1.0),
        (MIDDLE, 24, GoalStatus.ON_TRACK, 1.0),  # at the limit
        (MIDDLE, 26, GoalStatus.AT_RISK, 24 / 26),  # within 10 % above it
        (MIDDLE, 30, GoalStatus.BEHIND, 0.8),
        (END, 23, GoalStatus.MET, 1.0),
        (END, 25, GoalStatus.BEHIND, 24 / 25),
    ],
)
def test_a_lower_is_better_level_must_stay_under_its_target(now, value, status, bar):
    progress = goal("avg_turnaround_hours", 24).assess(value, now=now)
    assert get_metric("avg_turnaround_hours").direction == "lower"
    assert progress.expected == pytest.approx(24)
    assert progress.status == status
    assert progress.bar == pytest.approx(bar)


@pytest.mark.parametrize(
    ("now", "value", "status"),
    [
        (START, 0, GoalStatus.ON_TRACK),
        (MIDDLE, 5, GoalStatus.ON_TRACK),  # half the budget by half the period
        (MIDDLE, 5.5, GoalStatus.AT_RISK),
        (MIDDLE, 8, GoalStatus.BEHIND),
        (MIDDLE, 11, GoalStatus.BEHIND),  # the budget is spent: it cannot come back
        (END, 10, GoalStatus.MET),
        (END, 11, GoalStatus.BEHIND),
    ],
)
def test_a_lower_is_better_count_is_a_budget_spent_with_the_days(now, value, status, monkeypatch):
    # No registered count is lower-is-better yet; a manual metric could be (e.g. complaints).
    metric = get_metric("units_sold")
    monkeypatch.setattr(type(metric), "direction", "lower")
    progress = goal("units_sold", 10).assess(value, now=now)
    assert progress.status == status


def test_a_goal_without_data_says_so_instead_of_a_status():
    progress = goal("csat", 4.5).assess(None, now=MIDDLE)
    assert progress.status == GoalStatus.NO_DATA
    assert progress.bar == 0


def test_the_goal_s_value_counts_up_to_today_within_its_period(time_machine):
    time_machine.move_to(MIDDLE)
    october = goal("jobs_delivered", 10)
    assert october.value_until() == date(2026, 10, 17)
    time_machine.move_to(at(5, month=11))
    assert october.value_until() == date(2026, 11, 1)


# --- the goal services --------------------------------------------------------------------------------------


def test_a_manager_sets_a_month_goal_from_any_day_in_the_month(manager):
    made = kpi_services.create_goal(
        by=manager,
        metric="new_car_deliveries",
        target=Decimal(20),
        period=GoalPeriod.MONTH,
        start_date=date(2026, 2, 14),
        branch=manager.branch,
        departments=[Department.SERVICE, Department.SALES],
    )
    assert (made.start_date, made.end_date) == (date(2026, 2, 1), date(2026, 2, 28))
    assert made.departments == [Department.SALES, Department.SERVICE]
    assert made.created_by == manager


def test_a_quarter_goal_covers_its_three_months(manager):
    made = kpi_services.create_goal(
        by=manager,
        metric="csat",
        target=Decimal("4.5"),
        period=GoalPeriod.QUARTER,
        start_date=date(2026, 11, 30),
        branch=manager.branch,
        departments=BOTH,
    )
    assert (made.start_date, made.end_date) == (date(2026, 10, 1), date(2026, 12, 31))
    assert made.period_label == "2026 Q4"


@pytest.mark.parametrize("persona", ["sales_rep", "technician", "advisor"])
def test_only_managers_set_goals(persona, request):
    with pytest.raises(PermissionDenied):
        kpi_services.create_goal(
            by=request.getfixturevalue(persona),
            metric="csat",
            target=Decimal(4),
            period=GoalPeriod.MONTH,
            start_date=date(2026, 10, 1),
            branch=request.getfixturevalue("branch"),
            departments=BOTH,
        )
    assert not Goal.objects.exists()


def test_a_branch_manager_sets_no_goal_for_another_branch_or_for_all(manager, other_branch):
    for target_branch in (other_branch, None):
        with pytest.raises(PermissionDenied):
            kpi_services.create_goal(
                by=manager,
                metric="csat",
                target=Decimal(4),
                period=GoalPeriod.MONTH,
                start_date=date(2026, 10, 1),
                branch=target_branch,
                departments=BOTH,
            )


def test_custom_dates_must_be_in_order_and_a_metric_must_exist(manager):
    arguments = {"by": manager, "target": Decimal(4), "branch": manager.branch, "departments": BOTH}
    with pytest.raises(kpi_services.GoalError):
        kpi_services.create_goal(
            metric="csat",
            period=GoalPeriod.CUSTOM,
            start_date=date(2026, 10, 5),
            end_date=date(2026, 10, 1),
            **arguments,
        )
    with pytest.raises(kpi_services.GoalError):
        kpi_services.create_goal(metric="no_such", period=GoalPeriod.MONTH, start_date=date(2026, 10, 5), **arguments)
    with pytest.raises(kpi_services.GoalError):
        kpi_services.create_goal(
            metric="csat", period=GoalPeriod.MONTH, start_date=date(2026, 10, 5), **(arguments | {"departments": []})
        )


def test_update_saves_changed_fields_and_archive_takes_the_goal_off(manager, other_branch_manager):
    made = kpi_services.create_goal(
        by=manager,
        metric="csat",
        target=Decimal(4),
        period=GoalPeriod.MONTH,
        start_date=date(2026, 10, 1),
        branch=manager.branch,
        departments=BOTH,
    )
    changes = {
        "metric": "nps",
        "target": Decimal(30),
        "period": GoalPeriod.MONTH,
        "start_date": date(2026, 10, 1),
        "branch": manager.branch,
        "departments": BOTH,
    }
    with pytest.raises(PermissionDenied):
        kpi_services.update_goal(made, by=other_branch_manager, **changes)
    kpi_services.update_goal(made, by=manager, **changes)
    made.refresh_from_db()
    assert (made.metric, made.target) == ("nps", Decimal(30))
    with pytest.raises(PermissionDenied):
        kpi_services.archive_goal(made, by=other_branch_manager)
    kpi_services.archive_goal(made, by=manager)
    assert Goal.objects.get().is_archived


# --- snapshots ----------------------------------------------------------------------------------------------


def test_taking_a_day_s_snapshots_twice_leaves_one_row_per_metric_and_branch(branch, other_branch):
    job(branch, kind="pdi", delivered_at=at(5, 9))
    first = kpi_services.take_snapshots(date(2026, 10, 5))
    job(branch, kind="pdi", delivered_at=at(5, 15))
    second = kpi_services.take_snapshots(date(2026, 10, 5))
    scopes = 3  # all branches, and each of the two
    assert first == second == len(METRICS) * scopes
    assert KpiSnapshot.objects.count() == len(METRICS) * scopes
    row = KpiSnapshot.objects.get(metric="new_car_deliveries", branch=branch, date=date(2026, 10, 5))
    assert row.value == 2  # the second run replaced the first
    assert KpiSnapshot.objects.get(metric="new_car_deliveries", branch=None, date=date(2026, 10, 5)).value == 2
    assert KpiSnapshot.objects.get(metric="new_car_deliveries", branch=other_branch, date=date(2026, 10, 5)).value == 0


def test_a_day_with_nothing_to_measure_is_stored_without_a_value(branch):
    kpi_services.take_snapshots(date(2026, 10, 5))
    assert KpiSnapshot.objects.get(metric="csat", branch=branch, date=date(2026, 10, 5)).value is None
    assert KpiSnapshot.objects.get(metric="jobs_delivered", branch=branch, date=date(2026, 10, 5)).value == 0


def test_backfill_stores_each_day_s_own_figure_for_each_branch(branch, other_branch):
    response(branch, overall=5, nps=10, submitted=at(3, 10))
    response(branch, overall=3, nps=6, submitted=at(3, 23, 30))  # late evening, still the 3rd in Tokyo
    response(branch, overall=4, nps=9, submitted=at(5, 0, 10))
    response(other_branch, overall=1, nps=0, submitted=at(3, 12))
    written = kpi_services.backfill(date(2026, 10, 2), date(2026, 10, 5))
    assert written == len(METRICS) * 3 * 4
    csat = dict(KpiSnapshot.objects.filter(metric="csat", branch=branch).order_by("date").values_list("date", "value"))
    assert csat == {
        date(2026, 10, 2): None,
        date(2026, 10, 3): Decimal(4),
        date(2026, 10, 4): None,
        date(2026, 10, 5): Decimal(4),
    }
    everyone = KpiSnapshot.objects.get(metric="csat", branch=None, date=date(2026, 10, 3))
    assert everyone.value == Decimal(3)
    nps = KpiSnapshot.objects.get(metric="nps", branch=branch, date=date(2026, 10, 3))
    assert nps.value == Decimal(0)  # one promoter, one detractor


def test_backfill_refuses_a_range_that_ends_before_it_starts():
    with pytest.raises(kpi_services.GoalError):
        kpi_services.backfill(date(2026, 10, 5), date(2026, 10, 4))


def test_the_daily_task_recomputes_the_last_month_up_to_today(branch, time_machine):
    time_machine.move_to(at(20, 0, 30))
    job(branch, kind="repair", delivered_at=at(19, 16))
    assert tasks.take_kpi_snapshots.delay().get() > 0
    row = KpiSnapshot.objects.get(metric="jobs_delivered", branch=branch, date=date(2026, 10, 19))
    assert row.value == 1
    days = KpiSnapshot.objects.filter(metric="jobs_delivered", branch=branch).values_list("date", flat=True)
    assert min(days) == date(2026, 10, 20) - timedelta(days=kpi_services.RECOMPUTE_DAYS)
    assert max(days) == date(2026, 10, 20)
    again = KpiSnapshot.objects.count()
    tasks.take_kpi_snapshots.delay().get()
    assert KpiSnapshot.objects.count() == again


def test_the_daily_task_is_on_the_beat_schedule():
    assert any(entry["task"] == "goals.tasks.take_kpi_snapshots" for entry in CELERY_BEAT_SCHEDULE.values())


def test_the_backfill_command_writes_the_range_and_rejects_bad_dates(branch):
    out = io.StringIO()
    call_command("backfill_kpis", "--from", "2026-10-01", "--to", "2026-10-03", "--metric", "csat", stdout=out)
    assert "6 snapshots written" in out.getvalue()  # 3 days × (all branches + 1 branch)
    assert KpiSnapshot.objects.filter(metric="csat").count() == 6
    with pytest.raises(CommandError):
        call_command("backfill_kpis", "--from", "yesterday", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("backfill_kpis", "--from", "2026-10-01", "--metric", "nope", stdout=io.StringIO())


def test_an_all_branch_manager_sets_a_goal_for_every_branch(branch):
    boss = UserFactory(role=Role.MANAGER, department=Department.MANAGEMENT, branch=branch, all_branches=True)
    made = kpi_services.create_goal(
        by=boss,
        metric="nps",
        target=Decimal(40),
        period=GoalPeriod.CUSTOM,
        start_date=date(2026, 10, 1),
        end_date=date(2026, 12, 15),
        branch=None,
        departments=BOTH,
    )
    assert made.branch is None
    assert made.period_label == "2026-10-01 – 2026-12-15"


def test_the_demo_sets_goals_in_every_state_and_90_days_of_snapshots_once():
    from goals.models import ManualKpiValue
    from goals.selectors import goal_cards

    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    manager = UserFactory.build(role=Role.MANAGER, all_branches=True, is_superuser=True)
    goals = list(Goal.objects.select_related("branch"))
    states = {card.progress.status for card in goal_cards(manager, goals)}
    assert {GoalStatus.ON_TRACK, GoalStatus.AT_RISK, GoalStatus.BEHIND, GoalStatus.MET} <= states
    days = KpiSnapshot.objects.filter(metric="jobs_delivered", branch=None).values_list("date", flat=True)
    assert len(days) == 90
    assert KpiSnapshot.objects.filter(metric="jobs_delivered", branch=None, value__gt=0).exists()
    counts = (Goal.objects.count(), ManualKpiValue.objects.count(), KpiSnapshot.objects.count())
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    assert (Goal.objects.count(), ManualKpiValue.objects.count(), KpiSnapshot.objects.count()) == counts
