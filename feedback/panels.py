"""The customer-voice panel of the home page: my voice and recovery items, due first."""

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
