"""Repair jobs: one shared picture of every customer's car in the workshop.

The workshop status (what technicians track) and the customer-facing status
(what sales and the customer see) are two layers over one field; the allowed
transitions and the badge colours sit beside the choices as data.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.signing import Signer
from django.db import models
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, Vehicle
from dealership.dates import EARLIEST_STORED, LATEST_STORED
from dealership.i18n import gettext_lazy as _
from dealership.i18n import pgettext_lazy
from dealership.models import Branch, render_portable


class JobKind(models.TextChoices):
    REPAIR = "repair", _("Repair")
    MAINTENANCE = "maintenance", _("Maintenance")
    SHAKEN = "shaken", _("Shaken inspection")
    PDI = "pdi", _("New-car delivery prep")
    ACCESSORY = "accessory", _("Accessory fitting")
    TRADE_IN = "trade_in", _("Trade-in inspection")
    WARRANTY = "warranty", _("Warranty repair")


# Internal sales → service requests: these always carry a due time.
INTERNAL_KINDS = frozenset({JobKind.PDI, JobKind.ACCESSORY, JobKind.TRADE_IN})


class Priority(models.IntegerChoices):
    URGENT = 1, _("Urgent")
    HIGH = 2, _("High")
    NORMAL = 3, _("Normal")
    LOW = 4, _("Low")


class Status(models.TextChoices):
    """Workshop status, moved by technicians and advisors."""

    RECEIVED = "received", _("Received")
    DIAGNOSING = "diagnosing", _("Diagnosing")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting customer approval")
    AWAITING_PARTS = "awaiting_parts", _("Awaiting parts")
    IN_PROGRESS = "in_progress", _("In progress")
    QUALITY_CHECK = "quality_check", _("Quality check")
    READY = "ready", _("Ready for handover")
    DELIVERED = "delivered", _("Delivered")
    ON_HOLD = "on_hold", _("On hold")
    CANCELLED = "cancelled", _("Cancelled")


class CustomerStatus(models.TextChoices):
    """What sales and the customer see."""

    RECEIVED = "received", pgettext_lazy("customer-facing status", "Received")
    IN_PROGRESS = "in_progress", pgettext_lazy("customer-facing status", "Work in progress")
    WAITING_APPROVAL = "waiting_approval", pgettext_lazy("customer-facing status", "Waiting for your approval")
    WAITING_PARTS = "waiting_parts", pgettext_lazy("customer-facing status", "Waiting for parts")
    READY = "ready", pgettext_lazy("customer-facing status", "Ready for pickup")
    DELIVERED = "delivered", pgettext_lazy("customer-facing status", "Delivered")
    ON_HOLD = "on_hold", pgettext_lazy("customer-facing status", "On hold")
    CANCELLED = "cancelled", pgettext_lazy("customer-facing status", "Cancelled")


# The one table of allowed workshop moves. `change_status` refuses anything else.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.RECEIVED: (Status.DIAGNOSING, Status.IN_PROGRESS, Status.ON_HOLD, Status.CANCELLED),
    Status.DIAGNOSING: (
        Status.AWAITING_APPROVAL,
        Status.AWAITING_PARTS,
        Status.IN_PROGRESS,
        Status.ON_HOLD,
        Status.CANCELLED,
    ),
    Status.AWAITING_APPROVAL: (Status.IN_PROGRESS, Status.AWAITING_PARTS, Status.ON_HOLD, Status.CANCELLED),
    Status.AWAITING_PARTS: (Status.IN_PROGRESS, Status.ON_HOLD, Status.CANCELLED),
    Status.IN_PROGRESS: (
        Status.AWAITING_APPROVAL,
        Status.AWAITING_PARTS,
        Status.QUALITY_CHECK,
        Status.ON_HOLD,
        Status.CANCELLED,
    ),
    Status.QUALITY_CHECK: (Status.IN_PROGRESS, Status.READY),
    Status.READY: (Status.DELIVERED, Status.IN_PROGRESS),
    Status.DELIVERED: (),
    Status.ON_HOLD: (Status.DIAGNOSING, Status.AWAITING_PARTS, Status.IN_PROGRESS, Status.CANCELLED),
    Status.CANCELLED: (),
}

CUSTOMER_STATUS: dict[str, str] = {
    Status.RECEIVED: CustomerStatus.RECEIVED,
    Status.DIAGNOSING: CustomerStatus.IN_PROGRESS,
    Status.AWAITING_APPROVAL: CustomerStatus.WAITING_APPROVAL,
    Status.AWAITING_PARTS: CustomerStatus.WAITING_PARTS,
    Status.IN_PROGRESS: CustomerStatus.IN_PROGRESS,
    Status.QUALITY_CHECK: CustomerStatus.IN_PROGRESS,
    Status.READY: CustomerStatus.READY,
    Status.DELIVERED: CustomerStatus.DELIVERED,
    Status.ON_HOLD: CustomerStatus.ON_HOLD,
    Status.CANCELLED: CustomerStatus.CANCELLED,
}

# Bootstrap colour of each badge (text-bg-<colour>).
STATUS_COLOURS: dict[str, str] = {
    Status.RECEIVED: "secondary",
    Status.DIAGNOSING: "info",
    Status.AWAITING_APPROVAL: "warning",
    Status.AWAITING_PARTS: "warning",
    Status.IN_PROGRESS: "primary",
    Status.QUALITY_CHECK: "info",
    Status.READY: "success",
    Status.DELIVERED: "dark",
    Status.ON_HOLD: "light",
    Status.CANCELLED: "light",
}
CUSTOMER_STATUS_COLOURS: dict[str, str] = {
    CustomerStatus.RECEIVED: "secondary",
    CustomerStatus.IN_PROGRESS: "primary",
    CustomerStatus.WAITING_APPROVAL: "warning",
    CustomerStatus.WAITING_PARTS: "warning",
    CustomerStatus.READY: "success",
    CustomerStatus.DELIVERED: "dark",
    CustomerStatus.ON_HOLD: "light",
    CustomerStatus.CANCELLED: "light",
}

# Staff screens need staff wording: "Waiting for your approval" reads as if the
# staff member had to approve. The customer's own link keeps CustomerStatus.
CUSTOMER_STATUS_STAFF_LABELS: dict[str, str] = {
    CustomerStatus.WAITING_APPROVAL: pgettext_lazy(
        "customer-facing status, staff wording", "Waiting for the customer's approval"
    ),
}


class Move(models.TextChoices):
    """How a status move looks on the workshop's buttons."""

    FORWARD = "forward", _("Forward")
    BACK = "back", _("Back")
    ASIDE = "aside", _("Aside")


# Moves that undo work: styled apart from forward moves and confirmed first,
# so one stray tap never sends a finished car back into work.
BACKWARD_MOVES = frozenset({(Status.QUALITY_CHECK, Status.IN_PROGRESS), (Status.READY, Status.IN_PROGRESS)})
# Moves that stop the work rather than advance it.
ASIDE_STATUSES = frozenset({Status.ON_HOLD, Status.CANCELLED})


# Button class and icon of each kind of move (the templates take them from here).
MOVE_STYLES: dict[str, tuple[str, str]] = {
    Move.FORWARD: ("btn-success", "bi-arrow-right-circle"),
    Move.BACK: ("btn-outline-danger", "bi-arrow-counterclockwise"),
    Move.ASIDE: ("btn-outline-secondary", "bi-pause-circle"),
}


def move_kind(from_status: str, to_status: str) -> str:
    if to_status in ASIDE_STATUSES:
        return Move.ASIDE
    if (from_status, to_status) in BACKWARD_MOVES:
        return Move.BACK
    return Move.FORWARD


FINISHED_STATUSES = frozenset({Status.DELIVERED, Status.CANCELLED})
# Statuses after which the promise to the customer is kept (the car is done).
PROMISE_KEPT_STATUSES = frozenset({Status.READY, Status.DELIVERED, Status.CANCELLED})
# Board columns, in workshop order.
BOARD_STATUSES = (
    Status.RECEIVED,
    Status.DIAGNOSING,
    Status.AWAITING_APPROVAL,
    Status.AWAITING_PARTS,
    Status.IN_PROGRESS,
    Status.QUALITY_CHECK,
    Status.READY,
    Status.ON_HOLD,
)


class RepairJob(models.Model):
    number = models.CharField(_("job number"), max_length=20, unique=True, null=True, editable=False)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="jobs", verbose_name=_("branch"))
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="jobs", verbose_name=_("customer"))
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="jobs", verbose_name=_("vehicle"))
    kind = models.CharField(_("kind"), max_length=20, choices=JobKind.choices, default=JobKind.REPAIR)
    title = models.CharField(_("title"), max_length=200)
    customer_request = models.TextField(_("customer's request"), blank=True)
    sales_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sales_jobs",
        verbose_name=_("sales owner"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="requested_jobs",
        verbose_name=_("requested by"),
    )
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_jobs",
        verbose_name=_("technician"),
    )
    service_advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="advised_jobs",
        verbose_name=_("service advisor"),
    )
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED)
    promised_at = models.DateTimeField(_("promised time"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    ready_at = models.DateTimeField(_("ready at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    # Optimistic concurrency for status moves: each move bumps it, and a move
    # that expected an older version is refused instead of overwriting
    # someone else's. Assignments and promises do not bump it, so a conflict
    # is always another status move, which the refusal can name.
    version = models.PositiveIntegerField(_("version"), default=1)
    # The promise each alert was sent for: one alert per promise, and a new
    # promise may alert again (repairs.tasks.alert_jobs_at_risk).
    at_risk_alerted_for = models.DateTimeField(null=True, blank=True, editable=False)
    overdue_alerted_for = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["priority", "promised_at", "id"]
        verbose_name = _("repair job")
        verbose_name_plural = _("repair jobs")
        indexes = [
            # The board ranks each column's first cards by a window over
            # (status; priority, promised time, id): with the id in it, this
            # index gives the ranking its rows in order without touching the table.
            models.Index(fields=["branch", "status", "priority", "promised_at", "id"], name="job_board_idx"),
            models.Index(fields=["sales_owner", "status"], name="job_sales_owner_idx"),
            models.Index(fields=["requested_by", "status"], name="job_requester_idx"),
            models.Index(fields=["technician", "status"], name="job_technician_idx"),
            models.Index(fields=["branch", "-received_at"], name="job_branch_recent_idx"),
            # The live screens show active jobs only (a third of a busy branch):
            # this partial index serves the lists, the board and the queue's
            # pool without scanning the delivered history.
            models.Index(
                fields=["branch", "priority", "promised_at"],
                condition=~models.Q(status__in=["cancelled", "delivered"]),
                name="job_active_idx",
            ),
            # The KPI figures (goals.metrics) count one branch's jobs by one
            # timestamp over a period: deliveries, turnaround, promises kept.
            models.Index(fields=["branch", "delivered_at"], name="job_delivered_idx"),
            models.Index(fields=["branch", "ready_at"], name="job_ready_idx"),
            models.Index(fields=["branch", "promised_at"], name="job_promised_idx"),
        ]
        # The services keep promised times in the portal's date range
        # (dealership/dates.py); the database refuses the rest, whatever the
        # write path: a time in year 1 is stored as 1 BC, which no list holding
        # the job could read back, and one in 9999 overflows the local time.
        constraints = [
            models.CheckConstraint(
                condition=models.Q(promised_at__isnull=True)
                | models.Q(promised_at__gte=EARLIEST_STORED, promised_at__lt=LATEST_STORED),
                name="job_promised_at_in_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number or '—'} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("repairs:job_detail", args=[self.pk])

    @property
    def customer_status(self) -> str:
        return CUSTOMER_STATUS[self.status]

    def get_customer_status_display(self) -> str:
        return CustomerStatus(self.customer_status).label

    def get_customer_status_staff_display(self) -> str:
        status = self.customer_status
        return CUSTOMER_STATUS_STAFF_LABELS.get(status, CustomerStatus(status).label)

    @property
    def status_colour(self) -> str:
        return STATUS_COLOURS[self.status]

    @property
    def customer_status_colour(self) -> str:
        return CUSTOMER_STATUS_COLOURS[self.customer_status]

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def is_overdue(self) -> bool:
        return (
            self.promised_at is not None
            and self.status not in PROMISE_KEPT_STATUSES
            and self.promised_at < timezone.now()
        )

    @property
    def is_urgent(self) -> bool:
        return self.priority <= Priority.HIGH

    @property
    def is_waiting_for_approval(self) -> bool:
        return self.status == Status.AWAITING_APPROVAL

    @property
    def allowed_next_statuses(self) -> tuple[str, ...]:
        return TRANSITIONS[self.status]


class JobEvent(models.Model):
    """One row of a job's timeline: who did what, when, and why.

    Every change to a job — opened, status, assignment, claim, release,
    promised time, approvals, leads, status links, surveys — is one row here,
    written by its service in the same transaction as the change
    (`repairs.services.record_event`). One table rather than one per kind:
    the job page, the admin and the customer's page read one ordered list
    with one indexed query, and a later app adds a kind, not a table.
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("Job opened")
        STATUS = "status", _("Status changed")
        ASSIGNED = "assigned", _("Technician assigned")
        CLAIMED = "claimed", _("Job claimed")
        RELEASED = "released", _("Technician released")
        PROMISE = "promise", _("Promised time changed")
        APPROVAL_REQUESTED = "approval_requested", _("Customer approval requested")
        APPROVAL_DECIDED = "approval_decided", _("Customer approval decided")
        LEAD_FLAGGED = "lead_flagged", _("Sales lead flagged")
        LEAD_UPDATED = "lead_updated", _("Sales lead updated")
        LINK_CREATED = "link_created", _("Status link created")
        LINK_REVOKED = "link_revoked", _("Status link revoked")
        SURVEY_SENT = "survey_sent", _("Survey sent")
        SURVEY_ANSWERED = "survey_answered", _("Survey answered")
        VOICE = "voice", _("Customer voice recorded")

    job = models.ForeignKey(RepairJob, on_delete=models.CASCADE, related_name="events", verbose_name=_("job"))
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    # Status moves keep their from/to as columns: the stale-edit refusal and
    # the KPIs filter on them.
    from_status = models.CharField(_("from"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=Status.choices, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    # What the summary line needs (names, times, amounts), stored portable:
    # translatable labels stay translatable (dealership.notifications.portable).
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        indexes = [
            models.Index(fields=["job", "-at"], name="jobevent_job_idx"),
            models.Index(fields=["kind", "at"], name="jobevent_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}: {self.kind} {self.summary}"

    @property
    def summary(self) -> str:
        """The line the timeline shows, in the active language."""
        values = {name: _render_event_value(value) for name, value in self.data.items()}
        if self.from_status:
            values["from_status"] = Status(self.from_status).label
        if self.to_status:
            values["to_status"] = Status(self.to_status).label
        template = str(EVENT_SUMMARIES.get(self.kind, self.get_kind_display()))
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError):
            return render_portable(self.get_kind_display())

    @property
    def is_status_move(self) -> bool:
        return self.kind == self.Kind.STATUS


def _render_event_value(value) -> str:
    if isinstance(value, dict) and "dt" in value:
        if not value["dt"]:
            return str(_("none"))
        moment = datetime.fromisoformat(value["dt"])
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
    return render_portable(value)


EVENT_SUMMARIES = {
    JobEvent.Kind.CREATED: _("Opened the job"),
    JobEvent.Kind.STATUS: _("{from_status} → {to_status}"),
    JobEvent.Kind.ASSIGNED: _("Assigned to {technician}"),
    JobEvent.Kind.CLAIMED: _("Took the job"),
    JobEvent.Kind.RELEASED: _("{technician} was released from the job: {reason}"),
    JobEvent.Kind.PROMISE: _("Promised time {old} → {new}"),
    JobEvent.Kind.APPROVAL_REQUESTED: _("Asked for the customer's approval: {work} (¥{estimate})"),
    JobEvent.Kind.APPROVAL_DECIDED: _("Customer's decision on {work}: {decision} ({contact}, after {waited})"),
    JobEvent.Kind.LEAD_FLAGGED: _("Flagged a sales lead: {reason}"),
    JobEvent.Kind.LEAD_UPDATED: _("Sales lead ({reason}) is now {status}"),
    JobEvent.Kind.LINK_CREATED: _("Created a status link for the customer"),
    JobEvent.Kind.LINK_REVOKED: _("Revoked the customer's status link"),
    JobEvent.Kind.SURVEY_SENT: _("Survey e-mailed to the customer"),
    JobEvent.Kind.SURVEY_ANSWERED: _("Customer answered the survey: overall {overall}/5, recommend {nps}/10"),
    JobEvent.Kind.VOICE: _("Customer voice “{title}” ({category}): {action}"),
}


class JobMessage(models.Model):
    """One message on a job's thread: sales and service talk here."""

    class Kind(models.TextChoices):
        NOTE = "note", _("Note")
        CUSTOMER_REQUEST = "customer_request", _("Customer request")

    job = models.ForeignKey(RepairJob, on_delete=models.CASCADE, related_name="messages", verbose_name=_("job"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("author")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.NOTE)
    body = models.TextField(_("message"), blank=True)
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in", verbose_name=_("mentions")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("job message")
        verbose_name_plural = _("job messages")
        indexes = [models.Index(fields=["job", "created_at"], name="jobmessage_job_idx")]

    def __str__(self) -> str:
        return f"{self.job_id}: {self.body[:40]}"

    def get_absolute_url(self) -> str:
        return f"{self.job.get_absolute_url()}#message-{self.pk}"

    @property
    def is_customer_request(self) -> bool:
        return self.kind == self.Kind.CUSTOMER_REQUEST


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"jobs/{instance.message.job_id}/{uuid.uuid4().hex}{Path(filename).suffix.lower()}"


class Attachment(models.Model):
    """A photo on a message, stored through Django's storage API (S3 is a setting away)."""

    message = models.ForeignKey(JobMessage, on_delete=models.CASCADE, related_name="attachments")
    image = models.ImageField(_("photo"), upload_to=attachment_path, width_field="width", height_field="height")
    thumbnail = models.ImageField(_("thumbnail"), upload_to=attachment_path, blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    original_name = models.CharField(_("original file name"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name or self.image.name


class JobReadMarker(models.Model):
    """How far one person has read one job's thread (unread counts)."""

    job = models.ForeignKey(RepairJob, on_delete=models.CASCADE, related_name="read_markers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "user"], name="one_read_marker_per_user_and_job")]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.job_id} at {self.read_at}"


# --- Approvals, leads, the customer's status link ---

# Estimates are whole yen, tax included; anything above this is a typo, not a repair.
MAX_ESTIMATE_YEN = 10_000_000


class ApprovalRequest(models.Model):
    """Extra work the workshop found, waiting for the customer's yes or no.

    Raised by the workshop (`services.request_approval`), decided by the
    sales owner after calling the customer (`services.record_approval_decision`).
    "Could not reach" keeps the request open: someone tries again later.
    """

    class Decision(models.TextChoices):
        PENDING = "pending", _("Waiting for the customer")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        UNREACHABLE = "unreachable", _("Could not reach the customer")

    class ContactMethod(models.TextChoices):
        PHONE = "phone", _("Phone")
        IN_PERSON = "in_person", _("In person")
        EMAIL = "email", _("E-mail")
        LINE = "line", _("LINE")
        SMS = "sms", _("SMS")
        OTHER = "other", _("Other")

    job = models.ForeignKey(RepairJob, on_delete=models.CASCADE, related_name="approvals", verbose_name=_("job"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    work = models.CharField(_("extra work"), max_length=200)
    reason = models.TextField(_("why it is needed"), max_length=2000, blank=True)
    estimate_yen = models.PositiveIntegerField(_("estimate (yen, tax included)"))
    # The photos live on the job's thread (one message), so they are shown,
    # stored and permission-checked like every other thread photo.
    message = models.ForeignKey(
        JobMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("photos")
    )
    status = models.CharField(_("decision"), max_length=20, choices=Decision.choices, default=Decision.PENDING)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # Request → decision, kept as a number: the cross-department KPI.
    response_seconds = models.PositiveIntegerField(_("time to decision (seconds)"), null=True, blank=True)
    contact_method = models.CharField(_("how the customer was contacted"), max_length=20, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(_("unsuccessful calls"), default=0)
    last_attempt_at = models.DateTimeField(_("last unsuccessful call"), null=True, blank=True)
    # Set once by the reminder task (conditional UPDATE): one reminder per request.
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("customer approval request")
        verbose_name_plural = _("customer approval requests")
        indexes = [
            models.Index(fields=["status", "requested_at"], name="approval_open_idx"),
            models.Index(fields=["job", "-requested_at"], name="approval_job_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(estimate_yen__gte=1, estimate_yen__lte=MAX_ESTIMATE_YEN),
                name="approval_estimate_in_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.job_id}: {self.work} (¥{self.estimate_yen:,})"

    def get_absolute_url(self) -> str:
        return f"{reverse('repairs:job_detail', args=[self.job_id])}#approval-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_APPROVAL_STATUSES

    @property
    def status_colour(self) -> str:
        return APPROVAL_COLOURS[self.status]

    @property
    def waiting_minutes(self) -> int:
        end = self.decided_at or timezone.now()
        return max(0, int((end - self.requested_at).total_seconds() // 60))

    @property
    def response_display(self) -> str:
        """Request → decision as "1 h 05 min" (or so far, while still open)."""
        minutes = self.response_seconds // 60 if self.response_seconds is not None else self.waiting_minutes
        hours, minutes = divmod(minutes, 60)
        return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


OPEN_APPROVAL_STATUSES = frozenset({ApprovalRequest.Decision.PENDING, ApprovalRequest.Decision.UNREACHABLE})
APPROVAL_COLOURS: dict[str, str] = {
    ApprovalRequest.Decision.PENDING: "warning",
    ApprovalRequest.Decision.APPROVED: "success",
    ApprovalRequest.Decision.DECLINED: "secondary",
    ApprovalRequest.Decision.UNREACHABLE: "danger",
}


class SalesLead(models.Model):
    """A sales opportunity the workshop spotted on a job (service → sales)."""

    class Reason(models.TextChoices):
        COSTLY_REPAIR_OLD_CAR = "costly_repair", _("Costly repair on an older car")
        NEW_MODELS = "new_models", _("Customer asked about new models")
        INSPECTION_DUE = "inspection_due", _("Shaken / inspection due soon")
        WEAR_PARTS = "wear_parts", _("Tyres or battery near the end of life")
        OTHER = "other", _("Other")

    class State(models.TextChoices):
        NEW = "new", pgettext_lazy("sales lead", "New")
        CONTACTED = "contacted", pgettext_lazy("sales lead", "Contacted")
        CONVERTED = "converted", pgettext_lazy("sales lead", "Converted")
        DISMISSED = "dismissed", pgettext_lazy("sales lead", "Dismissed")

    job = models.ForeignKey(RepairJob, on_delete=models.CASCADE, related_name="leads", verbose_name=_("job"))
    # Denormalised from the job: the Leads page filters a branch without a join.
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+", verbose_name=_("branch"))
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="leads", verbose_name=_("customer"))
    flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("flagged by")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sales_leads",
        verbose_name=_("sales owner"),
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=State.choices, default=State.NEW)
    outcome_note = models.CharField(_("outcome"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("flagged at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("sales lead")
        verbose_name_plural = _("sales leads")
        indexes = [
            models.Index(fields=["branch", "status", "-created_at"], name="lead_branch_idx"),
            models.Index(fields=["owner", "status"], name="lead_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}: {self.get_reason_display()}"

    def get_absolute_url(self) -> str:
        return f"{reverse('repairs:leads')}#lead-{self.pk}"

    @property
    def status_colour(self) -> str:
        return LEAD_COLOURS[self.status]


LEAD_COLOURS: dict[str, str] = {
    SalesLead.State.NEW: "primary",
    SalesLead.State.CONTACTED: "info",
    SalesLead.State.CONVERTED: "success",
    SalesLead.State.DISMISSED: "secondary",
}


def new_link_id() -> str:
    return secrets.token_urlsafe(16)


class CustomerStatusLink(models.Model):
    """A signed, expiring, revocable page the customer opens without logging in.

    The URL carries `<job id>.<public id>:<signature>`; the public id is
    random (not guessable from the job) and the signature makes any edited
    token fail before the database is asked.
    """

    job = models.ForeignKey(RepairJob, on_delete=models.CASCADE, related_name="status_links", verbose_name=_("job"))
    public_id = models.CharField(_("public id"), max_length=32, unique=True, default=new_link_id, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Null while the car is not delivered: the link lives until
    # STATUS_LINK_DAYS_AFTER_DELIVERY days after delivery (see `expires`).
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("customer status link")
        verbose_name_plural = _("customer status links")

    def __str__(self) -> str:
        return f"{self.job_id}: {self.public_id[:6]}…"

    def get_absolute_url(self) -> str:
        return f"{reverse('repairs:job_detail', args=[self.job_id])}#status-link"

    @property
    def token(self) -> str:
        return Signer(salt=STATUS_LINK_SALT).sign(f"{self.job_id}.{self.public_id}")

    @property
    def public_url(self) -> str:
        return reverse("repairs:status_page", args=[self.token])

    def expiry(self, job: RepairJob | None = None) -> datetime | None:
        """When the link stops working: its own date, or N days after delivery."""
        job = job or self.job
        after_delivery = (
            job.delivered_at + timedelta(days=settings.STATUS_LINK_DAYS_AFTER_DELIVERY) if job.delivered_at else None
        )
        candidates = [moment for moment in (self.expires_at, after_delivery) if moment is not None]
        return min(candidates) if candidates else None

    def is_live(self, job: RepairJob | None = None, *, now: datetime | None = None) -> bool:
        expiry = self.expiry(job)
        return self.revoked_at is None and (expiry is None or expiry > (now or timezone.now()))


STATUS_LINK_SALT = "repairs.customer-status-link"
