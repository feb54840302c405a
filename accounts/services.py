"""Writes on staff accounts: invite, accept an invitation, change, deactivate."""

from __future__ import annotations

import logging
import smtplib

from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from dealership import versions
from dealership.emails import send_templated_email
from dealership.models import Language
from dealership.updates import save_changed

from .models import Invitation, Role, User
from .permissions import (
    awaiting_first_sign_in,
    branch_within_scope,
    can_grant_all_branches,
    can_manage_member,
    can_manage_staff,
)

logger = logging.getLogger(__name__)


class InvitationError(Exception):
    """The link cannot be used; `reason` is one of: invalid, expired, used."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EmailTaken(ValueError):
    """Another account already signs in with this address (the message says so)."""


class InvitationRefused(ValueError):
    """The account is already in use: a set-password link would open it to whoever reads the mail."""


def login_email_taken(email: str, *, exclude: User | None = None) -> bool:
    """Case-insensitive, over the user rows and allauth's addresses (both are login names)."""
    users = User.objects.filter(email__iexact=email)
    addresses = EmailAddress.objects.filter(email__iexact=email)
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
        addresses = addresses.exclude(user=exclude)
    return users.exists() or addresses.exists()


def set_login_email(*, user: User, email: str) -> None:
    """Make `email` the user's one login address, in the user row and in allauth's rows.

    allauth signs people in by any address it holds for them, so the account
    keeps exactly one: primary and verified (the manager vouches for it). Runs
    inside the caller's transaction; a concurrent taker of the same address
    hits the unique constraints and becomes EmailTaken, never a 500. Callers
    check who may do it (change_staff; the admin is for superusers).
    """
    if login_email_taken(email, exclude=user):
        raise EmailTaken(_("Another staff member already signs in with %(email)s.") % {"email": email})
    try:
        with transaction.atomic():
            user.email = email
            user.save(update_fields=["email"])
            EmailAddress.objects.filter(user=user).exclude(email__iexact=email).delete()
            updated = EmailAddress.objects.filter(user=user, email__iexact=email).update(
                email=email, primary=True, verified=True
            )
            if not updated:
                EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    except IntegrityError as error:
        raise EmailTaken(_("Another staff member already signs in with %(email)s.") % {"email": email}) from error


def invite_staff(
    *, by: User, email: str, display_name: str, department: str, role: str, branch, language: str
) -> tuple[User, bool]:
    """Create the account (no usable password yet) and e-mail a set-password link.

    Returns the user and whether the e-mail went out; a failed send keeps the
    account and the manager can resend from the Team page.
    """
    if not can_manage_staff(by) or not branch_within_scope(by, getattr(branch, "pk", None)):
        raise PermissionDenied(_("You can invite staff only into your own branch."))
    email = email.lower()
    with transaction.atomic():
        if login_email_taken(email):
            raise EmailTaken(_("Another staff member already signs in with %(email)s.") % {"email": email})
        user = User(
            email=email,
            display_name=display_name,
            department=department,
            role=role,
            branch=branch,
            language=language,
        )
        user.set_unusable_password()
        user.save()
        set_login_email(user=user, email=email)
    return user, send_invitation(user=user, by=by)


def send_invitation(*, user: User, by: User | None) -> bool:
    """Issue a fresh link (older ones stop working) and e-mail it in the user's language.

    Only for accounts that were never used (`by` None is the system itself).
    Raises InvitationRefused otherwise: that person resets their password
    from the sign-in page instead.
    """
    if by is not None and not can_manage_member(by, user):
        raise PermissionDenied(_("This staff member is outside your scope."))
    if not awaiting_first_sign_in(user):
        raise InvitationRefused(
            _("%(name)s already uses their account; no invitation was sent. They can reset their password.")
            % {"name": user.display_name}
        )
    with transaction.atomic():
        Invitation.objects.filter(user=user, accepted_at__isnull=True).update(expires_at=timezone.now())
        invitation, token = Invitation.issue(user=user, invited_by=by)
    try:
        send_templated_email(
            to=user.email,
            templates=["invitation"],
            context={
                "user": user,
                "invited_by": by,
                "invitation": invitation,
                "path": reverse("accounts:accept_invitation", args=[token]),
            },
            language=user.language,
        )
    except (smtplib.SMTPException, OSError):
        logger.warning("Invitation e-mail to %s could not be sent", user.email, exc_info=True)
        return False
    return True


def get_open_invitation(token: str) -> Invitation:
    invitation = Invitation.objects.select_related("user").filter(token_hash=Invitation.hash_token(token)).first()
    if invitation is None or not invitation.user.is_active:
        raise InvitationError("invalid")
    if invitation.accepted_at is not None:
        raise InvitationError("used")
    if invitation.is_expired:
        raise InvitationError("expired")
    return invitation


def accept_invitation(*, token: str, password: str) -> User:
    with transaction.atomic():
        invitation = get_open_invitation(token)
        # Lock so two tabs submitting the same link cannot both use it.
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise InvitationError("used")
        user = invitation.user
        user.set_password(password)
        user.save(update_fields=["password"])
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
    return user


def change_staff(
    *,
    member: User,
    by: User,
    role: str,
    department: str,
    branch,
    all_branches: bool,
    email: str | None = None,
) -> list[str]:
    """Save the changed fields only; returns their names (empty when nothing changed).

    `email` None keeps the login address. Refuses (PermissionDenied) anyone
    outside `by`'s scope, a move to a branch `by` does not run and granting
    all-branch scope by someone who lacks it; EmailTaken when the address
    belongs to someone else. Nothing is saved when anything is refused.
    """
    if not can_manage_member(by, member):
        raise PermissionDenied(_("This staff member is outside your scope."))
    if member.pk == by.pk and role != Role.MANAGER:
        raise ValueError(_("You cannot give up your own manager role; ask another manager."))
    if all_branches and not member.all_branches and not can_grant_all_branches(by):
        raise PermissionDenied(_("Only a manager who sees every branch can give that scope."))
    if getattr(branch, "pk", None) != member.branch_id and not branch_within_scope(by, getattr(branch, "pk", None)):
        raise PermissionDenied(_("You can move staff only within your own branch."))
    email = email.strip().lower() if email else None
    if email == member.email:
        email = None
    with transaction.atomic():
        fields = {"role": role, "department": department, "branch": branch, "all_branches": all_branches}
        changed = save_changed(member, fields)
        if changed:
            # A role shows beside their messages; a branch move takes them off
            # the old branch's jobs (repairs.signals) and out of its screens.
            versions.people_changed(changed)
        if email is not None:
            set_login_email(user=member, email=email)
            changed.append("email")
    return changed


def save_staff_in_admin(*, member: User, changed: list[str], adding: bool) -> None:
    """The Django admin's save of a staff member (superusers only), as the Team page's.

    The admin is where a display name is corrected: every polled screen that
    shows the person (cards, rows, timelines, threads) hears of it through
    `people_changed`. A new account shows nowhere yet.
    """
    with transaction.atomic():
        member.save()
        if adding:
            return
        if "email" in changed:
            # allauth's address rows follow the user row, as on the Team page.
            set_login_email(user=member, email=member.email)
        versions.people_changed(changed)


def set_staff_active(*, member: User, by: User, active: bool) -> None:
    """Deactivate (or reactivate) an account. Accounts are never deleted: history stays."""
    if not can_manage_member(by, member):
        raise PermissionDenied(_("This staff member is outside your scope."))
    if member.pk == by.pk and not active:
        raise ValueError(_("You cannot deactivate your own account."))
    if member.is_active == active:
        return
    member.is_active = active
    member.save(update_fields=["is_active"])


def save_preferences(*, user: User, language: str, email_preferences: dict[str, bool]) -> list[str]:
    """Save the user's language and e-mail switches; returns the changed fields."""
    if language not in Language.values:
        raise ValueError(_("Unknown language."))
    return save_changed(user, {"language": language, "email_preferences": email_preferences})


def set_language(*, user: User, language: str) -> bool:
    """Switch the portal's language for `user`; True when it changed."""
    if language not in Language.values:
        raise ValueError(_("Unknown language."))
    if user.language == language:
        return False
    user.language = language
    user.save(update_fields=["language"])
    return True
