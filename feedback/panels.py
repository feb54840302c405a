"""The customer-voice panels: the home page's (my voice and recovery items, due first)
and the customer's page's (surveys, answers, voice items)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from . import permissions, selectors


def home_panels(user: User) -> list[dict]:
    if not permissions.can_record_voice(user):
        return []
    items, counts = selectors.my_voice_items(user)
    return [
        {
            "title": _("My customer voice items"),
            "icon": "megaphone",
            "template": "feedback/partials/home_panel.html",
            "link": f"{reverse('feedback:voice_list')}?{urlencode({'mine': '1'})}",
            "items": items,
            "counts": counts,
        }
    ]


def customer_panels(user: User, customer) -> list[dict]:
    """The customer's page (customers/): surveys, survey answers and what the customer told us."""
    history = selectors.customer_history(customer)
    panels = [
        {
            "slot": "facts",
            "order": 10,
            "template": "feedback/partials/customer_surveys_fact.html",
            "opted_out": history["opted_out"],
        },
        {
            "slot": "side",
            "order": 30,
            "template": "feedback/partials/customer_voice.html",
            "voice_items": history["voice_items"],
        },
        {
            "slot": "side",
            "order": 40,
            "template": "feedback/partials/customer_responses.html",
            "responses": history["responses"],
        },
    ]
    if permissions.can_record_voice(user):
        panels.append({"slot": "actions", "order": 10, "template": "feedback/partials/customer_actions.html"})
    return panels
