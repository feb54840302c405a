"""The KPI registry: every figure of the joint sales + service scorecard.

Each metric has a key, a translated label, a unit, the direction that is
better, its exact formula (translatable: the dashboard shows it beside the
figure in the reader's language), `compute(branch, start, end)` that runs as database aggregates, and
`drilldown(branch, start, end)`: the rows it counts, for the manager who
wants to check a number.

Conventions shared by every metric:

- `branch=None` means every branch together.
- A period is the half-open range of local days [start, end) in the site's
  time zone (settings.TIME_ZONE): `end` is the first day *not* counted.
- A count of nothing is 0; a rate or an average with nothing to divide by is
  None, shown as "no data" (never 0, which would read as a real figure).
- Cancelled jobs are left out of every figure about jobs.

goals reads everyone's data (DESIGN.md: core ← accounts ← customers ←
repairs ← feedback ← events ← goals); nobody imports goals. The team events
are read through events' selectors, never their models.

The registry sits below goals' own models: `goals.models` imports it (a goal's
metric), so it reads the manual figures it stores through the app registry
(`ManualMetric.base`) instead of importing the models back.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar

from django.apps import apps
from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    BooleanField,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from dealership.models import Branch
from events import selectors as events
from feedback.models import PASSIVE_MIN, PROMOTER_MIN, CustomerVoice, SurveyInvitation, SurveyResponse
from repairs.models import ApprovalRequest, JobKind, RepairJob, SalesLead, Status

Value = float | None

COMEBACK_DAYS = 30


class Unit:
    COUNT = "count"
    PERCENT = "percent"
    HOURS = "hours"
    DAYS = "days"
    SCORE = "score"  # 1–5
    NPS = "nps"  # −100 … 100

    LABELS: ClassVar[dict[str, Promise]] = {
        COUNT: _("count"),
        PERCENT: _("%"),
        HOURS: _("hours"),
        DAYS: _("days"),
        SCORE: _("of 5"),
        NPS: _("NPS points"),
    }


class Direction:
    HIGHER = "higher"
    LOWER = "lower"

    LABELS: ClassVar[dict[str, Promise]] = {HIGHER: _("higher is better"), LOWER: _("lower is better")}


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start, end) as aware datetimes at local midnight."""
    tz = timezone.get_current_timezone()
    return datetime.combine(start, time.min, tzinfo=tz), datetime.combine(end, time.min, tzinfo=tz)


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days)]


def _scoped(qs: QuerySet, branch: Branch | None, path: str) -> QuerySet:
    return qs if branch is None else qs.filter(**{path: branch})


def _hours(duration) -> Value:
    return None if duration is None else duration.total_seconds() / 3600


def _percent(part: int | None, whole: int | None) -> Value:
    return None if not whole else 100.0 * (part or 0) / whole


class Metric:
    """One figure of the scorecard."""

    key: ClassVar[str]
    label: ClassVar[Promise]
    # Exactly what is counted, as people on both floors read it: the
    # dashboard, the drill-down and the CSV show it in the reader's language.
    formula: ClassVar[Promise]
    unit: ClassVar[str]
    direction: ClassVar[str] = Direction.HIGHER
    # A count or a sum adds up over the days of a period: a goal's pace for it
    # grows with the days passed. A rate or an average does not add up: its
    # goal is a level to hold all along.
    cumulative: ClassVar[bool] = False
    manual: ClassVar[bool] = False
    # Which rows the drill-down lists (templates/goals/kpi/rows_<kind>.html).
    drilldown_kind: ClassVar[str] = "jobs"
    decimals: ClassVar[int] = 1

    @property
    def unit_label(self) -> Promise:
        return Unit.LABELS[self.unit]

    @property
    def direction_label(self) -> Promise:
        return Direction.LABELS[self.direction]

    @property
    def higher_is_better(self) -> bool:
        return self.direction == Direction.HIGHER

    def format(self, value: Value, *, signed: bool = False, grouped: bool = True) -> str:
        """The figure as the dashboard (grouped thousands) and the CSV (plain) show it; "" for no data."""
        if value is None:
            return ""
        return f"{value:{'+' if signed else ''}{',' if grouped else ''}.{self.decimals}f}"

    def compute(self, branch: Branch | None, start: date, end: date) -> Value:
        raise NotImplementedError

    def compute_periods(self, branch: Branch | None, periods: list[tuple[date, date]]) -> list[Value]:
        """The figure for each of several periods (the dashboard: this period and the one before)."""
        return [self.compute(branch, start, end) for start, end in periods]

    def daily(self, branch: Branch | None, start: date, end: date) -> dict[date, Value]:
        """The figure of each day of [start, end); subclasses group in the database when they can."""
        return {day: self.compute(branch, day, day + timedelta(days=1)) for day in days_between(start, end)}

    def drilldown(self, branch: Branch | None, start: date, end: date) -> QuerySet:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<Metric {self.key}>"


class AggregateMetric(Metric):
    """A figure computed from one set of rows, filtered on one time column.

    `rows` are the rows in the period; `aggregates` are computed over them in
    one query; `finish` turns the aggregates into the figure. Grouping the
    same aggregates by local day gives every day of a range in one query
    (the trend charts' snapshots).
    """

    time_field: ClassVar[str]

    def base(self, branch: Branch | None) -> QuerySet:
        raise NotImplementedError

    def aggregates(self) -> dict[str, Aggregate]:
        raise NotImplementedError

    def finish(self, figures: dict[str, Any]) -> Value:
        raise NotImplementedError

    def rows(self, branch: Branch | None, start: date, end: date) -> QuerySet:
        start_at, end_at = self.time_range(start, end)
        return self.base(branch).filter(**{f"{self.time_field}__gte": start_at, f"{self.time_field}__lt": end_at})

    def time_range(self, start: date, end: date) -> tuple[datetime, datetime]:
        return bounds(start, end)

    def compute(self, branch: Branch | None, start: date, end: date) -> Value:
        return self.finish(self.rows(branch, start, end).aggregate(**self.aggregates()))

    def compute_periods(self, branch: Branch | None, periods: list[tuple[date, date]]) -> list[Value]:
        """Several periods in one query: each aggregate once per period, filtered to it."""
        return [
            self.finish(figures) for figures in self.aggregate_periods(self.base(branch), self.aggregates(), periods)
        ]

    def daily(self, branch: Branch | None, start: date, end: date) -> dict[date, Value]:
        found = self.aggregate_days(self.base(branch), self.aggregates(), start, end)
        return {day: self.finish(figures) for day, figures in found.items()}

    def aggregate_periods(
        self, rows: QuerySet, aggregates: dict[str, Aggregate], periods: list[tuple[date, date]]
    ) -> list[dict[str, Any]]:
        combined: dict[str, Aggregate] = {}
        anywhere = Q()
        for index, (start, end) in enumerate(periods):
            start_at, end_at = self.time_range(start, end)
            within = Q(**{f"{self.time_field}__gte": start_at, f"{self.time_field}__lt": end_at})
            anywhere |= within
            for name, aggregate in aggregates.items():
                narrowed = aggregate.copy()
                narrowed.filter = within if aggregate.filter is None else aggregate.filter & within
                combined[f"{name}__{index}"] = narrowed
        figures = rows.filter(anywhere).aggregate(**combined)
        return [{name: figures[f"{name}__{index}"] for name in aggregates} for index in range(len(periods))]

    def aggregate_days(
        self, rows: QuerySet, aggregates: dict[str, Aggregate], start: date, end: date
    ) -> dict[date, dict[str, Any]]:
        """The aggregates of each local day of [start, end), grouped in one query; empty days too."""
        start_at, end_at = self.time_range(start, end)
        empty = {name: 0 if isinstance(aggregate, Count) else None for name, aggregate in aggregates.items()}
        found = {
            row.pop("day"): row
            for row in rows.filter(**{f"{self.time_field}__gte": start_at, f"{self.time_field}__lt": end_at})
            .order_by()
            .annotate(day=TruncDate(self.time_field, tzinfo=timezone.get_current_timezone()))
            .values("day")
            .annotate(**aggregates)
        }
        return {day: found.get(day, empty) for day in days_between(start, end)}

    def drilldown(self, branch: Branch | None, start: date, end: date) -> QuerySet:
        return self.rows(branch, start, end).order_by(f"-{self.time_field}", "-pk")


# --- Jobs ---------------------------------------------------------------------------------------------------


class JobMetric(AggregateMetric):
    def base(self, branch: Branch | None) -> QuerySet:
        return _scoped(RepairJob.objects.exclude(status=Status.CANCELLED), branch, "branch")

    def drilldown(self, branch: Branch | None, start: date, end: date) -> QuerySet:
        return (
            super()
            .drilldown(branch, start, end)
            .select_related("branch", "vehicle", "customer", "sales_owner", "technician")
        )


def _turnaround():
    return ExpressionWrapper(F("ready_at") - F("received_at"), output_field=DurationField())


class NewCarDeliveries(JobMetric):
    formula = _(
        "New cars delivered = number of new-car delivery prep (PDI) jobs whose car was handed over in the "
        "period (status delivered, delivered_at in [start, end))."
    )

    key = "new_car_deliveries"
    label = _("New-car deliveries")
    unit = Unit.COUNT
    cumulative = True
    time_field = "delivered_at"
    decimals = 0

    def base(self, branch: Branch | None) -> QuerySet:
        return super().base(branch).filter(kind=JobKind.PDI, status=Status.DELIVERED)

    def aggregates(self) -> dict[str, Aggregate]:
        return {"count": Count("pk")}

    def finish(self, figures: dict[str, Any]) -> Value:
        return float(figures["count"])


class JobsDelivered(NewCarDeliveries):
    formula = _(
        "Jobs delivered = number of jobs of every kind handed over to the customer in the period (status "
        "delivered, delivered_at in [start, end))."
    )

    key = "jobs_delivered"
    label = _("Jobs delivered")

    def base(self, branch: Branch | None) -> QuerySet:
        return JobMetric.base(self, branch).filter(status=Status.DELIVERED)


class AverageTurnaround(JobMetric):
    formula = _(
        "Average turnaround (hours) = mean of (ready_at − received_at) over the jobs that became ready "
        "for handover in the period (ready_at in [start, end)); a job received before the period counts "
        "in the period it became ready."
    )

    key = "avg_turnaround_hours"
    label = _("Average turnaround")
    unit = Unit.HOURS
    direction = Direction.LOWER
    time_field = "ready_at"

    def aggregates(self) -> dict[str, Aggregate]:
        return {"turnaround": Avg(_turnaround())}

    def finish(self, figures: dict[str, Any]) -> Value:
        return _hours(figures["turnaround"])


class Median(Aggregate):
    """PostgreSQL's continuous median (percentile_cont 0.5) of a number."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _epoch_seconds(expression) -> Func:
    return Func(expression, template="EXTRACT(EPOCH FROM %(expressions)s)", output_field=FloatField())


class MedianTurnaround(AverageTurnaround):
    formula = _(
        "Median turnaround (hours) = the median of (ready_at − received_at) over the jobs that became "
        "ready in the period; with an even number of jobs, the mean of the two middle ones (PostgreSQL: "
        "percentile_cont(0.5))."
    )

    key = "median_turnaround_hours"
    label = _("Median turnaround")

    def aggregates(self) -> dict[str, Aggregate]:
        return {"median_seconds": Median(_epoch_seconds(_turnaround()))}

    def finish(self, figures: dict[str, Any]) -> Value:
        seconds = figures["median_seconds"]
        return None if seconds is None else seconds / 3600

    def compute(self, branch: Branch | None, start: date, end: date) -> Value:
        if connection.vendor == "postgresql":
            return super().compute(branch, start, end)
        return self._portable_median(self.rows(branch, start, end))

    def daily(self, branch: Branch | None, start: date, end: date) -> dict[date, Value]:
        if connection.vendor == "postgresql":
            return super().daily(branch, start, end)
        return Metric.daily(self, branch, start, end)

    def compute_periods(self, branch: Branch | None, periods: list[tuple[date, date]]) -> list[Value]:
        if connection.vendor == "postgresql":
            return super().compute_periods(branch, periods)
        return Metric.compute_periods(self, branch, periods)

    @staticmethod
    def _portable_median(rows: QuerySet) -> Value:
        """Two queries on any database: the count, then the one or two middle rows."""
        count = rows.count()
        if not count:
            return None
        middle = (count - 1) // 2
        taken = 1 if count % 2 else 2
        values = list(
            rows.annotate(turnaround=_turnaround())
            .order_by("turnaround")
            .values_list("turnaround", flat=True)[middle : middle + taken]
        )
        return sum(_hours(value) for value in values) / len(values)


class OnTimeRate(JobMetric):
    formula = _(
        "On-time promise rate (%) = jobs ready for handover no later than the promised time ÷ jobs whose "
        "promised time fell in the period (and has passed) × 100. A job still not ready after its promise "
        "counts as late."
    )

    key = "on_time_rate"
    label = _("On-time promise rate")
    unit = Unit.PERCENT
    time_field = "promised_at"

    def time_range(self, start: date, end: date) -> tuple[datetime, datetime]:
        start_at, end_at = bounds(start, end)
        # A promise still in the future is neither kept nor broken yet.
        return start_at, min(end_at, max(start_at, timezone.now()))

    def aggregates(self) -> dict[str, Aggregate]:
        return {
            "due": Count("pk"),
            "on_time": Count("pk", filter=Q(ready_at__isnull=False, ready_at__lte=F("promised_at"))),
        }

    def finish(self, figures: dict[str, Any]) -> Value:
        return _percent(figures["on_time"], figures["due"])

    def drilldown(self, branch: Branch | None, start: date, end: date) -> QuerySet:
        return (
            super()
            .drilldown(branch, start, end)
            .annotate(
                on_time=ExpressionWrapper(
                    Q(ready_at__isnull=False, ready_at__lte=F("promised_at")), output_field=BooleanField()
                )
            )
        )


def _comebacks() -> QuerySet:
    """The same vehicle back for a repair or warranty job within COMEBACK_DAYS after delivery."""
    delivered = OuterRef("delivered_at")
    return (
        RepairJob.objects.filter(vehicle=OuterRef("vehicle"), kind__in=[JobKind.REPAIR, JobKind.WARRANTY])
        .exclude(status=Status.CANCELLED)
        .filter(
            received_at__gt=delivered,
            received_at__lte=ExpressionWrapper(delivered + timedelta(days=COMEBACK_DAYS), output_field=DateTimeField()),
        )
    )


class ComebackRate(JobMetric):
    formula = _(
        "Comeback rate (%) = jobs delivered in the period whose vehicle came back for a repair or "
        "warranty job received within 30 days after the delivery ÷ jobs delivered in the period × 100. "
        "(Deliveries of the last 30 days can still gain a comeback.)"
    )

    key = "comeback_rate"
    label = _("Comeback rate")
    unit = Unit.PERCENT
    direction = Direction.LOWER
    time_field = "delivered_at"

    def base(self, branch: Branch | None) -> QuerySet:
        return super().base(branch).filter(status=Status.DELIVERED)

    # Counted apart, as rows that pass an EXISTS filter: PostgreSQL joins them
    # in one pass, while an EXISTS inside an aggregate's FILTER would run once
    # per delivered job (1.3 s instead of 20 ms over 50,000 jobs).
    DELIVERED: ClassVar[dict] = {"delivered": Count("pk")}
    CAME_BACK: ClassVar[dict] = {"came_back": Count("pk")}

    def aggregates(self) -> dict[str, Aggregate]:
        return self.DELIVERED

    def finish(self, figures: dict[str, Any]) -> Value:
        return _percent(figures["came_back"], figures["delivered"])

    def compute(self, branch: Branch | None, start: date, end: date) -> Value:
        return self.compute_periods(branch, [(start, end)])[0]

    def compute_periods(self, branch: Branch | None, periods: list[tuple[date, date]]) -> list[Value]:
        delivered = self.aggregate_periods(self.base(branch), self.DELIVERED, periods)
        came_back = self.aggregate_periods(self.base(branch).filter(Exists(_comebacks())), self.CAME_BACK, periods)
        return [self.finish(all_ | back) for all_, back in zip(delivered, came_back, strict=True)]

    def daily(self, branch: Branch | None, start: date, end: date) -> dict[date, Value]:
        delivered = self.aggregate_days(self.base(branch), self.DELIVERED, start, end)
        came_back = self.aggregate_days(self.base(branch).filter(Exists(_comebacks())), self.CAME_BACK, start, end)
        return {day: self.finish(delivered[day] | came_back[day]) for day in delivered}

    def drilldown(self, branch: Branch | None, start: date, end: date) -> QuerySet:
        return super().drilldown(branch, start, end).annotate(came_back=Exists(_comebacks()))


# --- Customer voice -----------------------------------------------------------------------------------------


class ResponseMetric(AggregateMetric):
    time_field = "submitted_at"
    drilldown_kind = "responses"

    def base(self, branch: Branch | None) -> QuerySet:
        return _scoped(SurveyResponse.objects.all(), branch, "job__branch")

    def drilldown(self, branch: Branch | None, start: date, end: date) -> QuerySet:
        return super().drilldown(branch, start, end).select_related("job", "job__branch", "job__vehicle")


class Csat(ResponseMetric):
    formula = _("CSAT = the average overall satisfaction (1–5) of the survey answers submitted in the period.")

    key = "csat"
    label = _("Customer satisfaction (CSAT)")
    unit = Unit.SCORE
    decimals = 2

    def aggregates(self) -> dict[str, Aggregate]:
        return {"overall": Avg("overall")}

    def finish(self, figures: dict[str, Any]) -> Value:
        return None if figures["overall"] is None else float(figures["overall"])


class Nps(ResponseMetric):
    formula = _(
        "NPS = (answers with 9–10 − answers with 0–6) ÷ all answers submitted in the period × 100, on the "
        '"would you recommend us" question.'
    )

    key = "nps"
    label = _("Net Promoter Score")
    unit = Unit.NPS
    decimals = 0

    def aggregates(self) -> dict[str, Aggregate]:
        return {
            "answers": Count("pk"),
            "promoters": Count("pk", filter=Q(nps__gte=PROMOTER_MIN)),
            "detractors": Count("pk", filter=Q(nps__lt=PASSIVE_MIN)),
        }

    def finish(self, figures: dict[str, Any]) -> Value:
        if not figures["answers"]:
            return None
        return 100.0 * (figures["promoters"] - figures["detractors"]) / figures["answers"]


class SurveyResponseRate(AggregateMetric):
    formula = _(
        "Survey response rate (%) = surveys answered ÷ surveys e-mailed, over the survey invitations "
        "created in the period (invitations not sent — no e-mail address, opted out, failed — are not "
        "counted) × 100."
    )

    key = "survey_response_rate"
    label = _("Survey response rate")
    unit = Unit.PERCENT
    time_field = "created_at"
    drilldown_kind = "invitations"

    def base(self, branch: Branch | None) -> QuerySet:
        return _scoped(
            SurveyInvitation.objects.filter(send_status=SurveyInvitation.SendStatus.SENT), branch, "job__branch"
        )

    def aggregates(self) -> dict[str, Aggregate]:
        return {"sent": Count("pk"), "answered": Count("pk", filter=Q(answered_at__isnull=False))}

    def finish(self, figures: dict[str, Any]) -> Value:
        return _percent(figures["answered"], figures["sent"])

    def drilldown(self, branch: Branch | None, start: date, end: date) -> QuerySet:
        return super().drilldown(branch, start, end).select_related("job", "job__branch", "job__vehicle")


class VoiceResolutionTime(AggregateMetric):
    formula = _(
        "Customer-voice resolution time (days) = mean of (resolved_at − created_at) over the customer "
        "voice items resolved in the period (resolved_at in [start, end))."
    )

    key = "voice_resolution_days"
    label = _("Customer-voice resolution time")
    unit = Unit.DAYS
    direction = Direction.LOWER
    time_field = "resolved_at"
    drilldown_kind = "voice"

    def base(self, branch: Branch | None) -> QuerySet:
        return _scoped(CustomerVoice.objects.filter(resolved_at__isnull=False), branch, "branch")

    def aggregates(self) -> dict[str, Aggregate]:
        return {"took": Avg(ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField()))}

    def finish(self, figures: dict[str, Any]) -> Value:
        hours = _hours(figures["took"])
        return None if hours is None else hours / 24

    def drilldown(self, branch: Branch | None, start: date, end: date) -> QuerySet:
        return super().drilldown(branch, start, end).select_related("branch", "job", "assignee")


# --- Cross-department loops ---------------------------------------------------------------------------------


class ApprovalResponseTime(AggregateMetric):
    formula = _(
        "Approval response time (hours) = mean of (decided_at − requested_at) over the customer approvals "
        "decided (approved or declined) in the period; requests on cancelled jobs are left out."
    )

    key = "approval_response_hours"
    label = _("Approval response time")
    unit = Unit.HOURS
    direction = Direction.LOWER
    time_field = "decided_at"
    drilldown_kind = "approvals"

    def base(self, branch: Branch | None) -> QuerySet:
        decided = ApprovalRequest.objects.filter(
            status__in=[ApprovalRequest.Decision.APPROVED, ApprovalRequest.Decision.DECLINED],
            response_seconds__isnull=False,
        ).exclude(job__status=Status.CANCELLED)
        return _scoped(decided, branch, "job__branch")

    def aggregates(self) -> dict[str, Aggregate]:
        return {"seconds": Avg("response_seconds")}

    def finish(self, figures: dict[str, Any]) -> Value:
        return None if figures["seconds"] is None else float(figures["seconds"]) / 3600

    def drilldown(self, branch: Branch | None, start: date, end: date) -> QuerySet:
        return super().drilldown(branch, start, end).select_related("job", "job__branch", "decided_by")


class LeadsFlagged(AggregateMetric):
    formula = _(
        "Service→sales leads = number of sales leads the workshop flagged in the period (created_at in "
        "[start, end)), whatever became of them."
    )

    key = "leads_flagged"
    label = _("Service→sales leads")
    unit = Unit.COUNT
    cumulative = True
    time_field = "created_at"
    drilldown_kind = "leads"
    decimals = 0

    def base(self, branch: Branch | None) -> QuerySet:
        return _scoped(SalesLead.objects.all(), branch, "branch")

    def aggregates(self) -> dict[str, Aggregate]:
        return {"count": Count("pk")}

    def finish(self, figures: dict[str, Any]) -> Value:
        return float(figures["count"])

    def drilldown(self, branch: Branch | None, start: date, end: date) -> QuerySet:
        return super().drilldown(branch, start, end).select_related("job", "branch", "owner", "flagged_by")


class LeadConversions(LeadsFlagged):
    formula = _(
        "Lead conversions = number of sales leads marked converted whose last update (the conversion) "
        "falls in the period (status converted, updated_at in [start, end))."
    )

    key = "lead_conversions"
    label = _("Lead conversions")
    time_field = "updated_at"

    def base(self, branch: Branch | None) -> QuerySet:
        return super().base(branch).filter(status=SalesLead.State.CONVERTED)


# --- Team life ----------------------------------------------------------------------------------------------


class CrossDepartmentParticipation(Metric):
    formula = _(
        "Cross-department participation (%) = active staff of the branch who attended a job shadowing or "
        "study session held in the period, not cancelled, that someone of another department attended too "
        "÷ the branch's active staff × 100 (events.selectors.cross_department_participation)."
    )

    key = "cross_department_participation"
    label = _("Cross-department participation")
    unit = Unit.PERCENT
    drilldown_kind = "participants"

    def compute(self, branch: Branch | None, start: date, end: date) -> Value:
        return _percent_or_none(events.cross_department_participation(branch, *bounds(start, end)).rate)

    def daily(self, branch: Branch | None, start: date, end: date) -> dict[date, Value]:
        """Only days with a session need the full figure; any other day is 0 % (or no data without staff)."""
        session_days = events.cross_department_session_days(branch, *bounds(start, end))
        has_staff = _scoped(User.objects.filter(is_active=True, branch__isnull=False), branch, "branch").exists()
        quiet = 0.0 if has_staff else None
        return {
            day: self.compute(branch, day, day + timedelta(days=1)) if day in session_days else quiet
            for day in days_between(start, end)
        }

    def drilldown(self, branch: Branch | None, start: date, end: date) -> QuerySet:
        return events.cross_department_attendances(branch, *bounds(start, end))


def _percent_or_none(rate: float | None) -> Value:
    return None if rate is None else 100.0 * rate


# --- Manual metrics (figures from outside the portal, e.g. the dealer's DMS) ---------------------------------


class ManualMetric(AggregateMetric):
    """Base of the figures entered by hand or imported from CSV (ManualKpiValue)."""

    manual = True
    cumulative = True
    unit = Unit.COUNT
    time_field = "date"
    drilldown_kind = "manual"
    decimals = 0

    def base(self, branch: Branch | None) -> QuerySet:
        # Looked up, not imported: goals.models imports this registry (see the module's docstring).
        values = apps.get_model("goals", "ManualKpiValue").objects.filter(metric=self.key)
        return _scoped(values, branch, "branch")

    def time_range(self, start: date, end: date) -> tuple[date, date]:
        return start, end  # a DateField: whole days, no time zone

    def aggregates(self) -> dict[str, Aggregate]:
        return {"total": Sum("value")}

    def finish(self, figures: dict[str, Any]) -> Value:
        return None if figures["total"] is None else float(figures["total"])

    def daily(self, branch: Branch | None, start: date, end: date) -> dict[date, Value]:
        totals = dict(
            self.rows(branch, start, end)
            .order_by()
            .values("date")
            .annotate(total=Sum("value"))
            .values_list("date", "total")
        )
        return {day: None if totals.get(day) is None else float(totals[day]) for day in days_between(start, end)}

    def drilldown(self, branch: Branch | None, start: date, end: date) -> QuerySet:
        return self.rows(branch, start, end).select_related("branch", "entered_by").order_by("-date", "branch__code")


class UnitsSold(ManualMetric):
    formula = _(
        "Units sold = the sum of the new and used cars sold in the period as entered from the dealer's "
        "management system (DMS), one value per branch and day."
    )

    key = "units_sold"
    label = _("Units sold (DMS)")


# --- The registry -------------------------------------------------------------------------------------------

METRICS: dict[str, Metric] = {
    metric.key: metric
    for metric in (
        NewCarDeliveries(),
        UnitsSold(),
        JobsDelivered(),
        AverageTurnaround(),
        MedianTurnaround(),
        OnTimeRate(),
        ComebackRate(),
        Csat(),
        Nps(),
        SurveyResponseRate(),
        ApprovalResponseTime(),
        VoiceResolutionTime(),
        LeadsFlagged(),
        LeadConversions(),
        CrossDepartmentParticipation(),
    )
}


def get_metric(key: str) -> Metric:
    """The metric, or KeyError for a key that is not in the registry."""
    return METRICS[key]


def metric_choices() -> list[tuple[str, Promise]]:
    return [(metric.key, metric.label) for metric in METRICS.values()]


def manual_metrics() -> list[Metric]:
    return [metric for metric in METRICS.values() if metric.manual]
