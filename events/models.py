"""Team life: events (briefings, job shadowing, study sessions, meetings, socials),
who comes to them, and the action items they produce.

The models moved here from goals/ (issue 18) and keep their tables
(`Meta.db_table = "goals_…"`): an existing database kept every row without a
copy. The goals' participation figure reads them through
`events.selectors.cross_department_participation`.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from accounts.models import Department
from dealership.dates import EARLIEST_STORED, LATEST_STORED, validate_in_range
from dealership.i18n import gettext_lazy as _
from dealership.models import Branch


class EventKind(models.TextChoices):
    BRIEFING = "briefing", _("Work briefing")
    SHADOWING = "shadowing", _("Job shadowing")
    STUDY = "study", _("Study session")
    MEETING = "meeting", _("Regular meeting")
    SOCIAL = "social", _("Team social")


# Bootstrap colour of each kind's badge (text-bg-<colour>).
KIND_COLOURS: dict[str, str] = {
    EventKind.BRIEFING: "primary",
    EventKind.SHADOWING: "success",
    EventKind.STUDY: "info",
    EventKind.MEETING: "secondary",
    EventKind.SOCIAL: "warning",
}
KIND_ICONS: dict[str, str] = {
    EventKind.BRIEFING: "easel",
    EventKind.SHADOWING: "person-arms-up",
    EventKind.STUDY: "book",
    EventKind.MEETING: "people",
    EventKind.SOCIAL: "cup-hot",
}
# The kinds where the two departments learn each other's work: they count
# for the cross-department participation figure (events.selectors).
CROSS_DEPARTMENT_KINDS = frozenset({EventKind.SHADOWING, EventKind.STUDY})


class TeamEvent(models.Model):
    """One event of a branch's team life, planned by a manager or an organiser."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="team_events", verbose_name=_("branch"))
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices, default=EventKind.MEETING)
    title = models.CharField(_("title"), max_length=200)
    agenda = models.TextField(_("agenda"), blank=True)
    starts_at = models.DateTimeField(_("starts at"), validators=[validate_in_range])
    ends_at = models.DateTimeField(_("ends at"), validators=[validate_in_range])
    place = models.CharField(_("place"), max_length=200, blank=True)
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="organised_events",
        verbose_name=_("organizer"),
    )
    # Department values (accounts.Department); their active staff of the
    # branch are invited. A list rather than a table: it is only ever read
    # whole, with the event.
    invited_departments = models.JSONField(_("invited departments"), default=list, blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    # Stable identity in calendars (RFC 5545 UID) and its revision (SEQUENCE):
    # a calendar app replaces its copy when a newer sequence arrives.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        ordering = ["starts_at", "id"]
        db_table = "goals_teamevent"
        verbose_name = _("team event")
        verbose_name_plural = _("team events")
        indexes = [models.Index(fields=["branch", "starts_at"], name="teamevent_branch_start_idx")]
        # The forms keep times in the portal's date range (dealership/dates.py);
        # the database refuses the rest, whatever the write path: a start in
        # year 1 was stored as 1 BC, which no screen could read back.
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    starts_at__gte=EARLIEST_STORED,
                    starts_at__lt=LATEST_STORED,
                    ends_at__gte=EARLIEST_STORED,
                    ends_at__lt=LATEST_STORED,
                ),
                name="teamevent_times_in_range",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("events:event_detail", args=[self.pk])

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def has_ended(self) -> bool:
        return self.ends_at <= timezone.now()

    @property
    def has_started(self) -> bool:
        return self.starts_at <= timezone.now()

    @property
    def kind_colour(self) -> str:
        return KIND_COLOURS[self.kind]

    @property
    def kind_icon(self) -> str:
        return KIND_ICONS[self.kind]

    @property
    def is_shadowing(self) -> bool:
        return self.kind == EventKind.SHADOWING

    def invited_department_labels(self) -> list[str]:
        return [Department(value).label for value in self.invited_departments if value in Department.values]


class RSVP(models.TextChoices):
    NONE = "none", _("No answer yet")
    YES = "yes", _("Going")
    MAYBE = "maybe", _("Maybe")
    NO = "no", _("Not going")


RSVP_COLOURS: dict[str, str] = {RSVP.NONE: "light", RSVP.YES: "success", RSVP.MAYBE: "warning", RSVP.NO: "secondary"}


class EventParticipant(models.Model):
    """One person at one event: invited or not, their answer, whether they came.

    For job shadowing, `host` is the colleague of the other department whose
    work the participant watches (a technician at the sales desk, a sales rep
    in the workshop).
    """

    event = models.ForeignKey(TeamEvent, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_participations", verbose_name=_("who")
    )
    # Invited by name (not only through a department): kept when the invited
    # departments change.
    personally_invited = models.BooleanField(_("invited by name"), default=False)
    invited = models.BooleanField(_("invited"), default=True)
    rsvp = models.CharField(_("answer"), max_length=10, choices=RSVP.choices, default=RSVP.NONE)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    attended = models.BooleanField(_("attended"), default=False)
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hosted_participations",
        verbose_name=_("shadowing host"),
    )
    # The start time the day-before reminder was sent for: once per event and
    # person, and again if the event moves (events.services.send_event_reminders).
    reminded_for = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["user__display_name", "id"]
        db_table = "goals_eventparticipant"
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="one_participation_per_event_and_user")]
        indexes = [models.Index(fields=["user", "event"], name="participant_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.event_id}: {self.rsvp}"

    @property
    def rsvp_colour(self) -> str:
        return RSVP_COLOURS[self.rsvp]


def material_path(instance: EventMaterial, filename: str) -> str:
    return f"events/{instance.event_id}/{uuid.uuid4().hex}{Path(filename).suffix.lower()}"


class EventMaterial(models.Model):
    """A file handed out for an event (slides, checklist), served only to its branch."""

    event = models.ForeignKey(TeamEvent, on_delete=models.CASCADE, related_name="materials")
    file = models.FileField(_("file"), upload_to=material_path)
    original_name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]
        db_table = "goals_eventmaterial"
        verbose_name = _("material")
        verbose_name_plural = _("materials")

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("events:material_file", args=[self.event_id, self.pk])


class ActionItem(models.Model):
    """Something an event decided somebody does by a date; on their home page until done."""

    event = models.ForeignKey(TeamEvent, on_delete=models.CASCADE, related_name="action_items")
    text = models.CharField(_("what"), max_length=500)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="action_items", verbose_name=_("who")
    )
    due_date = models.DateField(_("due date"), null=True, blank=True, validators=[validate_in_range])
    # The customer voice item (feedback.CustomerVoice) this follows up. A plain
    # id for now: the feedback app was built in parallel and events must not
    # depend on its migrations yet; it becomes a ForeignKey once both landed.
    voice_item_id = models.PositiveBigIntegerField(_("customer voice item no."), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["done_at", "due_date", "id"]
        db_table = "goals_actionitem"
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        indexes = [models.Index(fields=["assignee", "done_at"], name="actionitem_assignee_idx")]

    def __str__(self) -> str:
        return self.text

    def get_absolute_url(self) -> str:
        return f"{self.event.get_absolute_url()}#action-item-{self.pk}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_date is not None and self.due_date < timezone.localdate()


class Organiser(models.Model):
    """A staff member a manager allowed to plan events (managers always may)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_organiser", verbose_name=_("who")
    )
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    granted_at = models.DateTimeField(_("allowed since"), default=timezone.now)

    class Meta:
        db_table = "goals_organiser"
        verbose_name = _("event organiser")
        verbose_name_plural = _("event organisers")

    def __str__(self) -> str:
        return str(self.user)


class CalendarFeed(models.Model):
    """The secret behind one person's calendar subscription URL.

    The URL carries an HMAC of `salt` (keyed with SECRET_KEY), not the salt
    itself, so neither a database copy nor the key alone yields a working URL.
    Resetting draws a new salt: the old URL stops working at once.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    salt = models.CharField(max_length=64)
    reset_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "goals_calendarfeed"
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.user} ({self.reset_at:%Y-%m-%d})"
