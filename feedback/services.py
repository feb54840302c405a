"""Writes of customer voice. Each is one atomic door: validate, save changed
fields, write history (VoiceEvent, and the job's timeline through
`repairs.services.record_event`) and call `notify()` inside the transaction.

The survey invitation is an outbox row like the staff notifications: the
row is written first and its e-mail leaves through `dealership.outbox`
(claim, send, backoff, sweep); this module only says how a survey e-mail is
written and what its sending puts on the job's timeline.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from customers.models import Customer
from dealership import outbox
from dealership.emails import send_templated_email
from dealership.i18n import gettext_lazy as _
from dealership.models import Notification
from dealership.updates import save_changed
from repairs.models import JobEvent, RepairJob, Status
from repairs.services import advisors_for, record_event

from . import permissions
from .models import (
    CustomerVoice,
    SkipReason,
    SurveyInvitation,
    SurveyOptOut,
    SurveyResponse,
    VoiceCategory,
    VoiceEvent,
    VoiceSource,
    VoiceStatus,
    is_low_score,
)

# The survey link's own salt: a token signed for anything else (a status link,
# a password reset) is refused here, and the other way round.
SURVEY_SALT = "feedback.survey-invitation"
# Recovery items are due within two days: the customer was unhappy.
RECOVERY_DUE_DAYS = 2


class VoiceError(Exception):
    """A refused write; `str(error)` is the message for the user."""


class SurveyLinkError(Exception):
    """A survey link that cannot be used; `status` is the HTTP status of the page."""

    status = 400
    reason = "invalid"


class BadSurveyLink(SurveyLinkError):
    status = 400
    reason = "invalid"


class UnknownSurveyLink(SurveyLinkError):
    status = 404
    reason = "unknown"


class ExpiredSurveyLink(SurveyLinkError):
    status = 410
    reason = "expired"

    def __init__(self, invitation: SurveyInvitation) -> None:
        super().__init__("expired")
        self.invitation = invitation


class AlreadyAnswered(Exception):
    def __init__(self, invitation: SurveyInvitation) -> None:
        super().__init__("already answered")
        self.invitation = invitation


# --- Invitations --------------------------------------------------------------------------------------------


def survey_signer() -> signing.Signer:
    return signing.Signer(salt=SURVEY_SALT)


def survey_path(invitation: SurveyInvitation) -> str:
    return reverse("feedback:survey", args=[survey_signer().sign(invitation.token)])


def opt_out_path(invitation: SurveyInvitation) -> str:
    return reverse("feedback:survey_opt_out", args=[survey_signer().sign(invitation.token)])


def invitation_from_link(signed: str) -> SurveyInvitation:
    """The invitation a link names, or a SurveyLinkError saying why not.

    A forged or foreign signature is refused before any query; a valid
    signature whose row is gone is unknown; a link past its date has expired.
    """
    try:
        token = survey_signer().unsign(signed)
    except signing.BadSignature:
        raise BadSurveyLink("bad signature") from None
    invitation = (
        SurveyInvitation.objects.select_related("job", "job__vehicle", "job__branch", "customer")
        .filter(token=token)
        .first()
    )
    if invitation is None:
        raise UnknownSurveyLink("unknown")
    if invitation.is_expired and not invitation.is_answered:
        raise ExpiredSurveyLink(invitation)
    return invitation


def jobs_due_for_survey(*, now: datetime | None = None):
    """Delivered jobs whose delay has passed and that have no invitation yet.

    Jobs delivered longer ago than a survey stays valid are left alone: a
    portal switched on today does not survey last year's customers.
    """
    now = now or timezone.now()
    return RepairJob.objects.filter(
        status=Status.DELIVERED,
        delivered_at__lte=now - timedelta(hours=settings.SURVEY_DELAY_HOURS),
        delivered_at__gt=now - timedelta(days=settings.SURVEY_VALID_DAYS),
        survey_invitation__isnull=True,
    ).select_related("customer")


def invite_delivered_jobs(*, now: datetime | None = None) -> dict[str, int]:
    """The beat task's body: one invitation per due job, exactly once.

    The one-to-one on the job is the guard: of two runs at the same time, the
    second one's insert waits for the first and then finds the row, so each
    job is handled (and mailed) once. Customers without e-mail or who opted
    out get a skipped row, counted in the result.
    """
    counts = {"invited": 0, "no_email": 0, "opted_out": 0}
    for job in jobs_due_for_survey(now=now).order_by("delivered_at")[:500]:
        invitation, created = create_invitation(job)
        if not created:
            continue
        if invitation.skip_reason == SkipReason.NO_EMAIL:
            counts["no_email"] += 1
        elif invitation.skip_reason == SkipReason.OPTED_OUT:
            counts["opted_out"] += 1
        else:
            counts["invited"] += 1
    return counts


def create_invitation(
    job: RepairJob, *, at: datetime | None = None, deliver: bool = True
) -> tuple[SurveyInvitation, bool]:
    """The job's invitation, created once; (invitation, created).

    `deliver=False` leaves the e-mail to the caller (the demo marks its
    history as sent without mailing anyone).
    """
    now = at or timezone.now()
    customer = job.customer
    skip = ""
    if not customer.email:
        skip = SkipReason.NO_EMAIL
    elif SurveyOptOut.objects.filter(customer_id=customer.pk).exists():
        skip = SkipReason.OPTED_OUT
    try:
        with transaction.atomic():
            invitation = SurveyInvitation.objects.create(
                job=job,
                customer=customer,
                token=secrets.token_urlsafe(24),
                language=customer.language,
                created_at=now,
                expires_at=now + timedelta(days=settings.SURVEY_VALID_DAYS),
                send_status=SurveyInvitation.SendStatus.SKIPPED if skip else SurveyInvitation.SendStatus.PENDING,
                skip_reason=skip,
            )
    except IntegrityError:
        # Another run invited this job a moment ago: theirs is the one.
        return SurveyInvitation.objects.get(job=job), False
    if not skip and deliver:
        outbox.enqueue_on_commit(SurveyInvitation, [invitation.pk])
    return invitation, True


def send_survey_email(invitation_id: int) -> str:
    """Send one survey e-mail through the outbox (`dealership.outbox.deliver`), in the customer's language.

    Returns "not-pending", "sent" or "failed"; raises `outbox.RetryLater`
    when attempts remain after a transient failure. Being sent puts "survey
    sent" on the job's timeline.
    """
    return outbox.deliver(
        SurveyInvitation,
        invitation_id,
        _send,
        related=["job", "job__vehicle", "job__branch", "customer"],
        on_sent=_put_sent_on_timeline,
    )


def _send(invitation: SurveyInvitation) -> None:
    survey_url = f"{settings.SITE_URL}{survey_path(invitation)}"
    stop_url = f"{settings.SITE_URL}{opt_out_path(invitation)}"
    send_templated_email(
        to=invitation.customer.email,
        templates=["survey_invitation"],
        context={
            "invitation": invitation,
            "customer": invitation.customer,
            "job": invitation.job,
            "branch": invitation.job.branch,
            "survey_url": survey_url,
            "opt_out_url": stop_url,
            "expires_at": invitation.expires_at,
        },
        language=invitation.language,
        headers={
            "Content-Language": invitation.language,
            # One-click unsubscribe (RFC 8058): mail clients POST to the link.
            "List-Unsubscribe": f"<{stop_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Portal-Survey": str(invitation.pk),
        },
    )


def record_survey_sent(invitation: SurveyInvitation, *, at: datetime | None = None) -> None:
    """Mark the e-mail sent and put "survey sent" on the delivered job's timeline, once (the demo's history)."""
    outbox.mark_sent(invitation, at=at, on_sent=_put_sent_on_timeline)


def _put_sent_on_timeline(invitation: SurveyInvitation) -> None:
    record_event(invitation.job, kind=JobEvent.Kind.SURVEY_SENT, by=None, at=invitation.sent_at)


# --- Answers ------------------------------------------------------------------------------------------------


def mark_opened(invitation: SurveyInvitation) -> None:
    """Remember the first time the link was opened. Opening never uses the link up."""
    if invitation.opened_at is None:
        now = timezone.now()
        SurveyInvitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(opened_at=now)
        invitation.opened_at = now


@dataclass(frozen=True)
class Answers:
    overall: int
    nps: int
    explanation: int | None = None
    quality: int | None = None
    timeliness: int | None = None
    comment: str = ""
    may_contact: bool = False


def submit_survey(
    invitation: SurveyInvitation, *, answers: Answers, language: str = "", at: datetime | None = None
) -> SurveyResponse:
    """Store the customer's answer; the first valid one wins.

    Two submissions at the same moment both pass the "not answered yet" look;
    the unique constraint lets one insert succeed and the other raises
    AlreadyAnswered. A low answer opens a recovery item for the sales owner
    with the service advisor, in the same transaction.
    """
    if invitation.is_answered:
        raise AlreadyAnswered(invitation)
    scores = (answers.explanation, answers.quality, answers.timeliness)
    if (
        not 1 <= answers.overall <= 5
        or not 0 <= answers.nps <= 10
        or any(s is not None and not 1 <= s <= 5 for s in scores)
    ):
        raise ValueError("survey answers out of range")
    now = at or timezone.now()
    job = invitation.job
    try:
        with transaction.atomic():
            response = SurveyResponse.objects.create(
                invitation=invitation,
                job=job,
                overall=answers.overall,
                explanation=answers.explanation,
                quality=answers.quality,
                timeliness=answers.timeliness,
                nps=answers.nps,
                comment=answers.comment.strip()[:2000],
                may_contact=answers.may_contact,
                language=language or invitation.language,
                submitted_at=now,
            )
            SurveyInvitation.objects.filter(pk=invitation.pk).update(answered_at=now)
            invitation.answered_at = now
            record_event(
                job, kind=JobEvent.Kind.SURVEY_ANSWERED, by=None, at=now, overall=answers.overall, nps=answers.nps
            )
            if is_low_score(answers.overall, answers.nps):
                open_recovery(response, at=now)
    except IntegrityError:
        invitation.answered_at = invitation.answered_at or now
        raise AlreadyAnswered(invitation) from None
    return response


def open_recovery(response: SurveyResponse, *, at: datetime | None = None) -> CustomerVoice:
    """A low answer becomes a complaint owned by the sales owner with the service advisor; both are alerted."""
    job = response.job
    now = at or timezone.now()
    owner = job.sales_owner or job.customer.sales_owner
    advisors = advisors_for(job)
    advisor = job.service_advisor or (advisors[0] if advisors else None)
    if owner is None:
        owner, advisor = advisor, None
    # Stored text, read by staff: written in the staff's default language.
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Low survey answer: overall {overall}/5, recommend {nps}/10").format(
            overall=response.overall, nps=response.nps
        )
    voice = _create_voice(
        by=None,
        customer=job.customer,
        job=job,
        source=VoiceSource.SURVEY,
        category=VoiceCategory.COMPLAINT,
        title=str(title)[:200],
        description=response.comment,
        assignee=owner,
        co_assignee=advisor,
        due_date=timezone.localtime(now).date() + timedelta(days=RECOVERY_DUE_DAYS),
        survey_response=response,
        is_recovery=True,
        at=now,
    )
    notify_voice(
        voice,
        [owner, advisor],
        Notification.Kind.SURVEY_LOW_SCORE,
        actor=None,
        text=_(
            "{customer} answered the survey for {number} with a low score (overall {overall}/5, recommend {nps}/10)"
        ),
        args={"customer": job.customer.name, "number": job.number, "overall": response.overall, "nps": response.nps},
    )
    return voice


def opt_out(invitation: SurveyInvitation) -> SurveyOptOut:
    """ "No more surveys": idempotent, and pending invitations of the customer are not sent."""
    with transaction.atomic():
        row, _created = SurveyOptOut.objects.get_or_create(
            customer_id=invitation.customer_id, defaults={"invitation": invitation}
        )
        SurveyInvitation.objects.filter(
            customer_id=invitation.customer_id, send_status=SurveyInvitation.SendStatus.PENDING
        ).update(send_status=SurveyInvitation.SendStatus.SKIPPED, skip_reason=SkipReason.OPTED_OUT)
    return row


# --- Voice items --------------------------------------------------------------------------------------------


def notify_voice(voice: CustomerVoice, people, kind: str, *, actor: User | None, text, args: dict) -> None:
    from dealership.notifications import notify

    notify([person for person in people if person is not None], kind, actor=actor, target=voice, text=text, args=args)


def _voice_on_timeline(voice: CustomerVoice, *, by: User | None, action, at: datetime, note: str = "") -> None:
    if voice.job_id:
        record_event(
            voice.job,
            kind=JobEvent.Kind.VOICE,
            by=by,
            at=at,
            note=note,
            title=voice.title,
            category=VoiceCategory(voice.category).label,
            action=action,
            voice_id=voice.pk,
        )


def _check_people(branch_id: int, *people: User | None) -> None:
    for person in people:
        if person is not None and (not person.is_active or person.branch_id != branch_id):
            raise VoiceError(_("Choose active staff of the customer's branch."))


def _create_voice(
    *,
    by: User | None,
    customer: Customer,
    source: str,
    category: str,
    title: str,
    description: str = "",
    job: RepairJob | None = None,
    assignee: User | None = None,
    co_assignee: User | None = None,
    due_date: date | None = None,
    survey_response: SurveyResponse | None = None,
    is_recovery: bool = False,
    at: datetime | None = None,
) -> CustomerVoice:
    now = at or timezone.now()
    voice = CustomerVoice.objects.create(
        branch_id=customer.branch_id,
        customer=customer,
        job=job,
        survey_response=survey_response,
        source=source,
        category=category,
        is_recovery=is_recovery,
        title=title,
        description=description,
        raised_by=by,
        assignee=assignee,
        co_assignee=co_assignee,
        due_date=due_date,
        created_at=now,
        updated_at=now,
    )
    VoiceEvent.objects.create(voice=voice, kind=VoiceEvent.Kind.RECORDED, by=by, at=now, to_status=voice.status)
    _voice_on_timeline(voice, by=by, action=_("recorded"), at=now)
    return voice


def record_voice(
    *,
    by: User,
    customer: Customer,
    source: str,
    category: str,
    title: str,
    description: str = "",
    job: RepairJob | None = None,
    assignee: User | None = None,
    co_assignee: User | None = None,
    due_date: date | None = None,
    at: datetime | None = None,
) -> CustomerVoice:
    """Record what a customer said; the owner (and the person with them) hear of it."""
    if not permissions.can_record_voice(by) or not permissions.can_see_customer(by, customer):
        raise PermissionDenied
    title = title.strip()
    if not title:
        raise VoiceError(_("Say in a line what the customer said."))
    if source not in VoiceSource.values or category not in VoiceCategory.values:
        raise VoiceError(_("Choose a source and a category."))
    if job is not None and job.customer_id != customer.pk:
        raise VoiceError(_("This job is not the customer's."))
    _check_people(customer.branch_id, assignee, co_assignee)
    with transaction.atomic():
        voice = _create_voice(
            by=by,
            customer=customer,
            job=job,
            source=source,
            category=category,
            title=title[:200],
            description=description.strip(),
            assignee=assignee,
            co_assignee=co_assignee,
            due_date=due_date,
            at=at,
        )
        notify_voice(
            voice,
            [assignee, co_assignee],
            Notification.Kind.VOICE_ASSIGNED,
            actor=by,
            text=_("{category} from {customer} for you: {title}"),
            args={"category": VoiceCategory(category).label, "customer": customer.name, "title": voice.title},
        )
    return voice


def _people_on(voice: CustomerVoice) -> list[User | None]:
    return [voice.raised_by, voice.assignee, voice.co_assignee]


def _touch(voice: CustomerVoice, fields: dict[str, Any], *, at: datetime) -> None:
    fields["updated_at"] = at
    CustomerVoice.objects.filter(pk=voice.pk).update(**fields)
    for name, value in fields.items():
        setattr(voice, name, value)


def change_voice_status(
    voice: CustomerVoice, *, to: str, by: User, note: str = "", at: datetime | None = None
) -> CustomerVoice:
    """Move an item along the VOICE_TRANSITIONS table; the people on it hear of it.

    The UPDATE is conditional on the status the caller saw, so two people
    moving the same item at once cannot both win.
    """
    if not permissions.can_act_on_voice(by, voice):
        raise PermissionDenied
    if to not in voice.allowed_next_statuses:
        raise VoiceError(
            _("An item cannot go from “{current}” to “{target}”.").format(
                current=voice.get_status_display(),
                target=VoiceStatus(to).label if to in VoiceStatus.values else to,
            )
        )
    if to == VoiceStatus.RESOLVED and not voice.resolution:
        raise VoiceError(_("Write how it was resolved."))
    if to == VoiceStatus.CLOSED and voice.needs_follow_up and not voice.customer_followed_up:
        raise VoiceError(_("Sales must confirm the customer was followed up before a complaint is closed."))
    now = at or timezone.now()
    previous = voice.status
    fields: dict[str, Any] = {"status": to}
    if to == VoiceStatus.RESOLVED:
        fields["resolved_at"] = now
    if to == VoiceStatus.CLOSED:
        fields["closed_at"] = now
    with transaction.atomic():
        if not CustomerVoice.objects.filter(pk=voice.pk, status=previous).update(status=to):
            raise VoiceError(_("Someone else changed this item a moment ago. Reload it and try again."))
        _touch(voice, fields, at=now)
        VoiceEvent.objects.create(
            voice=voice, kind=VoiceEvent.Kind.STATUS, by=by, at=now, from_status=previous, to_status=to, note=note
        )
        _voice_on_timeline(voice, by=by, action=VoiceStatus(to).label, at=now, note=note)
        notify_voice(
            voice,
            _people_on(voice),
            Notification.Kind.VOICE_UPDATED,
            actor=by,
            text=_("{title}: {status} ({name})"),
            args={"title": voice.title, "status": VoiceStatus(to).label, "name": by.display_name},
        )
    return voice


def resolve_voice(voice: CustomerVoice, *, resolution: str, by: User, at: datetime | None = None) -> CustomerVoice:
    """Write what was done and move the item to resolved."""
    if not permissions.can_act_on_voice(by, voice):
        raise PermissionDenied
    resolution = resolution.strip()
    if not resolution:
        raise VoiceError(_("Write how it was resolved."))
    if VoiceStatus.RESOLVED not in voice.allowed_next_statuses:
        raise VoiceError(_("Only an open or in-progress item can be resolved."))
    now = at or timezone.now()
    with transaction.atomic():
        _touch(voice, {"resolution": resolution}, at=now)
        return change_voice_status(voice, to=VoiceStatus.RESOLVED, by=by, note=resolution[:500], at=now)


def assign_voice(
    voice: CustomerVoice,
    *,
    by: User,
    assignee: User | None,
    co_assignee: User | None = None,
    due_date: date | None = None,
    at: datetime | None = None,
) -> CustomerVoice:
    """Change the owner, the person with them and the due date; new owners are told."""
    if not permissions.can_assign_voice(by, voice):
        raise PermissionDenied
    _check_people(voice.branch_id, assignee, co_assignee)
    if assignee is not None and co_assignee is not None and assignee.pk == co_assignee.pk:
        co_assignee = None
    changes = {
        "assignee": assignee,
        "co_assignee": co_assignee,
        "due_date": due_date,
    }
    if (voice.assignee_id, voice.co_assignee_id, voice.due_date) == (
        assignee.pk if assignee else None,
        co_assignee.pk if co_assignee else None,
        due_date,
    ):
        return voice
    now = at or timezone.now()
    newcomers = [
        person
        for person in (assignee, co_assignee)
        if person is not None and person.pk not in (voice.assignee_id, voice.co_assignee_id)
    ]
    with transaction.atomic():
        _touch(voice, changes, at=now)
        names = " / ".join(person.display_name for person in (assignee, co_assignee) if person is not None)
        note = f"{names or '—'}; {due_date.isoformat() if due_date else '—'}"
        VoiceEvent.objects.create(voice=voice, kind=VoiceEvent.Kind.ASSIGNED, by=by, at=now, note=note)
        _voice_on_timeline(voice, by=by, action=_("owner and due date set"), at=now, note=note)
        notify_voice(
            voice,
            newcomers,
            Notification.Kind.VOICE_ASSIGNED,
            actor=by,
            text=_("{category} from {customer} for you: {title}"),
            args={
                "category": VoiceCategory(voice.category).label,
                "customer": voice.customer.name,
                "title": voice.title,
            },
        )
    return voice


def edit_voice(
    voice: CustomerVoice,
    *,
    by: User,
    title: str,
    description: str,
    category: str,
    at: datetime | None = None,
) -> CustomerVoice:
    """Correct what was recorded (summary, words, category); the history keeps what changed."""
    if not permissions.can_act_on_voice(by, voice):
        raise PermissionDenied
    title = title.strip()
    if not title:
        raise VoiceError(_("Say in a line what the customer said."))
    if category not in VoiceCategory.values:
        raise VoiceError(_("Choose a source and a category."))
    wanted = {"title": title[:200], "description": description.strip(), "category": category}
    now = at or timezone.now()
    with transaction.atomic():
        changed = save_changed(voice, wanted, also={"updated_at": now})
        if not changed:
            return voice
        note = ", ".join(str(CustomerVoice._meta.get_field(name).verbose_name) for name in changed)
        VoiceEvent.objects.create(voice=voice, kind=VoiceEvent.Kind.EDITED, by=by, at=now, note=note)
        _voice_on_timeline(voice, by=by, action=_("edited"), at=now)
        notify_voice(
            voice,
            _people_on(voice),
            Notification.Kind.VOICE_UPDATED,
            actor=by,
            text=_("{title}: edited by {name}"),
            args={"title": voice.title, "name": by.display_name},
        )
    return voice


def confirm_follow_up(voice: CustomerVoice, *, by: User, note: str = "", at: datetime | None = None) -> CustomerVoice:
    """Sales confirm they went back to the customer; the people on the item hear of it."""
    if not permissions.can_confirm_follow_up(by, voice):
        raise PermissionDenied
    if voice.customer_followed_up:
        return voice
    now = at or timezone.now()
    with transaction.atomic():
        _touch(voice, {"customer_followed_up": True, "followed_up_at": now, "followed_up_by": by}, at=now)
        VoiceEvent.objects.create(voice=voice, kind=VoiceEvent.Kind.FOLLOWED_UP, by=by, at=now, note=note.strip())
        _voice_on_timeline(voice, by=by, action=_("customer followed up"), at=now, note=note.strip())
        notify_voice(
            voice,
            _people_on(voice),
            Notification.Kind.VOICE_UPDATED,
            actor=by,
            text=_("{title}: {name} followed up with the customer"),
            args={"title": voice.title, "name": by.display_name},
        )
    return voice


def staff_for_voice(branch_id: int):
    """Who an item can be assigned to: the branch's active staff, both departments."""
    return User.objects.filter(branch_id=branch_id, is_active=True).order_by("role", "display_name")
