"""Navigation for the signed-in user: only what their role may use."""

from __future__ import annotations

import functools
import importlib
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# The wiring may know every app (tests/test_layers.py); the core models may not.
from accounts.permissions import can_manage_staff

from .models import Notification
from .versions import make_etag, remember_viewer

# The apps whose screens join the navigation and the home page, in the home page's order
# (the navigation follows APP_MENUS: events' screens come before goals' in the Team menu).
# Each may offer `permissions.navigation_items(user)` and `panels.home_panels(user)`;
# every decision about who sees what stays in the app's own permissions module.
PORTAL_APPS = ("repairs", "feedback", "customers", "goals", "events")


def app_hook(app: str, module: str, name: str):
    """`<app>.<module>.<name>`, or None while the app does not offer it.

    Only the app having no such module means "no hook". A module that exists
    but fails to import (a typo, an import of something that moved) raises:
    otherwise a broken `panels.py` would silently take its panels off every
    home page.
    """
    path = f"{app}.{module}"
    try:
        imported = importlib.import_module(path)
    except ModuleNotFoundError as error:
        if error.name != path:
            raise
        return None
    return getattr(imported, name, None)


# Each app's screens form one menu of the navigation bar, so the bar stays one
# short row at any width however many screens the apps add.
APP_MENUS: dict[str, tuple[Any, str]] = {
    "repairs": (_("Workshop"), "wrench-adjustable"),
    "feedback": (_("Customers"), "person-vcard"),
    "customers": (_("Customers"), "person-vcard"),
    "events": (_("Team"), "people"),
    "goals": (_("Team"), "people"),
}


def navigation_menus(user) -> list[dict[str, Any]]:
    """The navigation bar: Home, then one menu per app with the screens this user may use."""
    menus: list[dict[str, Any]] = [{"url": reverse("home"), "label": _("Home"), "icon": "house", "name": "home"}]
    for app in APP_MENUS:
        hook = app_hook(app, "permissions", "navigation_items")
        items = list(hook(user)) if hook is not None else []
        if app == "goals" and can_manage_staff(user):
            items.append({"url": reverse("accounts:team"), "label": _("Staff"), "icon": "person-gear", "name": "team"})
        if items:
            label, icon = APP_MENUS[app]
            if "items" in menus[-1] and menus[-1]["label"] == label:
                menus[-1]["items"].extend(items)  # neighbours under one label share one menu ("Customers", "Team")
            else:
                menus.append({"label": label, "icon": icon, "name": f"menu-{app}", "items": items})
    return menus


def navigation_for(user) -> list[dict[str, Any]]:
    """Every screen of the navigation as one flat list (home shortcuts, tests)."""
    flat: list[dict[str, Any]] = []
    for entry in navigation_menus(user):
        flat.extend(entry.get("items", [entry]))
    return flat


def bell_screen(viewer: dict, request) -> tuple[list[str], list[str]]:
    """The bell shows the viewer's unread count: notify() and mark-read bump its key."""
    return [f"notified:{viewer['id']}"], ["bell"]


def bell_etag(user) -> str:
    viewer = remember_viewer(user)
    return make_etag(viewer, *bell_screen(viewer, None))


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    current = getattr(request.resolver_match, "url_name", "")
    return {
        # Callables too: polled fragments render without the navigation.
        "nav_items": functools.cache(lambda: navigation_for(user)),
        "nav_menus": functools.cache(lambda: navigation_menus(user)),
        "nav_current": current,
        # Lazy like the count: a polled fragment never shows the bell.
        "bell_etag": functools.cache(lambda: bell_etag(user).strip('"')),
        # A callable, so fragments that never show the bell never pay its query.
        "unread_notifications": functools.cache(
            lambda: Notification.objects.filter(recipient=user, read_at__isnull=True).count()
        ),
    }
