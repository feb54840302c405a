"""Reads on repair jobs, always scoped to what the user may see.

Every list selects its relations up front so the query count does not grow
with the rows (tests assert it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import BooleanField, Count, ExpressionWrapper, F, IntegerField, Prefetch, Q, QuerySet, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.http import urlencode

from accounts.models import Role, User
from customers.models import Customer
from dealership import versions
from dealership.scopes import scope_to

from .models import (
    BOARD_STATUSES,
    FINISHED_STATUSES,
    INTERNAL_KINDS,
    OPEN_APPROVAL_STATUSES,
    PROMISE_KEPT_STATUSES,
    ApprovalRequest,
    CustomerStatusLink,
    JobEvent,
    JobKind,
    JobMessage,
    JobReadMarker,
    RepairJob,
    SalesLead,
    Status,
)

BOARD_COLUMN_LIMIT = 12
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def jobs_visible_to(user: User) -> QuerySet[RepairJob]:
    return scope_to(RepairJob.objects.all(), user)


def with_list_relations(qs: QuerySet[RepairJob]) -> QuerySet[RepairJob]:
    return qs.select_related("customer", "vehicle", "technician", "sales_owner", "branch")


# The fields a polled screen's row shows (repairs.rows) and
# its ETag's deadline reads. Every joined table costs PostgreSQL planning time
# and Python a model per row, and every loaded field a little more, on each
# fresh render of the board, the queue and the lists, so rows load these only
# (the query-count tests catch a field read that is not here).
ROW_FIELDS = ("number", "branch", "status", "priority", "promised_at", "kind", "title", "customer")
VEHICLE_FIELDS = ("vehicle", "vehicle__make", "vehicle__model", "vehicle__plate_number")
TECHNICIAN_FIELDS = ("technician", "technician__display_name")
CUSTOMER_FIELDS = ("customer__name", "customer__name_kana")


def with_row_relations(
    qs: QuerySet[RepairJob], *, customer: bool = False, technician: bool = True
) -> QuerySet[RepairJob]:
    """A row's job with its vehicle, its technician (unless the viewer is the
    technician) and, for the lists, its customer: nothing else joined or loaded."""
    related = ["vehicle", *(["technician"] if technician else []), *(["customer"] if customer else [])]
    fields = [
        *ROW_FIELDS,
        *VEHICLE_FIELDS,
        *(TECHNICIAN_FIELDS if technician else ["technician"]),
        *(CUSTOMER_FIELDS if customer else []),
    ]
    return qs.select_related(*related).only(*fields)


def get_job_for_user(user: User, pk: int) -> RepairJob:
    """The job, or RepairJob.DoesNotExist when the user may not see it (→ 404)."""
    return jobs_visible_to(user).select_related("customer", "vehicle", "branch").get(pk=pk)


def attach_people(job: RepairJob) -> RepairJob:
    """Load the four people on a job in one query, once.

    Joining the user table four times into the job query makes PostgreSQL
    spend longer planning than running it; and a cached job page never needs
    them at all.
    """
    if getattr(job, "_people_attached", False):
        return job
    people = User.objects.in_bulk(
        {job.sales_owner_id, job.requested_by_id, job.technician_id, job.service_advisor_id} - {None}
    )
    for field in ("sales_owner", "requested_by", "technician", "service_advisor"):
        setattr(job, field, people.get(getattr(job, f"{field}_id")))
    job._people_attached = True
    return job


# Hand-written, not a django-filter FilterSet: `list_screen` below reads these
# filters on every poll to build the ETag, on the query-free 304 path. A
# FilterSet builds a Django form per request (about 0.5–1 ms measured here,
# as long as the whole 304 answer), its "mine" scope would need the viewer,
# and its default scope differs per screen. A value not among the choices is
# ignored, as if it were not given (never an error).
@dataclass(frozen=True)
class JobFilters:
    scope: str = "mine"  # mine | branch
    q: str = ""
    status: str = ""
    kind: str = ""
    finished: bool = False

    @classmethod
    def from_query(cls, params, *, default_scope: str) -> JobFilters:
        scope = params.get("scope", default_scope)
        status = params.get("status", "")
        kind = params.get("kind", "")
        return cls(
            scope=scope if scope in ("mine", "branch") else default_scope,
            q=params.get("q", "").strip()[:100],
            status=status if status in Status.values else "",
            kind=kind if kind in JobKind.values else "",
            finished=params.get("finished") == "1",
        )

    def as_query(self) -> dict[str, str]:
        query = {"scope": self.scope, "q": self.q, "status": self.status, "kind": self.kind}
        if self.finished:
            query["finished"] = "1"
        return {key: value for key, value in query.items() if value}


def filtered_jobs(user: User, filters: JobFilters) -> QuerySet[RepairJob]:
    qs = jobs_visible_to(user)
    if filters.scope == "mine":
        qs = qs.filter(Q(sales_owner=user) | Q(requested_by=user) | Q(technician=user))
    if filters.status:
        qs = qs.filter(status=filters.status)
    elif not filters.finished:
        qs = qs.exclude(status__in=FINISHED_STATUSES)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.q:
        term = filters.q
        qs = qs.filter(
            Q(number__icontains=term)
            | Q(vehicle__plate_number__icontains=term)
            | Q(customer__name__icontains=term)
            | Q(customer__name_kana__icontains=term)
            | Q(title__icontains=term)
        )
    return with_unread(with_row_relations(qs, customer=True), user).order_by(
        "priority", F("promised_at").asc(nulls_last=True), "-id"
    )


def with_unread(qs: QuerySet[RepairJob], user: User) -> QuerySet[RepairJob]:
    """Annotate `unread`: messages by others since the user last read the thread.

    A correlated subquery keeps it one query for the whole page of jobs. The
    read marker refers to the job, not to the message, so PostgreSQL reads it
    once per job and seeks the job's newer messages with the (job, created_at)
    index, instead of looking the marker up for every message.

    Written as SQL: built from ORM expressions (a subquery in a subquery,
    Coalesce, an aggregate) it took Django longer to compile on every render
    of the board, the queue and the lists than PostgreSQL took to run it.
    The table names come from the models, the values are parameters.
    """
    job = RepairJob._meta.db_table
    sql = (
        f'SELECT COUNT(*) FROM "{JobMessage._meta.db_table}" m '  # noqa: S608 -- table names, not input
        f'WHERE m."job_id" = "{job}"."id" AND (m."author_id" IS NULL OR m."author_id" <> %s) '
        f'AND m."created_at" > COALESCE((SELECT r."read_at" FROM "{JobReadMarker._meta.db_table}" r '
        f'WHERE r."job_id" = "{job}"."id" AND r."user_id" = %s), %s)'
    )
    unread = RawSQL(sql, (user.pk, user.pk, EPOCH), output_field=IntegerField())  # noqa: S611 -- no input in the SQL
    return qs.annotate(unread=unread)


UNASSIGNED_SHOWN = 20
MINE_SHOWN = 20


def technician_queue(user: User) -> tuple[list[RepairJob], int, list[RepairJob], int]:
    """The technician's most urgent jobs and how many they have, then the first
    unassigned jobs of the branch to claim and how many wait in all."""
    # The queue's rows show the vehicle; the technician is the viewer or nobody.
    active = with_row_relations(jobs_visible_to(user).exclude(status__in=FINISHED_STATUSES), technician=False).order_by(
        "priority", F("promised_at").asc(nulls_last=True), "id"
    )
    # The window counts ride on the same queries: the badges tell the true
    # numbers though only the most urgent cards are listed (a phone screen,
    # and a render that stays cheap however busy the technician is).
    mine = list(with_unread(active.filter(technician=user), user).annotate(total=Window(Count("id")))[:MINE_SHOWN])
    pool = active.filter(technician__isnull=True).annotate(pool_size=Window(Count("id")))
    unassigned = list(pool[:UNASSIGNED_SHOWN])
    return mine, mine[0].total if mine else 0, unassigned, unassigned[0].pool_size if unassigned else 0


def job_timeline(job: RepairJob) -> QuerySet[JobEvent]:
    """Every change to the job, newest first, in one query."""
    return job.events.select_related("by")


CARD_FIELDS = (
    "pk", "number", "status", "priority", "promised_at", "kind", "title",
    "vehicle__make", "vehicle__model", "vehicle__plate_number", "technician__display_name",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CardVehicle:
    make: str
    model: str
    plate_number: str


@dataclass(frozen=True, slots=True)
class CardTechnician:
    display_name: str


class Card:
    """A board card's job, read as plain values: the board loads 96 of them on
    every fresh render, and building three model instances for each cost more
    than the query. The flags are RepairJob's own properties, so the card
    can never disagree with the job page about what "overdue" means."""

    __slots__ = ("kind", "number", "pk", "priority", "promised_at", "status", "technician", "title", "vehicle")

    def __init__(self, pk, number, status, priority, promised_at, kind, title, make, model, plate, technician):
        self.pk, self.number, self.status, self.priority = pk, number, status, priority
        self.promised_at, self.kind, self.title = promised_at, kind, title
        self.vehicle = CardVehicle(make, model, plate)
        self.technician = CardTechnician(technician) if technician is not None else None

    is_overdue = RepairJob.is_overdue
    is_urgent = RepairJob.is_urgent


def board_columns(user: User) -> list[dict]:
    """Active jobs by workshop status; each column shows its first cards and a count.

    Two queries whatever the number of jobs: the ids of each column's first
    cards with the column's size (window functions over the covering
    job_board_idx), then those cards with their vehicle and technician. The
    cards are the same for everyone watching the branch's board; the unread
    counts, which are not, come from `unread_counts` (repairs.board).
    """
    ranked = (
        jobs_visible_to(user)
        .filter(status__in=BOARD_STATUSES)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("status")],
                order_by=[F("priority").asc(), F("promised_at").asc(nulls_last=True), F("id").asc()],
            ),
            column_size=Window(Count("id"), partition_by=[F("status")]),
        )
        .filter(rank__lte=BOARD_COLUMN_LIMIT)
        .values_list("pk", "status", "column_size")
    )
    counts: dict[str, int] = {}
    first_ids = []
    for pk, status, size in ranked:
        first_ids.append(pk)
        counts[status] = size
    shown = (
        RepairJob.objects.filter(pk__in=first_ids)
        .order_by("priority", F("promised_at").asc(nulls_last=True), "id")
        .values_list(*CARD_FIELDS)
    )
    cards: dict[str, list[Card]] = {status: [] for status in BOARD_STATUSES}
    for row in shown:
        card = Card(*row)
        cards[card.status].append(card)
    return [
        {"status": status, "label": Status(status).label, "jobs": cards[status], "count": counts.get(status, 0)}
        for status in BOARD_STATUSES
    ]


def unread_counts(user: User, job_ids: list[int]) -> dict[int, int]:
    """Messages by others since `user` last read each thread, for the given jobs (one query)."""
    if not job_ids:
        return {}
    rows = with_unread(RepairJob.objects.filter(pk__in=job_ids), user).values_list("pk", "unread")
    return {pk: unread for pk, unread in rows if unread}


# --- what each polled screen shows, as version keys (dealership.versions) ---------
#
# A write bumps the keys of what it changed, in its service: a job's own
# writes through repairs.services.screens_changed, customers and vehicles
# through versions.customer_changed / vehicle_changed (`branch:<id>`), staff
# names and roles through versions.people_changed (`people`). A screen's ETag
# hashes the tokens of the keys it shows. Every key function below works from
# the cached viewer and the URL alone: no database.

PEOPLE = versions.PEOPLE


def branch_keys(viewer: dict) -> list[str]:
    """Branch-wide changes (a customer's phone, a plate) reach every screen of the branch."""
    return versions.branch_keys_of(viewer)


def branch_jobs_key(viewer: dict) -> str:
    return "branchjobs:all" if viewer["all"] else f"branchjobs:{viewer['branch']}"


def pool_key(viewer: dict) -> str:
    return "pool:all" if viewer["all"] else f"pool:{viewer['branch']}"


def approvals_key(viewer: dict) -> str:
    """What only the approvals lists show of a request (the reminder's highlight)."""
    return "approvals:all" if viewer["all"] else f"approvals:{viewer['branch']}"


def list_screen(default_scope: str):
    """Rows: job, customer name, vehicle, technician's name, the viewer's unread badges."""

    def keys_for(viewer: dict, request) -> tuple[list[str], list[str]]:
        filters = JobFilters.from_query(request.GET, default_scope=default_scope)
        shows = f"person:{viewer['id']}" if filters.scope == "mine" else branch_jobs_key(viewer)
        page = request.GET.get("page", "1")[:12]
        keys = [shows, f"read:{viewer['id']}", *branch_keys(viewer), PEOPLE]
        return keys, ["list", urlencode(filters.as_query()), page]

    return keys_for


def board_card_keys(viewer: dict) -> list[str]:
    """What the board's shared cards show: the branch's jobs, their vehicles, the technicians' names."""
    return [branch_jobs_key(viewer), *branch_keys(viewer), PEOPLE]


def board_screen(viewer: dict, request) -> tuple[list[str], list[str]]:
    return [*board_card_keys(viewer), f"read:{viewer['id']}"], ["board"]


def queue_screen(viewer: dict, request) -> tuple[list[str], list[str]]:
    """The technician's jobs and the pool: vehicles, no one's name (the viewer's own queue)."""
    return [f"person:{viewer['id']}", pool_key(viewer), f"read:{viewer['id']}", *branch_keys(viewer)], ["queue"]


def job_screen(viewer: dict, request, pk: int) -> tuple[list[str], list[str]]:
    """Status, technician, timeline (who did what); the full page adds the customer and the people."""
    return [f"job:{pk}", *branch_keys(viewer), PEOPLE], ["job", str(pk)]


def thread_screen(viewer: dict, request, pk: int) -> tuple[list[str], list[str]]:
    """Messages with their author's name and role, and who was mentioned."""
    return [f"thread:{pk}", PEOPLE], ["thread", str(pk)]


def approvals_leads_screen(viewer: dict, request, pk: int) -> tuple[list[str], list[str]]:
    """Approvals, leads and links of one job (each written through record_event: job:<pk>) and their people."""
    return [f"job:{pk}", *branch_keys(viewer), PEOPLE], ["approvals_leads", str(pk)]


def approvals_keys(viewer: dict, *, compact: bool) -> tuple[list[str], list[str]]:
    """Requests waiting for the viewer: the branch's jobs, customers, vehicles, who asked, reminders."""
    keys = [branch_jobs_key(viewer), approvals_key(viewer), *branch_keys(viewer), PEOPLE]
    return keys, ["approvals", "compact" if compact else "page"]


def approvals_screen(viewer: dict, request) -> tuple[list[str], list[str]]:
    return approvals_keys(viewer, compact=request.GET.get("compact") == "1")


def approvals_etag(user: User, *, compact: bool) -> str:
    """The ETag the approvals screen issues `user` now (the home page embeds its first render)."""
    viewer = versions.remember_viewer(user)
    return versions.make_etag(viewer, *approvals_keys(viewer, compact=compact), next_minute())


def requests_screen(viewer: dict, request) -> tuple[list[str], list[str]]:
    """The viewer's internal requests (they are the job's requester: person:<id>), customers, vehicles."""
    return [f"person:{viewer['id']}", *branch_keys(viewer)], ["my_requests"]


def first_to_come(moments) -> int:
    """The first of `moments` still in the future, as an ETag deadline; 0 when none is."""
    now = timezone.now()
    upcoming = [moment for moment in moments if moment is not None and moment > now]
    return int(min(upcoming).timestamp()) + 1 if upcoming else 0


def deadline_of(jobs) -> int:
    """When the first shown job crosses its promised time (its overdue flag flips), 0 if never."""
    return first_to_come(job.promised_at for job in jobs if job.status not in PROMISE_KEPT_STATUSES)


# A job is "at risk" from an hour before its promised time until it passes it
# (then it is overdue, RepairJob.is_overdue), unless the car is ready by then.
AT_RISK_WINDOW = timedelta(hours=1)


def at_risk(now: datetime) -> Q:
    """Jobs that will miss their promise within AT_RISK_WINDOW unless they are ready in time.

    One rule for the alert (services.alert_jobs_at_risk) and the badge on
    "My requests" (my_requests).
    """
    return Q(promised_at__gt=now, promised_at__lte=now + AT_RISK_WINDOW) & ~Q(status__in=PROMISE_KEPT_STATUSES)


def risk_changes(jobs) -> list[datetime]:
    """When each job turns at risk, then overdue: a screen that shows the flags renders again then."""
    return [
        moment
        for job in jobs
        if job.promised_at is not None
        for moment in (job.promised_at - AT_RISK_WINDOW, job.promised_at)
    ]


def next_minute() -> int:
    """For screens that show a running time ("waiting 12 min"): render again at the next minute."""
    return (int(timezone.now().timestamp()) // 60 + 1) * 60


def customers_for_new_job(user: User) -> QuerySet[Customer]:
    return scope_to(Customer.objects.select_related("branch"), user).order_by("name_kana", "name")


CUSTOMER_CHOICES_SHOWN = 50


def customer_shortlist(user: User, *, selected: str | int | None = None) -> list[Customer]:
    """What the intake form offers before any search: a sales rep's own
    customers (colleagues: the first of the branch), plus the chosen one."""
    qs = customers_for_new_job(user)
    shortlist = qs.filter(sales_owner=user) if user.role == Role.SALES_REP else qs
    customers = list(shortlist[:CUSTOMER_CHOICES_SHOWN])
    selected_id = int(selected) if str(selected or "").isdigit() else None
    if selected_id and all(customer.pk != selected_id for customer in customers):
        customers += list(qs.filter(pk=selected_id))
    return customers


def technicians_of_branch(branch_id: int) -> QuerySet[User]:
    return User.objects.filter(branch_id=branch_id, role=Role.TECHNICIAN, is_active=True).order_by("display_name")


def thread_messages(job: RepairJob) -> QuerySet[JobMessage]:
    return job.messages.select_related("author").prefetch_related("attachments", "mentions")


# --- Approvals, leads, the customer's status link ---


def approvals_waiting_for(user: User) -> QuerySet[ApprovalRequest]:
    """Open approval requests this user is the one to decide.

    Sales reps: their own customers' cars. Advisors: cars whose customer has
    no sales owner, and the jobs they advise. Managers: the whole branch.
    """
    qs = scope_to(
        ApprovalRequest.objects.filter(status__in=OPEN_APPROVAL_STATUSES).exclude(job__status__in=FINISHED_STATUSES),
        user,
        "job__branch",
    )
    if user.role == Role.SALES_REP:
        qs = qs.filter(job__sales_owner=user)
    elif user.role == Role.SERVICE_ADVISOR:
        qs = qs.filter(Q(job__sales_owner__isnull=True) | Q(job__service_advisor=user))
    elif user.role != Role.MANAGER:
        qs = qs.none()
    return qs


def approvals_page(user: User) -> list[ApprovalRequest]:
    """The "approvals waiting for me" list, oldest first, in one query."""
    return list(
        approvals_waiting_for(user)
        .select_related("job", "job__vehicle", "job__customer", "requested_by")
        .order_by("requested_at", "id")
    )


def job_approvals(job: RepairJob) -> list[ApprovalRequest]:
    return list(
        ApprovalRequest.objects.filter(job=job)
        .select_related("requested_by", "decided_by")
        .prefetch_related("message__attachments")
    )


def job_leads(job: RepairJob) -> list[SalesLead]:
    return list(SalesLead.objects.filter(job=job).select_related("flagged_by", "owner"))


def job_status_links(job: RepairJob) -> list[CustomerStatusLink]:
    return list(CustomerStatusLink.objects.filter(job=job).select_related("created_by", "revoked_by"))


def leads_visible_to(user: User) -> QuerySet[SalesLead]:
    return scope_to(SalesLead.objects.all(), user)


LEADS_SHOWN = 200


def leads_page(user: User, *, status: str = "", mine: bool = False) -> list[SalesLead]:
    """The branch's leads, newest first, with who flagged them and what became of them."""
    qs = leads_visible_to(user)
    if status:
        qs = qs.filter(status=status)
    if mine:
        qs = qs.filter(owner=user)
    return list(qs.select_related("job", "job__vehicle", "customer", "flagged_by", "owner")[:LEADS_SHOWN])


def my_requests(user: User, *, finished: bool = False) -> list[RepairJob]:
    """The internal requests (PDI, accessory, trade-in) this sales rep asked the workshop for.

    Open requests carry `at_risk` (the rule of `at_risk`, as the alerts use it).
    """
    qs = jobs_visible_to(user).filter(requested_by=user, kind__in=INTERNAL_KINDS)
    if finished:
        qs = qs.filter(status__in=FINISHED_STATUSES).order_by("-delivered_at", "-id")[:50]
    else:
        qs = (
            qs.exclude(status__in=FINISHED_STATUSES)
            .annotate(at_risk=ExpressionWrapper(at_risk(timezone.now()), output_field=BooleanField()))
            .order_by(F("promised_at").asc(nulls_last=True), "id")
        )
    return list(with_list_relations(qs))


# --- The customer's page (customers/, through panels.py) ---

# Timeline kinds that tell of approvals and leads: their history is on the
# job's timeline, which the customer's page lists per job and across jobs.
APPROVAL_KINDS = (JobEvent.Kind.APPROVAL_REQUESTED, JobEvent.Kind.APPROVAL_DECIDED)
LEAD_KINDS = (JobEvent.Kind.LEAD_FLAGGED, JobEvent.Kind.LEAD_UPDATED)


def customer_history(customer: Customer) -> dict:
    """Every job of the customer with its timeline, and the approvals and leads
    on them, newest first, in three queries whatever their number."""
    events = JobEvent.objects.select_related("by").order_by("-at", "-id")
    jobs = list(
        RepairJob.objects.filter(customer=customer)
        .select_related("vehicle", "technician", "sales_owner", "branch")
        .prefetch_related(Prefetch("events", queryset=events, to_attr="timeline"))
        .order_by("-received_at", "-id")
    )
    asked_and_flagged = list(
        JobEvent.objects.filter(job__customer=customer, kind__in=[*APPROVAL_KINDS, *LEAD_KINDS])
        .select_related("by", "job")
        .order_by("-at", "-id")
    )
    return {
        "jobs": jobs,
        "approvals": [event for event in asked_and_flagged if event.kind in APPROVAL_KINDS],
        "leads": [event for event in asked_and_flagged if event.kind in LEAD_KINDS],
    }
