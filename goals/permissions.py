"""Who may do what with shared goals and KPIs, in one place (DESIGN.md matrix:
"goals, KPI dashboard — view / manage").

Everyone of a branch views its figures and goals; managers set goals and
enter the figures from outside the portal. The figures of all branches
together are for people who see all branches; goals for all branches are
team goals everyone sees (they show company totals, never a branch's).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from dealership.models import Branch
from dealership.scopes import may_see_branch

from .models import Goal


def can_see_kpis(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.branch_id or user.sees_all_branches))


def can_see_branch_figures(user: User, branch: Branch | None) -> bool:
    """`branch=None` is every branch together (only for people who see all branches)."""
    return can_see_kpis(user) and may_see_branch(user, branch.pk if branch is not None else None)


def can_see_goal(user: User, goal: Goal) -> bool:
    """A goal for all branches (no branch) is a team goal everyone sees."""
    return can_see_kpis(user) and (goal.branch_id is None or may_see_branch(user, goal.branch_id))


def can_manage_goals(user: User) -> bool:
    return can_see_kpis(user) and user.is_manager


def can_set_goal_for(user: User, branch: Branch | None) -> bool:
    """A goal for all branches needs all-branch scope; a branch's goal, its manager."""
    return can_manage_goals(user) and can_see_branch_figures(user, branch)


def can_manage_goal(user: User, goal: Goal) -> bool:
    return can_see_goal(user, goal) and can_set_goal_for(user, goal.branch)


def can_enter_manual_values(user: User, branch: Branch | None) -> bool:
    return branch is not None and can_manage_goals(user) and can_see_branch_figures(user, branch)


def navigation_items(user: User) -> list[dict[str, Any]]:
    if not can_see_kpis(user):
        return []
    return [{"url": reverse("goals:kpi_dashboard"), "label": _("Goals & KPIs"), "icon": "graph-up", "name": "kpi"}]
