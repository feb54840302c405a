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
        {
            "title": _("My next events"),
            "icon": "calendar-event",
            "template": "events/partials/home_events.html",
            "link": reverse("events:event_list"),
            "events": selectors.my_next_events(user),
        },
        {
            "title": _("My action items"),
            "icon": "check2-square",
            "template": "events/partials/home_action_items.html",
            "link": reverse("events:event_list"),
            "items": items,
            "open_count": open_count,
        },
    ]
