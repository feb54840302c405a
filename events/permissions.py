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
from dealership.scopes import sees_row

from .models import ActionItem, Organiser, TeamEvent


def can_see_event(user: User, event: TeamEvent) -> bool:
    return bool(user.is_authenticated and user.is_active) and sees_row(user, event)


def is_organiser(user: User) -> bool:
    """Allowed to plan events: managers, and the staff a manager named (one query, cached on the user)."""
    if not user.is_authenticated:
        return False
    if user.is_manager:
        return True
    cached = getattr(user, "_is_event_organiser", None)
    if cached is None:
        cached = Organiser.objects.filter(user_id=user.pk).exists()
        user._is_event_organiser = cached
    return cached


def can_plan_event(user: User) -> bool:
    return is_organiser(user) and (user.branch_id is not None or user.sees_all_branches)


def can_manage_event(user: User, event: TeamEvent) -> bool:
    """Edit, cancel, take attendance, write minutes, add action items."""
    if not can_see_event(user, event):
        return False
    return user.is_manager or (event.organizer_id == user.pk and is_organiser(user))


def can_rsvp(user: User, event: TeamEvent, *, at: datetime | None = None) -> bool:
    """Until the event ends (`at` replays history: demo data, imports)."""
    moment = at or timezone.now()
    return can_see_event(user, event) and not event.is_cancelled and event.ends_at > moment


def can_complete_action_item(user: User, item: ActionItem) -> bool:
    return can_see_event(user, item.event) and (item.assignee_id == user.pk or can_manage_event(user, item.event))


def can_manage_organisers(user: User) -> bool:
    return user.is_authenticated and user.is_manager


def navigation_items(user: User) -> list[dict[str, Any]]:
    """Every signed-in person of a branch has the events screen."""
    if not user.is_authenticated:
        return []
    return [{"url": reverse("events:event_list"), "label": _("Events"), "icon": "calendar-event", "name": "event_list"}]
