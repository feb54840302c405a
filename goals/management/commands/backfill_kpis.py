"""`manage.py backfill_kpis --from 2026-09-01 --to 2026-11-29`: compute the trend charts' daily snapshots."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from goals import services
from goals.metrics import METRICS


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {value}") from None


class Command(BaseCommand):
    help = "Store every KPI's daily figure for each branch and all branches, from --from to --to (both included)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", help="last day, YYYY-MM-DD (default: yesterday)")
        parser.add_argument("--metric", action="append", dest="metrics", help="only this metric key (repeatable)")

    def handle(self, *args, **options) -> None:
        start = _day(options["start"])
        end = _day(options["end"]) if options["end"] else timezone.localdate() - timedelta(days=1)
        metrics = options["metrics"]
        if metrics:
            unknown = sorted(set(metrics) - set(METRICS))
            if unknown:
                raise CommandError(f"unknown metric: {', '.join(unknown)}")
        try:
            written = services.backfill(start, end, metrics=metrics)
        except services.GoalError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{written} snapshots written for {start} – {end}.")
