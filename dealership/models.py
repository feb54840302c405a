"""Core models shared by every app: branches, notifications and the outbox (customers live in customers/).

This module imports no app of the project (DESIGN.md: the core is at the root
of the import graph); the user model is referenced by settings only.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    JA = "ja", _("Japanese")
    EN = "en", _("English")


class Branch(models.Model):
    """A showroom with its own workshop (店舗)."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("branch")
        verbose_name_plural = _("branches")

    def __str__(self) -> str:
        return self.name


class OutboxMessage(models.Model):
    """A message that leaves the portal, and the state of its sending (a transactional outbox row).

    Staff e-mails (`Notification`) and survey e-mails
    (`feedback.SurveyInvitation`) are outbox rows; the customer's messages
    (e-mail or LINE) are the next. The row is written in the same transaction
    as the change that caused it, so a message exists exactly when the change
    does. `dealership.outbox` does the rest, the same way for every kind: after
    commit a Celery task claims the row with a conditional UPDATE (pending →
    sending), sends, marks it sent, backs off on a transient error and ends
    `failed` after its last attempt; the sweeper re-enqueues rows the broker
    never got and frees rows a dead worker left in `sending`. A broker outage
    or a dead worker delays a message but never loses it.
    """

    class SendStatus(models.TextChoices):
        SKIPPED = "skipped", _("not sent")
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    # The Celery task that sends one row of the model, as a dotted path
    # ("app.tasks.deliver_x"): `dealership.outbox.enqueue` imports it by name,
    # so a service that writes rows never imports the tasks module that calls
    # it back (the tasks are thin adapters around the services).
    delivery_task: ClassVar[str]

    # The sweeper counts its grace period from the row's creation.
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    send_status = models.CharField(
        _("send status"), max_length=10, choices=SendStatus.choices, default=SendStatus.PENDING
    )
    # Counted at the claim, not by Celery: a send that kills its worker every
    # time, or a chain the sweeper restarts, still runs out of attempts.
    attempts = models.PositiveSmallIntegerField(_("send attempts"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    # While a failed send waits out its backoff the sweeper leaves it alone.
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_error = models.TextField(_("last send error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        abstract = True


class Notification(OutboxMessage):
    """One thing one person should know, and the state of its e-mail (an outbox row).

    The row *is* the in-app delivery. `notify()` writes it in the same
    transaction as the change that caused it; the e-mail, when the recipient
    wants one, leaves through `dealership.outbox`.
    """

    delivery_task = "dealership.tasks.deliver_notification"

    class Kind(models.TextChoices):
        STATUS_CHANGED = "status_changed", _("Status of my customer's job changed")
        JOB_CREATED = "job_created", _("New job or internal request for the workshop")
        JOB_ASSIGNED = "job_assigned", _("Job assigned to me")
        JOB_CLAIMED = "job_claimed", _("A technician took my customer's job")
        PROMISE_CHANGED = "promise_changed", _("Promised time of my customer's job changed")
        APPROVAL_REQUESTED = "approval_requested", _("Customer approval requested")
        APPROVAL_DECIDED = "approval_decided", _("Customer approval decided")
        MESSAGE = "message", _("New message on my job")
        MENTION = "mention", _("I was mentioned")
        CUSTOMER_REQUEST = "customer_request", _("Customer request on my job")
        APPROVAL_REMINDER = "approval_reminder", _("Customer approval still undecided")
        SALES_LEAD = "sales_lead", _("Sales lead for me")
        LEAD_UPDATED = "lead_updated", _("What became of my sales lead")
        JOB_OVERDUE = "job_overdue", _("Job overdue or about to miss its promise")
        SURVEY_LOW_SCORE = "survey_low_score", _("A customer answered the survey with a low score")
        VOICE_ASSIGNED = "voice_assigned", _("Customer voice item assigned to me")
        VOICE_UPDATED = "voice_updated", _("Customer voice item I am on changed")
        EVENT_INVITED = "event_invited", _("Invited to a team event")
        EVENT_CHANGED = "event_changed", _("A team event I am invited to changed or was cancelled")
        EVENT_REMINDER = "event_reminder", _("Team event tomorrow")
        ACTION_ITEM = "action_item", _("Action item assigned to me")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    # The text as a translatable template and its arguments (see
    # dealership.notifications.portable): rendered in the reader's language.
    template = models.JSONField(_("text template"), default=str)
    args = models.JSONField(_("text arguments"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # In-app first: `notify()` makes the row pending only for a recipient who
    # wants this kind by e-mail, so a row written elsewhere sends nothing.
    send_status = models.CharField(
        _("send status"),
        max_length=10,
        choices=OutboxMessage.SendStatus.choices,
        default=OutboxMessage.SendStatus.SKIPPED,
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            models.Index(fields=["recipient", "-created_at"]),
            models.Index(fields=["send_status", "created_at"], name="notification_outbox_idx"),
        ]

    def __str__(self) -> str:
        return self.text

    def get_absolute_url(self) -> str:
        return reverse("notification_open", args=[self.pk])

    @property
    def text(self) -> str:
        """The text in the active language (the reader's, or the e-mail recipient's)."""
        template = render_portable(self.template)
        try:
            return template.format(**{name: render_portable(value) for name, value in self.args.items()})
        except (KeyError, IndexError, ValueError):
            return template

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


def render_portable(value) -> str:
    """Text of a value stored by `dealership.notifications.portable`, in the active language."""
    if isinstance(value, dict) and "t" in value:
        parts = value["t"]
        return pgettext(parts[0], parts[1]) if len(parts) == 2 else gettext(parts[0])
    return "" if value is None else str(value)
