"""Who may do what with staff accounts. Views, services and templates ask these, never the role."""

from __future__ import annotations

from django.db.models import QuerySet

from dealership.models import Branch
from dealership.scopes import may_see_branch, scope_to

from .models import User


def can_manage_staff(user: User) -> bool:
    return user.is_authenticated and (user.is_manager or user.is_superuser)


def staff_visible_to(user: User):
    """Staff a manager may see: their branch, or all with all-branch scope."""
    return scope_to(User.objects.select_related("branch"), user)


def scope_rank(user: User) -> int:
    """How far someone's authority reaches: superuser > all-branch manager > everyone of one branch.

    A branch manager and a technician of the same branch have the same reach
    over accounts (one branch); only the manager role may act on it.
    """
    if user.is_superuser:
        return 3
    if user.sees_all_branches:
        return 2
    return 1


def can_manage_member(manager: User, member: User) -> bool:
    """May `manager` change, deactivate or re-invite `member`?

    Only people within the manager's own scope, never someone of wider scope:
    a branch manager cannot touch an all-branch manager or a superuser even
    when they work at the same branch. Costs no query (the Team page asks it
    for every row).
    """
    if not can_manage_staff(manager):
        return False
    if not may_see_branch(manager, member.branch_id):
        return False
    return scope_rank(member) <= scope_rank(manager)


def can_grant_all_branches(manager: User) -> bool:
    """Only someone who already sees every branch may hand that scope to another."""
    return can_manage_staff(manager) and manager.sees_all_branches


def branch_within_scope(manager: User, branch_id: int | None) -> bool:
    """May `manager` put someone at this branch (invite there, move there)?"""
    return may_see_branch(manager, branch_id)


def branches_within_scope(manager: User) -> QuerySet[Branch]:
    """The branches `manager` may put someone at, as the staff forms' choices (a dealership has a handful)."""
    pks = [pk for pk in Branch.objects.values_list("pk", flat=True) if branch_within_scope(manager, pk)]
    return Branch.objects.filter(pk__in=pks)


def awaiting_first_sign_in(member: User) -> bool:
    """An invitation may go only to an active account that has never been used.

    Once someone has signed in (or set a password), a fresh set-password link
    would be a working way into their account for whoever reads that mailbox.
    """
    return member.is_active and member.last_login is None and not member.has_usable_password()


def can_resend_invitation(manager: User, member: User) -> bool:
    return can_manage_member(manager, member) and awaiting_first_sign_in(member)
