"""Who may do what with team events, in one place (DESIGN.md: "team events — join / manage").

Everyone of a branch sees its events, answers and downloads them; another
branch's events are 404. Managers plan and run the events of their branch;
a manager may allow other staff to organise (`Organiser`), and an organiser
runs the events they organise. Views and templates ask these functions only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User


def can_see_event(user: User, event) -> bool:
    return bool(user.is_authenticated and user.is_active) and (
        user.sees_all_branches or event.branch_id == user.branch_id
    )


def is_organiser(user: User) -> bool:
    """Allowed to plan events: managers, and the staff a manager named (one query, cached on the user)."""
    if not user.is_authenticated:
        return False
    if user.is_manager:
        return True
    cached = getattr(user, "_goals_is_organiser", None)
    if cached is None:
        from .models import Organiser

        cached = Organiser.objects.filter(user_id=user.pk).exists()
        user._goals_is_organiser = cached
    return cached


def can_plan_event(user: User) -> bool:
    return is_organiser(user) and (user.branch_id is not None or user.sees_all_branches)


def can_manage_event(user: User, event) -> bool:
    """Edit, cancel, take attendance, write minutes, add action items."""
    if not can_see_event(user, event):
        return False
    return user.is_manager or (event.organizer_id == user.pk and is_organiser(user))


def can_rsvp(user: User, event, *, at: datetime | None = None) -> bool:
    """Until the event ends (`at` replays history: demo data, imports)."""
    moment = at or timezone.now()
    return can_see_event(user, event) and not event.is_cancelled and event.ends_at > moment


def can_complete_action_item(user: User, item) -> bool:
    return can_see_event(user, item.event) and (item.assignee_id == user.pk or can_manage_event(user, item.event))


def can_manage_organisers(user: User) -> bool:
    return user.is_authenticated and user.is_manager


def navigation_items(user: User) -> list[dict[str, Any]]:
    """Every signed-in person of a branch has the events screen."""
    if not user.is_authenticated:
        return []
    return [
        {"url": reverse("goals:event_list"), "label": _("Events"), "icon": "calendar-event", "name": "event_list"},
        *kpi_navigation_items(user),
    ]


# --- Shared goals and KPIs (DESIGN.md matrix: "goals, KPI dashboard — view / manage") ---
# Everyone of a branch views its figures and goals; managers set goals and
# enter the figures from outside the portal. The figures of all branches
# together are for people who see all branches; goals for all branches are
# team goals everyone sees (they show company totals, never a branch's).


def can_see_kpis(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.branch_id or user.sees_all_branches))


def can_see_branch_figures(user: User, branch) -> bool:
    """`branch=None` is every branch together."""
    if not can_see_kpis(user):
        return False
    if user.sees_all_branches:
        return True
    return branch is not None and branch.pk == user.branch_id


def can_see_goal(user: User, goal) -> bool:
    return can_see_kpis(user) and (goal.branch_id is None or user.sees_all_branches or goal.branch_id == user.branch_id)


def can_manage_goals(user: User) -> bool:
    return can_see_kpis(user) and user.is_manager


def can_set_goal_for(user: User, branch) -> bool:
    """A goal for all branches needs all-branch scope; a branch's goal, its manager."""
    return can_manage_goals(user) and can_see_branch_figures(user, branch)


def can_manage_goal(user: User, goal) -> bool:
    return can_see_goal(user, goal) and can_set_goal_for(user, goal.branch)


def can_enter_manual_values(user: User, branch) -> bool:
    return branch is not None and can_manage_goals(user) and can_see_branch_figures(user, branch)


def kpi_navigation_items(user: User) -> list[dict[str, Any]]:
    if not can_see_kpis(user):
        return []
    return [{"url": reverse("goals:kpi_dashboard"), "label": _("Goals & KPIs"), "icon": "graph-up", "name": "kpi"}]
