"""The staff screens follow the one branch rule (dealership.scopes): something of no branch is
visible only to all-branch staff, so a manager left without a branch reaches nobody."""

from __future__ import annotations

import pytest

from accounts import permissions
from accounts.models import Department, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_manager_sees_and_manages_the_staff_of_their_branch_only(manager, sales_rep, other_branch_user):
    assert set(permissions.staff_visible_to(manager)) == {manager, sales_rep}
    assert permissions.can_manage_member(manager, sales_rep)
    assert not permissions.can_manage_member(manager, other_branch_user)
    assert list(permissions.branches_within_scope(manager)) == [manager.branch]


def test_an_all_branch_manager_sees_every_branch(manager, sales_rep, other_branch_user):
    manager.all_branches = True
    manager.save(update_fields=["all_branches"])

    assert {sales_rep, other_branch_user} <= set(permissions.staff_visible_to(manager))
    assert permissions.can_manage_member(manager, other_branch_user)
    assert set(permissions.branches_within_scope(manager)) == {sales_rep.branch, other_branch_user.branch}


def test_a_manager_without_a_branch_reaches_nobody_not_even_others_without_one(branch):
    unplaced = UserFactory(branch=None, role=Role.MANAGER, department=Department.MANAGEMENT)
    other_unplaced = UserFactory(branch=None)

    assert list(permissions.staff_visible_to(unplaced)) == []
    assert not permissions.can_manage_member(unplaced, other_unplaced)
    assert not permissions.branch_within_scope(unplaced, None)
    assert list(permissions.branches_within_scope(unplaced)) == []
