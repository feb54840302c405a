"""Reads of customer voice, always scoped to what the user may see.

The results page is computed by database aggregates only: its query count is
the same for ten answers or ten thousand (tests assert it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Avg, Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from accounts.models import Role, User
from customers.models import Customer
from dealership import dates
from dealership.models import Branch
from dealership.scopes import may_see_branch, scope_to
from repairs.models import JobKind

from .models import (
    ACTIVE_VOICE_STATUSES,
    PASSIVE_MIN,
    PROMOTER_MIN,
    CustomerVoice,
    SkipReason,
    SurveyInvitation,
    SurveyOptOut,
    SurveyResponse,
    VoiceCategory,
    VoiceSource,
    VoiceStatus,
)

DIMENSIONS = ("overall", "explanation", "quality", "timeliness")
PERIODS = {"30": 30, "90": 90, "365": 365}
DEFAULT_PERIOD = "90"
LATEST_COMMENTS = 10


def _parse_id(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and 0 < len(text) < 19 else None


# Hand-written, not a django-filter FilterSet: the period is a preset or typed
# dates (refused dates fall back to the preset with a notice for the user),
# and the same filters apply to answers and to invitations, each by its own
# time field, in several aggregates — a FilterSet filters one queryset.
@dataclass(frozen=True)
class ResultFilters:
    period: str = DEFAULT_PERIOD  # "30" | "90" | "365" | "custom"
    start: date | None = None
    end: date | None = None
    kind: str = ""
    branch: int | None = None
    sales_rep: int | None = None
    technician: int | None = None
    grain: str = "week"  # week | month
    # Why dates in the query were not used (the default period is shown instead); "" when they were.
    notice: str = ""

    @classmethod
    def from_query(cls, params) -> ResultFilters:
        period = params.get("period", DEFAULT_PERIOD)
        notice = ""
        try:
            start, end = dates.parse_day(params.get("start")), dates.parse_day(params.get("end"))
        except dates.DateRefused as refused:
            start = end = None
            notice = str(refused)
        if period not in PERIODS and period != "custom":
            period = DEFAULT_PERIOD
        dates_given = bool(start and end and start <= end)
        if period != "custom":
            preset_end = timezone.localdate()
            preset_start = preset_end - timedelta(days=PERIODS[period] - 1)
            # The form always sends a period: dates typed over the preset's mean "from – to".
            if dates_given and (start, end) != (preset_start, preset_end):
                period = "custom"
            else:
                start, end = preset_start, preset_end
        elif not dates_given:
            period = DEFAULT_PERIOD
            end = timezone.localdate()
            start = end - timedelta(days=PERIODS[period] - 1)
        kind = params.get("kind", "")
        grain = params.get("grain", "")
        return cls(
            period=period,
            start=start,
            end=end,
            kind=kind if kind in JobKind.values else "",
            branch=_parse_id(params.get("branch")),
            sales_rep=_parse_id(params.get("sales_rep")),
            technician=_parse_id(params.get("technician")),
            grain=grain if grain in ("week", "month") else ("month" if period == "365" else "week"),
            notice=notice,
        )

    def as_query(self) -> dict[str, str]:
        query = {"period": self.period, "kind": self.kind, "grain": self.grain}
        if self.period == "custom":
            query |= {"start": self.start.isoformat(), "end": self.end.isoformat()}
        for name in ("branch", "sales_rep", "technician"):
            if getattr(self, name):
                query[name] = str(getattr(self, name))
        return {key: value for key, value in query.items() if value}

    @property
    def since(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def until(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))


def _job_filter(filters: ResultFilters, prefix: str) -> Q:
    q = Q()
    if filters.branch:
        q &= Q(**{f"{prefix}branch_id": filters.branch})
    if filters.kind:
        q &= Q(**{f"{prefix}kind": filters.kind})
    if filters.sales_rep:
        q &= Q(**{f"{prefix}sales_owner_id": filters.sales_rep})
    if filters.technician:
        q &= Q(**{f"{prefix}technician_id": filters.technician})
    return q


def responses_for(user: User, filters: ResultFilters) -> QuerySet[SurveyResponse]:
    rows = SurveyResponse.objects.filter(
        _job_filter(filters, "job__"), submitted_at__gte=filters.since, submitted_at__lt=filters.until
    )
    return scope_to(rows, user, "job__branch")


def nps_of(promoters: int, detractors: int, total: int) -> int | None:
    """Net Promoter Score: % promoters − % detractors, rounded; None without answers."""
    if not total:
        return None
    return round(100 * (promoters - detractors) / total)


NPS_GROUPS = {
    "promoters": Count("id", filter=Q(nps__gte=PROMOTER_MIN)),
    "passives": Count("id", filter=Q(nps__gte=PASSIVE_MIN, nps__lt=PROMOTER_MIN)),
    "detractors": Count("id", filter=Q(nps__lt=PASSIVE_MIN)),
}


def results(user: User, filters: ResultFilters) -> dict:
    """Every figure of the results page, in a fixed number of queries."""
    responses = responses_for(user, filters)
    summary = responses.aggregate(
        count=Count("id"),
        **{f"avg_{name}": Avg(name) for name in DIMENSIONS},
        **NPS_GROUPS,
    )
    summary["nps"] = nps_of(summary["promoters"], summary["detractors"], summary["count"])
    overall_counts = dict(responses.order_by().values_list("overall").annotate(n=Count("id")))
    nps_counts = dict(responses.order_by().values_list("nps").annotate(n=Count("id")))
    trunc = TruncMonth if filters.grain == "month" else TruncWeek
    trend = []
    for row in (
        responses.order_by()
        .annotate(bucket=trunc("submitted_at", tzinfo=timezone.get_current_timezone()))
        .values("bucket")
        .annotate(count=Count("id"), avg_overall=Avg("overall"), **NPS_GROUPS)
        .order_by("bucket")
    ):
        row["nps"] = nps_of(row["promoters"], row["detractors"], row["count"])
        trend.append(row)
    invitations = scope_to(
        SurveyInvitation.objects.filter(
            _job_filter(filters, "job__"), created_at__gte=filters.since, created_at__lt=filters.until
        ),
        user,
        "job__branch",
    ).aggregate(
        total=Count("id"),
        sent=Count("id", filter=Q(send_status=SurveyInvitation.SendStatus.SENT)),
        answered=Count("id", filter=Q(answered_at__isnull=False)),
        no_email=Count("id", filter=Q(skip_reason=SkipReason.NO_EMAIL)),
        opted_out=Count("id", filter=Q(skip_reason=SkipReason.OPTED_OUT)),
    )
    invitations["response_rate"] = (
        round(100 * invitations["answered"] / invitations["sent"]) if invitations["sent"] else None
    )
    latest = list(
        responses.exclude(comment="")
        .select_related("job", "job__vehicle", "job__sales_owner", "job__technician")
        .order_by("-submitted_at", "-id")[:LATEST_COMMENTS]
    )
    return {
        "summary": summary,
        "averages": [(name, summary[f"avg_{name}"]) for name in DIMENSIONS],
        "overall_distribution": [(score, overall_counts.get(score, 0)) for score in range(1, 6)],
        "nps_distribution": [(score, nps_counts.get(score, 0)) for score in range(11)],
        "trend": trend,
        "invitations": invitations,
        "latest_comments": latest,
    }


def response_page_rows(user: User, filters: ResultFilters) -> QuerySet[SurveyResponse]:
    """The answers themselves, each with its job, sales owner and technician."""
    return (
        responses_for(user, filters)
        .select_related("job", "job__vehicle", "job__customer", "job__sales_owner", "job__technician", "job__branch")
        .order_by("-submitted_at", "-id")
    )


def filter_choices(user: User) -> dict:
    """Branches and people the filters offer (two queries whatever the data)."""
    staff = scope_to(User.objects.filter(is_active=True, role__in=[Role.SALES_REP, Role.TECHNICIAN]), user)
    staff = list(staff.order_by("display_name").only("pk", "display_name", "role"))
    return {
        "branches": [branch for branch in Branch.objects.order_by("code") if may_see_branch(user, branch.pk)],
        "sales_reps": [person for person in staff if person.role == Role.SALES_REP],
        "technicians": [person for person in staff if person.role == Role.TECHNICIAN],
        "kinds": JobKind.choices,
    }


# --- Voice items --------------------------------------------------------------------------------------------


def voice_visible_to(user: User) -> QuerySet[CustomerVoice]:
    return scope_to(CustomerVoice.objects.all(), user)


def get_voice_for_user(user: User, pk: int) -> CustomerVoice:
    """The item, or CustomerVoice.DoesNotExist when the user may not see it (→ 404)."""
    return (
        voice_visible_to(user)
        .select_related(
            "customer",
            "job",
            "job__vehicle",
            "raised_by",
            "assignee",
            "co_assignee",
            "followed_up_by",
            "survey_response",
        )
        .get(pk=pk)
    )


# Hand-written like repairs.selectors.JobFilters, the other list screen's
# filters (which a FilterSet would slow down, see there), so the portal reads
# list filters one way. As a FilterSet, four of its six parameters would be
# custom methods anyway: no status means "still active" and "all" means any,
# "mine" is relative to the viewer, "overdue" is forced by its screen, and the
# checkboxes send "1", which Django's boolean widget does not read.
@dataclass(frozen=True)
class VoiceFilters:
    status: str = ""  # "" = still active
    category: str = ""
    source: str = ""
    mine: bool = False
    overdue: bool = False
    q: str = ""

    @classmethod
    def from_query(cls, params, *, overdue: bool = False) -> VoiceFilters:
        status = params.get("status", "")
        category = params.get("category", "")
        source = params.get("source", "")
        return cls(
            status=status if status in VoiceStatus.values or status == "all" else "",
            category=category if category in VoiceCategory.values else "",
            source=source if source in VoiceSource.values else "",
            mine=params.get("mine") == "1",
            overdue=overdue or params.get("overdue") == "1",
            q=params.get("q", "").strip()[:100],
        )

    def as_query(self) -> dict[str, str]:
        query = {"status": self.status, "category": self.category, "source": self.source, "q": self.q}
        if self.mine:
            query["mine"] = "1"
        if self.overdue:
            query["overdue"] = "1"
        return {key: value for key, value in query.items() if value}


def filtered_voice(user: User, filters: VoiceFilters) -> QuerySet[CustomerVoice]:
    qs = voice_visible_to(user)
    if filters.status == "all":
        pass
    elif filters.status:
        qs = qs.filter(status=filters.status)
    else:
        qs = qs.filter(status__in=ACTIVE_VOICE_STATUSES)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.mine:
        qs = qs.filter(Q(assignee=user) | Q(co_assignee=user) | Q(raised_by=user))
    if filters.overdue:
        qs = qs.filter(status__in=ACTIVE_VOICE_STATUSES, due_date__lt=timezone.localdate())
    if filters.q:
        qs = qs.filter(
            Q(title__icontains=filters.q)
            | Q(customer__name__icontains=filters.q)
            | Q(customer__name_kana__icontains=filters.q)
        )
    return qs.select_related("customer", "job", "assignee", "co_assignee").order_by("due_date", "-created_at", "-id")


def my_voice_items(user: User, *, limit: int = 5) -> tuple[list[CustomerVoice], dict]:
    """The active items a person owns or shares, due first, and their counts (two queries)."""
    mine = voice_visible_to(user).filter(Q(assignee=user) | Q(co_assignee=user), status__in=ACTIVE_VOICE_STATUSES)
    counts = mine.aggregate(
        total=Count("id"),
        overdue=Count("id", filter=Q(due_date__lt=timezone.localdate())),
        recovery=Count("id", filter=Q(is_recovery=True)),
    )
    items = list(mine.select_related("customer").order_by(F("due_date").asc(nulls_last=True), "-created_at")[:limit])
    return items, counts


def voice_history(voice: CustomerVoice):
    return voice.events.select_related("by")


# --- The customer's page ------------------------------------------------------------------------------------


def customer_history(customer: Customer) -> dict:
    """What the customer said and answered, newest first, for their page (customers/, through panels.py).

    Three queries whatever the number of answers and items.
    """
    return {
        "opted_out": SurveyOptOut.objects.filter(customer=customer).exists(),
        "responses": list(
            SurveyResponse.objects.filter(job__customer=customer).select_related("job").order_by("-submitted_at")
        ),
        "voice_items": list(
            CustomerVoice.objects.filter(customer=customer)
            .select_related("job", "assignee", "co_assignee")
            .order_by("-created_at", "-id")
        ),
    }
