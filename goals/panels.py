"""The team-life panels of the home page: my next events and my open action items."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from . import selectors


def home_panels(user: User) -> list[dict]:
    """Two panels, three queries whatever the number of events or items."""
    items, open_count = selectors.my_open_action_items(user)
    return [
        *goal_panels(user),
        {
            "title": _("My next events"),
            "icon": "calendar-event",
            "template": "goals/partials/home_events.html",
            "link": reverse("goals:event_list"),
            "events": selectors.my_next_events(user),
        },
        {
            "title": _("My action items"),
            "icon": "check2-square",
            "template": "goals/partials/home_action_items.html",
            "link": reverse("goals:event_list"),
            "items": items,
            "open_count": open_count,
        },
    ]


def goal_panels(user: User) -> list[dict]:
    """The team's current goals: team figures only, nobody ranked.

    The panel costs the home page no query: its cards (one aggregate per goal,
    over however many jobs and answers) load right after the page, from
    `goals:home_goals`, so the home page never waits for the KPIs.
    """
    from .permissions import can_see_kpis

    if not can_see_kpis(user):
        return []
    return [
        {
            "title": _("Our team goals"),
            "icon": "bullseye",
            "template": "goals/partials/goal_home_panel.html",
            "link": reverse("goals:kpi_dashboard"),
        }
    ]
