"""Customer voice: post-delivery surveys, their answers, and the voice items
(requests, complaints, praise, questions) sales and service resolve together.

Choices sit on the models with their colours and allowed moves beside them as
data; every write goes through `feedback.services`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from dealership.dates import validate_in_range
from dealership.i18n import gettext_lazy as _
from dealership.models import Branch, Language, OutboxMessage
from repairs.models import RepairJob


class SkipReason(models.TextChoices):
    NO_EMAIL = "no_email", _("customer has no e-mail address")
    OPTED_OUT = "opted_out", _("customer asked for no more surveys")


class SurveyInvitation(OutboxMessage):
    """One survey per delivered job, and the state of its e-mail (an outbox row).

    The link carries `token` signed with its own salt: the random token makes it
    unguessable, the signature lets a forged link be refused without a query.
    Customers who cannot be asked (no e-mail, opted out) still get a row,
    marked skipped with the reason: the job is handled exactly once and the
    response-rate figures can count them.
    """

    delivery_task = "feedback.tasks.deliver_survey_invitation"

    job = models.OneToOneField(
        RepairJob, on_delete=models.CASCADE, related_name="survey_invitation", verbose_name=_("job")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="survey_invitations", verbose_name=_("customer")
    )
    token = models.CharField(max_length=64, unique=True, editable=False)
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, default=Language.JA)
    expires_at = models.DateTimeField(_("expires at"))
    skip_reason = models.CharField(_("why not sent"), max_length=20, choices=SkipReason.choices, blank=True)
    opened_at = models.DateTimeField(_("first opened at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        indexes = [
            models.Index(fields=["send_status", "created_at"], name="survey_outbox_idx"),
            # The KPI figures count invitations over a period (goals.metrics).
            models.Index(fields=["created_at"], name="survey_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.job.number if self.job_id else '—'} → {self.customer_id}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None


class SurveyResponse(models.Model):
    """The customer's one answer to one invitation (the unique constraint is the guard)."""

    invitation = models.ForeignKey(
        SurveyInvitation, on_delete=models.CASCADE, related_name="responses", verbose_name=_("invitation")
    )
    # Copied from the invitation: the results page filters and groups by the
    # job's fields, and the customer's page lists answers per customer.
    job = models.ForeignKey(RepairJob, on_delete=models.CASCADE, related_name="survey_responses", verbose_name=_("job"))
    overall = models.PositiveSmallIntegerField(
        _("overall satisfaction"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    explanation = models.PositiveSmallIntegerField(
        _("explanation by staff"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    quality = models.PositiveSmallIntegerField(
        _("quality of work"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    timeliness = models.PositiveSmallIntegerField(
        _("timeliness"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    nps = models.PositiveSmallIntegerField(
        _("likelihood to recommend (0–10)"), validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    may_contact = models.BooleanField(_("may we contact you"), default=False)
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, default=Language.JA)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        constraints = [
            models.UniqueConstraint(fields=["invitation"], name="one_response_per_invitation"),
            models.CheckConstraint(condition=models.Q(overall__gte=1, overall__lte=5), name="survey_overall_1_5"),
            models.CheckConstraint(condition=models.Q(nps__gte=0, nps__lte=10), name="survey_nps_0_10"),
        ]
        indexes = [models.Index(fields=["submitted_at"], name="survey_response_time_idx")]

    def __str__(self) -> str:
        return f"{self.job_id}: {self.overall}/5, NPS {self.nps}"

    @property
    def is_low(self) -> bool:
        return is_low_score(self.overall, self.nps)

    @property
    def nps_group(self) -> str:
        if self.nps >= PROMOTER_MIN:
            return "promoter"
        return "passive" if self.nps >= PASSIVE_MIN else "detractor"


# NPS groups (the standard definition): 9–10 promoters, 7–8 passives, 0–6 detractors.
PROMOTER_MIN = 9
PASSIVE_MIN = 7
# A low answer opens a recovery item: overall ≤ 2 or a detractor's NPS.
LOW_OVERALL_MAX = 2
LOW_NPS_MAX = 6


def is_low_score(overall: int, nps: int) -> bool:
    return overall <= LOW_OVERALL_MAX or nps <= LOW_NPS_MAX


class SurveyOptOut(models.Model):
    """A customer who used "no more surveys": never invited again."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, related_name="survey_opt_out", verbose_name=_("customer")
    )
    invitation = models.ForeignKey(
        SurveyInvitation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("link used"),
    )
    created_at = models.DateTimeField(_("opted out at"), default=timezone.now)

    class Meta:
        verbose_name = _("survey opt-out")
        verbose_name_plural = _("survey opt-outs")

    def __str__(self) -> str:
        return str(self.customer_id)


class VoiceSource(models.TextChoices):
    SURVEY = "survey", _("Survey")
    SALES_CONVERSATION = "sales_conversation", _("Sales conversation")
    PHONE = "phone", _("Phone")
    WORKSHOP = "workshop", _("Workshop")


class VoiceCategory(models.TextChoices):
    REQUEST = "request", _("Request")
    COMPLAINT = "complaint", _("Complaint")
    PRAISE = "praise", _("Praise")
    QUESTION = "question", _("Question")


class VoiceStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# The one table of allowed moves; `change_voice_status` refuses anything else.
# Resolving goes through `resolve_voice` (it needs the resolution text).
VOICE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    VoiceStatus.OPEN: (VoiceStatus.IN_PROGRESS, VoiceStatus.RESOLVED),
    VoiceStatus.IN_PROGRESS: (VoiceStatus.RESOLVED, VoiceStatus.OPEN),
    VoiceStatus.RESOLVED: (VoiceStatus.CLOSED, VoiceStatus.IN_PROGRESS),
    VoiceStatus.CLOSED: (),
}
VOICE_STATUS_COLOURS: dict[str, str] = {
    VoiceStatus.OPEN: "danger",
    VoiceStatus.IN_PROGRESS: "primary",
    VoiceStatus.RESOLVED: "success",
    VoiceStatus.CLOSED: "secondary",
}
CATEGORY_COLOURS: dict[str, str] = {
    VoiceCategory.REQUEST: "info",
    VoiceCategory.COMPLAINT: "danger",
    VoiceCategory.PRAISE: "success",
    VoiceCategory.QUESTION: "secondary",
}
# Still someone's to act on (home panel, overdue view).
ACTIVE_VOICE_STATUSES = frozenset({VoiceStatus.OPEN, VoiceStatus.IN_PROGRESS})


class CustomerVoice(models.Model):
    """What a customer said, owned by someone until it is closed (顧客の声).

    Recovery items (opened by a low survey answer) belong to the sales owner
    with the service advisor as co-assignee: the two departments answer the
    customer together.
    """

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+", verbose_name=_("branch"))
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="voice_items", verbose_name=_("customer")
    )
    job = models.ForeignKey(
        RepairJob, on_delete=models.SET_NULL, null=True, blank=True, related_name="voice_items", verbose_name=_("job")
    )
    survey_response = models.ForeignKey(
        SurveyResponse,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="voice_items",
        verbose_name=_("survey answer"),
    )
    source = models.CharField(_("source"), max_length=20, choices=VoiceSource.choices)
    category = models.CharField(_("category"), max_length=20, choices=VoiceCategory.choices)
    is_recovery = models.BooleanField(_("recovery after a low survey answer"), default=False)
    title = models.CharField(_("summary"), max_length=200)
    description = models.TextField(_("what the customer said"), blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("raised by"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="voice_items",
        verbose_name=_("owner"),
    )
    co_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="co_voice_items",
        verbose_name=_("with"),
    )
    status = models.CharField(_("status"), max_length=20, choices=VoiceStatus.choices, default=VoiceStatus.OPEN)
    due_date = models.DateField(_("due date"), null=True, blank=True, validators=[validate_in_range])
    resolution = models.TextField(_("resolution"), blank=True)
    customer_followed_up = models.BooleanField(_("customer followed up"), default=False)
    followed_up_at = models.DateTimeField(_("followed up at"), null=True, blank=True)
    followed_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("followed up by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("customer voice item")
        verbose_name_plural = _("customer voice items")
        indexes = [
            models.Index(fields=["branch", "status", "due_date"], name="voice_branch_status_idx"),
            models.Index(fields=["assignee", "status"], name="voice_assignee_idx"),
            models.Index(fields=["co_assignee", "status"], name="voice_co_assignee_idx"),
            models.Index(fields=["customer", "-created_at"], name="voice_customer_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("feedback:voice_detail", args=[self.pk])

    @property
    def allowed_next_statuses(self) -> tuple[str, ...]:
        return VOICE_TRANSITIONS[self.status]

    @property
    def status_colour(self) -> str:
        return VOICE_STATUS_COLOURS[self.status]

    @property
    def category_colour(self) -> str:
        return CATEGORY_COLOURS[self.category]

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_VOICE_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_active and self.due_date is not None and self.due_date < timezone.localdate()

    @property
    def needs_follow_up(self) -> bool:
        """Complaints and recovery items close only once sales confirmed they called the customer back."""
        return self.is_recovery or self.category == VoiceCategory.COMPLAINT


class VoiceEvent(models.Model):
    """One row of a voice item's history: who did what, when, and why."""

    class Kind(models.TextChoices):
        RECORDED = "recorded", _("Recorded")
        STATUS = "status", _("Status changed")
        ASSIGNED = "assigned", _("Owner changed")
        RESOLVED = "resolved", _("Resolved")
        FOLLOWED_UP = "followed_up", _("Customer followed up")
        EDITED = "edited", _("Edited")

    voice = models.ForeignKey(CustomerVoice, on_delete=models.CASCADE, related_name="events", verbose_name=_("item"))
    kind = models.CharField(_("what"), max_length=20, choices=Kind.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    from_status = models.CharField(_("from"), max_length=20, choices=VoiceStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=VoiceStatus.choices, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("voice item history")
        verbose_name_plural = _("voice item history")
        indexes = [models.Index(fields=["voice", "-at"], name="voiceevent_voice_idx")]

    def __str__(self) -> str:
        return f"{self.voice_id}: {self.kind}"
