"""Core views: the per-role home page, the notification centre and /healthz."""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from .context_processors import PORTAL_APPS, app_hook, bell_screen
from .http import polled_screen, render_polled, safe_next_url
from .models import Notification
from .notifications import mark_read, still_visible

NOTIFICATIONS_PAGE_SIZE = 30


def home_panels(user) -> list[dict]:
    """Each app contributes panels to the home page; the wiring gathers them."""
    panels: list[dict] = []
    for app in PORTAL_APPS:
        hook = app_hook(app, "panels", "home_panels")
        if hook is not None:
            panels.extend(hook(user))
    return panels


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "dealership/home.html", {"panels": home_panels(request.user)})


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "unread")
    rows = Notification.objects.filter(recipient=request.user).select_related("actor")
    if show == "unread":
        rows = rows.filter(read_at__isnull=True)
    page = Paginator(rows, NOTIFICATIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    # What the reader may no longer see (they moved branch) shows as a neutral line.
    visible = still_visible(request.user, page.object_list)
    for row in page.object_list:
        row.hidden = row.pk not in visible
    return render(request, "dealership/notifications.html", {"page": page, "show": show})


@login_required
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one notification read and go to what it is about."""
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    if notification.read_at is None:
        mark_read(request.user, notification_ids=[pk])
    if notification.pk not in still_visible(request.user, [notification]):
        return redirect("notifications")
    return redirect(notification.url or "notifications")


@login_required
@require_POST
def notification_mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(Notification, pk=pk, recipient=request.user)
    mark_read(request.user, notification_ids=[pk])
    return redirect(safe_next_url(request, "notifications"))


@login_required
@require_POST
def notifications_mark_all_read(request: HttpRequest) -> HttpResponse:
    mark_read(request.user)
    return redirect("notifications")


@polled_screen(bell_screen)
@login_required
@require_GET
def notifications_badge(request: HttpRequest) -> HttpResponse:
    """The bell, polled: 304 from the session and the cache while nothing changed."""

    def render_bell(etag_for) -> HttpResponse:
        etag_for(0)  # the same ETag the context processor puts into the badge
        return render(request, "partials/bell_badge.html")

    return render_polled(request, bell_screen, render_bell)


logger = logging.getLogger(__name__)


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _check_cache() -> str:
    cache.set("healthz", "ok", 10)
    if cache.get("healthz") != "ok":
        raise RuntimeError("cache read-back failed")
    return "ok"


def _check_broker() -> str:
    url = settings.CELERY_BROKER_URL
    if settings.CELERY_TASK_ALWAYS_EAGER or url.startswith("memory://"):
        return "eager"
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, cache and broker state for load balancers and monitoring."""
    checks = {}
    healthy = True
    for name, check in (("database", _check_database), ("cache", _check_cache), ("broker", _check_broker)):
        try:
            checks[name] = check()
        except Exception:
            # The answer is public (load balancers need no sign-in), so it says
            # only which component fails; the cause goes to the log.
            logger.exception("healthz: the %s check failed", name)
            checks[name] = "error"
            healthy = False
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)
