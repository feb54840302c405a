"""Writes of shared goals and KPIs: goals, manual values (form and CSV), snapshots.

Each function is one atomic door that checks who acts (`by`), validates and
saves. Views, the admin, the beat task, `manage.py backfill_kpis` and the
demo data all come through here.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Department, User
from dealership import dates
from dealership.models import Branch
from dealership.updates import save_changed

from . import permissions
from .metrics import METRICS, get_metric
from .models import Goal, GoalPeriod, KpiSnapshot, ManualKpiValue

MAX_TARGET = Decimal("9999999999")
MAX_MANUAL_VALUE = Decimal("999999999999")
MAX_IMPORT_ROWS = 5000
MAX_BACKFILL_DAYS = 3 * 366
# Figures of a day can still move after it: a promise is kept late, a car
# comes back within 30 days of delivery. The daily task recomputes this many
# days back (cheap: each metric groups a whole range by day in one query).
RECOMPUTE_DAYS = 31


class GoalError(Exception):
    """A refused write; `str(error)` is the message for the user."""


def period_dates(period: str, start: date, end: date | None = None) -> tuple[date, date]:
    """First and last day (both included) of a month, a quarter, or the given dates.

    The days lie in the portal's range (dealership/dates.py) or in the year
    before it, where the dashboard's first month looks back for its
    comparison; so the date arithmetic here and in the figures never overflows.
    """
    earliest = dates.FIRST_DAY.replace(year=dates.FIRST_YEAR - 1)
    if any(day is not None and not earliest <= day <= dates.LAST_DAY for day in (start, end)):
        raise GoalError(dates.OUT_OF_RANGE % dates.RANGE)
    if period == GoalPeriod.MONTH:
        first = start.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return first, following - timedelta(days=1)
    if period == GoalPeriod.QUARTER:
        first = start.replace(month=(start.month - 1) // 3 * 3 + 1, day=1)
        following = (first + timedelta(days=31 * 3)).replace(day=1)
        return first, following - timedelta(days=1)
    if period != GoalPeriod.CUSTOM:
        raise GoalError(_("Choose a month, a quarter or dates."))
    if end is None or end < start:
        raise GoalError(_("The last day must not be before the first."))
    if (end - start).days > 366:
        raise GoalError(_("A goal's period is at most a year."))
    return start, end


def _validated(
    *,
    by: User,
    metric: str,
    target: Decimal,
    period: str,
    start_date: date,
    end_date: date | None,
    branch: Branch | None,
    departments: list[str],
) -> dict:
    if not permissions.can_manage_goals(by):
        raise PermissionDenied(_("Only managers set goals."))
    if not permissions.can_set_goal_for(by, branch):
        raise PermissionDenied(_("You may set goals only for your own branch."))
    if metric not in METRICS:
        raise GoalError(_("Choose a metric from the list."))
    if target is None or abs(target) > MAX_TARGET:
        raise GoalError(_("Enter a target."))
    unknown = [value for value in departments if value not in Department.values]
    if unknown or not departments:
        raise GoalError(_("Choose the departments that work on the goal."))
    if any(day is not None and not dates.is_in_range(day) for day in (start_date, end_date)):
        raise GoalError(dates.OUT_OF_RANGE % dates.RANGE)
    first, last = period_dates(period, start_date, end_date)
    return {
        "metric": metric,
        "target": target,
        "period": period,
        "start_date": first,
        "end_date": last,
        "branch": branch,
        "departments": sorted(set(departments), key=Department.values.index),
    }


def create_goal(
    *,
    by: User,
    metric: str,
    target: Decimal,
    period: str,
    start_date: date,
    end_date: date | None = None,
    branch: Branch | None,
    departments: list[str],
    note: str = "",
) -> Goal:
    fields = _validated(
        by=by,
        metric=metric,
        target=target,
        period=period,
        start_date=start_date,
        end_date=end_date,
        branch=branch,
        departments=departments,
    )
    now = timezone.now()
    return Goal.objects.create(**fields, note=note.strip()[:300], created_by=by, created_at=now, updated_at=now)


def update_goal(
    goal: Goal,
    *,
    by: User,
    metric: str,
    target: Decimal,
    period: str,
    start_date: date,
    end_date: date | None = None,
    branch: Branch | None,
    departments: list[str],
    note: str = "",
) -> Goal:
    if not permissions.can_manage_goal(by, goal):
        raise PermissionDenied(_("Only managers of the goal's branch change it."))
    fields = _validated(
        by=by,
        metric=metric,
        target=target,
        period=period,
        start_date=start_date,
        end_date=end_date,
        branch=branch,
        departments=departments,
    )
    fields["note"] = note.strip()[:300]
    save_changed(goal, fields, also={"updated_at": timezone.now()})
    return goal


def archive_goal(goal: Goal, *, by: User) -> Goal:
    """Take a goal off the dashboard and the home page (kept for the record)."""
    if not permissions.can_manage_goal(by, goal):
        raise PermissionDenied(_("Only managers of the goal's branch archive it."))
    if goal.archived_at is None:
        goal.archived_at = goal.updated_at = timezone.now()
        goal.save(update_fields=["archived_at", "updated_at"])
    return goal


# --- Manual values ------------------------------------------------------------------------------------------


def _check_manual(metric: str, value: Decimal) -> None:
    if metric not in METRICS or not get_metric(metric).manual:
        raise GoalError(_("Choose a metric that is entered by hand."))
    if value is None or value < 0 or value > MAX_MANUAL_VALUE:
        raise GoalError(_("Enter a number of 0 or more."))


def record_manual_value(*, by: User, metric: str, branch: Branch, day: date, value: Decimal) -> ManualKpiValue:
    """Set one day's figure (a second entry for the same day replaces the first)."""
    if not permissions.can_enter_manual_values(by, branch):
        raise PermissionDenied(_("Only managers of the branch enter its figures."))
    _check_manual(metric, value)
    if not dates.is_in_range(day):
        raise GoalError(dates.OUT_OF_RANGE % dates.RANGE)
    with transaction.atomic():
        row, _created = ManualKpiValue.objects.update_or_create(
            metric=metric,
            branch=branch,
            date=day,
            defaults={"value": value, "entered_by": by, "entered_at": timezone.now()},
        )
    return row


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


CSV_COLUMNS = ("date", "branch", "metric", "value")


def import_manual_csv(*, by: User, text: str) -> ImportResult:
    """Import manual values from CSV (columns: date, branch code, metric key, value).

    Every row is checked first; if any row is wrong nothing is written and
    each bad row is listed with its line number and reason. A file is all or
    nothing, so a corrected file can simply be imported again.
    """
    if not permissions.can_manage_goals(by):
        raise PermissionDenied(_("Only managers import figures."))
    result = ImportResult()
    text = text.lstrip("\ufeff")  # Excel's UTF-8 byte order mark
    reader = csv.reader(io.StringIO(text))
    try:
        # Whole, so that a broken line is reported before any row is checked (the file is at most 1 MB).
        lines = list(reader)
    except csv.Error:
        # A cell longer than csv's field limit (131,072 characters) or a quote left open:
        # no cell of this file is ever that long, so it is not the CSV it should be.
        result.errors.append(
            RowError(
                reader.line_num,
                gettext("This line cannot be read: a cell is far too long or a quotation mark is not closed."),
            )
        )
        return result
    rows = iter(lines)
    header = [cell.strip().lower() for cell in next(rows, [])]
    if tuple(header) != CSV_COLUMNS:
        result.errors.append(
            RowError(1, gettext("The first line must be the header: %(columns)s") % {"columns": ",".join(CSV_COLUMNS)})
        )
        return result
    branches = {branch.code: branch for branch in Branch.objects.all()}
    parsed: list[tuple[int, str, Branch, date, Decimal]] = []
    seen: dict[tuple[str, str, date], int] = {}
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(parsed) + len(result.errors) >= MAX_IMPORT_ROWS:
            result.errors.append(RowError(line, gettext("Too many rows: import at most %d at once.") % MAX_IMPORT_ROWS))
            break
        reason, values = _parse_row(by, row, branches)
        if reason is None:
            key = (values[0], values[1].code, values[2])
            if key in seen:
                reason = gettext("The same metric, branch and date as line %d.") % seen[key]
            else:
                seen[key] = line
        if reason is not None:
            result.errors.append(RowError(line, reason))
        else:
            parsed.append((line, *values))
    if result.errors:
        return result
    if not parsed:
        result.errors.append(RowError(2, gettext("The file has no rows under the header.")))
        return result
    with transaction.atomic():
        for _line, metric, branch, day, value in parsed:
            _row, created = ManualKpiValue.objects.update_or_create(
                metric=metric,
                branch=branch,
                date=day,
                defaults={"value": value, "entered_by": by, "entered_at": timezone.now()},
            )
            if created:
                result.created += 1
            else:
                result.updated += 1
    return result


def _parse_row(by: User, row: list[str], branches: dict[str, Branch]) -> tuple[str | None, tuple]:
    if len(row) != len(CSV_COLUMNS):
        return gettext("Expected 4 columns (date, branch, metric, value), found %d.") % len(row), ()
    day_text, code, metric, value_text = (cell.strip() for cell in row)
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        return gettext("“%s” is not a date (YYYY-MM-DD).") % day_text[:40], ()
    if not dates.is_in_range(day):
        return str(dates.OUT_OF_RANGE % dates.RANGE), ()
    if day > timezone.localdate():
        return gettext("The date %s is in the future.") % day.isoformat(), ()
    branch = branches.get(code)
    if branch is None:
        return gettext("Unknown branch code “%s”.") % code[:40], ()
    if not permissions.can_enter_manual_values(by, branch):
        return gettext("You may not enter figures for %s.") % branch.name, ()
    if metric not in METRICS or not get_metric(metric).manual:
        return gettext("“%s” is not a metric entered by hand.") % metric[:40], ()
    try:
        value = Decimal(value_text.replace(",", ""))
    except InvalidOperation:
        return gettext("“%s” is not a number.") % value_text[:40], ()
    if not value.is_finite() or value < 0 or value > MAX_MANUAL_VALUE:
        return gettext("The value must be a number of 0 or more."), ()
    if value != value.quantize(Decimal("0.01")):
        return gettext("The value has more than two decimals."), ()
    return None, (metric, branch, day, value)


# --- Snapshots ----------------------------------------------------------------------------------------------


def _to_decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 4)))


def backfill(start: date, end: date, *, metrics: list[str] | None = None) -> int:
    """Store every metric's figure for each day from `start` to `end` (both included),
    for each branch and for all branches together. Idempotent: a day computed
    again replaces its row. Returns the number of rows written."""
    if end < start:
        raise GoalError(_("The last day must not be before the first."))
    if (end - start).days >= MAX_BACKFILL_DAYS:
        raise GoalError(_("Backfill at most three years at once."))
    scopes: list[Branch | None] = [None, *Branch.objects.order_by("pk")]
    keys = metrics or list(METRICS)
    now = timezone.now()
    written = 0
    for key in keys:
        metric = get_metric(key)
        for branch in scopes:
            figures = metric.daily(branch, start, end + timedelta(days=1))
            rows = [
                KpiSnapshot(metric=key, branch=branch, date=day, value=_to_decimal(value), computed_at=now)
                for day, value in figures.items()
            ]
            _replace_snapshots(key, branch, start, end, rows)
            written += len(rows)
    return written


def _replace_snapshots(key: str, branch: Branch | None, start: date, end: date, rows: list[KpiSnapshot]) -> None:
    """Delete and insert in one transaction; a run meeting another at once tries again once."""
    for attempt in range(2):
        try:
            with transaction.atomic():
                KpiSnapshot.objects.filter(metric=key, branch=branch, date__gte=start, date__lte=end).delete()
                KpiSnapshot.objects.bulk_create(rows, batch_size=1000)
            return
        except IntegrityError:
            if attempt:
                raise


def take_snapshots(day: date) -> int:
    """One day's snapshots (idempotent per day and branch)."""
    return backfill(day, day)


def take_daily_snapshots(today: date | None = None) -> int:
    """The beat task's work: yesterday and the RECOMPUTE_DAYS before it, plus today so far."""
    today = today or timezone.localdate()
    return backfill(today - timedelta(days=RECOMPUTE_DAYS), today)
