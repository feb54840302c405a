"""Who may do what with staff accounts. Templates ask these, never the role."""

from __future__ import annotations

from .models import User


def can_manage_staff(user: User) -> bool:
    return user.is_authenticated and (user.is_manager or user.is_superuser)


def staff_visible_to(user: User):
    """Staff a manager may see and edit: their branch, or all with all-branch scope."""
    qs = User.objects.select_related("branch")
    if user.sees_all_branches:
        return qs
    return qs.filter(branch_id=user.branch_id)
