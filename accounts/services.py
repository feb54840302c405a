"""Writes on staff accounts: invite, accept an invitation, change, deactivate."""

from __future__ import annotations

import logging
import smtplib

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from dealership.emails import send_templated_email

from .models import Invitation, Role, User

logger = logging.getLogger(__name__)


class InvitationError(Exception):
    """The link cannot be used; `reason` is one of: invalid, expired, used."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def invite_staff(
    *, by: User, email: str, display_name: str, department: str, role: str, branch, language: str
) -> tuple[User, bool]:
    """Create the account (no usable password yet) and e-mail a set-password link.

    Returns the user and whether the e-mail went out; a failed send keeps the
    account and the manager can resend from the Team page.
    """
    with transaction.atomic():
        user = User(
            email=email.lower(),
            display_name=display_name,
            department=department,
            role=role,
            branch=branch,
            language=language,
        )
        user.set_unusable_password()
        user.save()
    return user, send_invitation(user=user, by=by)


def send_invitation(*, user: User, by: User | None) -> bool:
    """Issue a fresh link (older ones stop working) and e-mail it in the user's language."""
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


def change_staff(*, member: User, by: User, role: str, department: str, branch, all_branches: bool) -> list[str]:
    """Save the changed fields only; returns their names (empty when nothing changed)."""
    if member.pk == by.pk and role != Role.MANAGER:
        raise ValueError(_("You cannot give up your own manager role; ask another manager."))
    changed = [
        name
        for name, value in (
            ("role", role),
            ("department", department),
            ("branch", branch),
            ("all_branches", all_branches),
        )
        if getattr(member, name) != value
    ]
    if not changed:
        return []
    member.role, member.department, member.branch, member.all_branches = role, department, branch, all_branches
    member.save(update_fields=changed)
    return changed


def set_staff_active(*, member: User, by: User, active: bool) -> None:
    """Deactivate (or reactivate) an account. Accounts are never deleted: history stays."""
    if member.pk == by.pk and not active:
        raise ValueError(_("You cannot deactivate your own account."))
    if member.is_active == active:
        return
    member.is_active = active
    member.save(update_fields=["is_active"])
