"""The goals panel of the home page: the team's current goals."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from .permissions import can_see_kpis


def home_panels(user: User) -> list[dict]:
    """The team's current goals: team figures only, nobody ranked.

    The panel costs the home page no query: its cards (one aggregate per goal,
    over however many jobs and answers) load right after the page, from
    `goals:home_goals`, so the home page never waits for the KPIs.
    """
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
