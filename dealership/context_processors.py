"""Navigation for the signed-in user: only what their role may use."""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .models import Notification


def navigation_for(user) -> list[dict[str, Any]]:
    # Imported here: the wiring may know every app, the core models may not.
    from accounts.permissions import can_manage_staff

    items = [{"url": reverse("home"), "label": _("Home"), "icon": "house", "name": "home"}]
    items.extend(_app_navigation(user))
    if can_manage_staff(user):
        items.append({"url": reverse("accounts:team"), "label": _("Team"), "icon": "people", "name": "team"})
    return items


def _app_navigation(user) -> list[dict[str, Any]]:
    from repairs.permissions import can_create_job

    items = []
    if user.is_sales or user.is_manager:
        items.append(
            {
                "url": reverse("repairs:my_cars"),
                "label": _("My customers' cars"),
                "icon": "car-front",
                "name": "my_cars",
            }
        )
    if user.is_technician:
        items.append({"url": reverse("repairs:my_queue"), "label": _("My queue"), "icon": "wrench", "name": "my_queue"})
    items.append({"url": reverse("repairs:board"), "label": _("Workshop board"), "icon": "kanban", "name": "board"})
    items.append({"url": reverse("repairs:job_list"), "label": _("All jobs"), "icon": "list-ul", "name": "job_list"})
    if can_create_job(user):
        items.append(
            {"url": reverse("repairs:job_create"), "label": _("New job"), "icon": "plus-circle", "name": "job_create"}
        )
    return items


def bell_etag(user) -> str:
    """Changes whenever the user's notifications do (see notify() and mark-read)."""
    raw = f"{user.pk}|{user.notifications_changed_at.timestamp()}|{translation.get_language()}"
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:24] + '"'


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    current = getattr(request.resolver_match, "url_name", "")
    return {
        # Callables too: polled fragments render without the navigation.
        "nav_items": functools.cache(lambda: navigation_for(user)),
        "nav_current": current,
        "bell_etag": bell_etag(user).strip('"'),
        # A callable, so fragments that never show the bell never pay its query.
        "unread_notifications": functools.cache(
            lambda: Notification.objects.filter(recipient=user, read_at__isnull=True).count()
        ),
    }
