"""Demo goals and figures for each branch: units sold from the DMS for 90 days,
goals in every state (on track, at risk, behind, met), and 90 days of trend
snapshots.

Written through the services like everything else; runs after the events'
demo (seed_demo's order), whose sessions the participation figure counts.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from django.utils import timezone

from accounts.models import Department, Role, User
from dealership.models import Branch

from . import services
from .metrics import get_metric
from .models import Goal, GoalPeriod


def _manager(branch: Branch) -> User | None:
    """The branch's own manager (not an all-branch one), who sets its goals."""
    return (
        User.objects.filter(branch=branch, is_active=True, role=Role.MANAGER, all_branches=False).order_by("pk").first()
    )


def seed(data: dict, rng: random.Random) -> dict:
    """Units sold for 90 days, goals on track / at risk / behind / met per branch, trend snapshots.

    Targets are set from the demo's own figures so that each state shows
    whatever day the demo is seeded; written through the services like
    everything else. Runs once: a branch with goals is left alone.
    """
    today = timezone.localdate()
    made = 0
    for branch in Branch.objects.order_by("pk"):
        manager = _manager(branch)
        if manager is None or Goal.objects.filter(branch=branch).exists():
            continue
        for offset in range(90, 0, -1):
            day = today - timedelta(days=offset)
            sold = rng.choice([0, 0, 1, 1, 1, 2, 2, 3]) + (1 if day.weekday() >= 5 else 0)
            services.record_manual_value(by=manager, metric="units_sold", branch=branch, day=day, value=Decimal(sold))
        # A 90-day window around today: half of it has passed, whatever the date.
        start, end = today - timedelta(days=45), today + timedelta(days=44)
        last_month_end = today.replace(day=1) - timedelta(days=1)

        def value(key: str, first, until, branch=branch) -> float | None:
            return get_metric(key).compute(branch, first, until)

        def whole(number: float, rounding) -> Decimal:
            return Decimal(str(number)).quantize(Decimal(1), rounding=rounding)

        turnaround = value("avg_turnaround_hours", start, today + timedelta(days=1)) or 24
        csat = value("csat", start, today + timedelta(days=1)) or 4
        deliveries = value("new_car_deliveries", start, today + timedelta(days=1)) or 0
        delivered = value("jobs_delivered", last_month_end.replace(day=1), today.replace(day=1)) or 0
        sold = value("units_sold", today.replace(day=1), today + timedelta(days=1)) or 0
        goals = [
            # On track: the workshop keeps its average turnaround under a limit it beats.
            (
                "avg_turnaround_hours",
                whole(turnaround * 1.2, ROUND_CEILING),
                GoalPeriod.CUSTOM,
                start,
                end,
                "完成検査の待ちを減らし、平均作業時間を守る",
            ),
            # At risk: satisfaction a little under its target.
            (
                "csat",
                min(Decimal(5), Decimal(str(round(csat * 1.05, 2)))),
                GoalPeriod.CUSTOM,
                start,
                end,
                "納車時の説明を営業と整備で分担する",
            ),
            # Behind: a stretch target for new-car deliveries.
            (
                "new_car_deliveries",
                max(Decimal(10), whole(deliveries * 3, ROUND_CEILING)),
                GoalPeriod.CUSTOM,
                start,
                end,
                "PDIの依頼を納車3営業日前までに",
            ),
            # Met: last month's deliveries.
            ("jobs_delivered", whole(delivered, ROUND_FLOOR), GoalPeriod.MONTH, last_month_end, None, "先月の納車目標"),
            # This month's units sold (from the DMS), whatever state it is in.
            (
                "units_sold",
                whole(max(sold, 1) * 1.3, ROUND_CEILING),
                GoalPeriod.MONTH,
                today,
                None,
                "点検入庫のお客様に新型車のご案内を",
            ),
        ]
        for metric, target, period, first, last, note in goals:
            services.create_goal(
                by=manager,
                metric=metric,
                target=target,
                period=period,
                start_date=first,
                end_date=last,
                branch=branch,
                departments=[Department.SALES, Department.SERVICE],
                note=note,
            )
            made += 1
    if made:
        services.backfill(today - timedelta(days=89), today)
    return {"goals_set": made}
