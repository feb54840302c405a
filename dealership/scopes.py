"""The branch rule, written once: everyone sees their own branch, except
people with all-branch scope (superusers and managers given it).

Every selector, permission and form that limits rows to what a person may
see goes through these two functions, so the rule cannot drift between apps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.db.models import Model, QuerySet

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

_Q = TypeVar("_Q", bound=QuerySet)


def may_see_branch(user: AbstractBaseUser, branch_id: int | None) -> bool:
    """Whether `user` may see what belongs to the branch `branch_id`.

    Something of no branch (None) is visible only to all-branch staff.
    """
    if not getattr(user, "is_authenticated", False):
        return False
    if user.sees_all_branches:
        return True
    return branch_id is not None and branch_id == user.branch_id


def scope_to(queryset: _Q, user: AbstractBaseUser, field: str = "branch") -> _Q:
    """`queryset` limited to the rows whose `field` (a branch foreign key,
    possibly across relations: "job__branch") is a branch `user` may see."""
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    if user.sees_all_branches:
        return queryset
    if user.branch_id is None:
        return queryset.none()
    return queryset.filter(**{f"{field}_id": user.branch_id})


def sees_row(user: AbstractBaseUser, row: Model, field: str = "branch") -> bool:
    """`may_see_branch` for one row that has a branch foreign key `field`."""
    return may_see_branch(user, getattr(row, f"{field}_id"))
