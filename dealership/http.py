from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

from .versions import make_etag, remember_viewer, still_current


def safe_next_url(request: HttpRequest, default: str) -> str:
    """The `next` the form posted when it points into this site, else `default`."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    # Only a path: redirect() would take a bare word ("abc") for a URL name and fail.
    if candidate.startswith("/") and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(default)


# --- polled screens ---------------------------------------------------------------
#
# A polled screen names what it shows as version keys (dealership.versions)
# from the viewer and the URL alone, without the database:
#
#     @polled_screen(lambda viewer, request, pk: ([f"job:{pk}"], ["job", str(pk)]))
#     @login_required
#     def job_detail(request, pk): ...
#
# PolledScreenMiddleware answers an unchanged htmx refresh with 304 from the
# session and the cache alone; anything else reaches the view, which renders
# through `render_polled` (signed-in screens) or `polled_response` (the
# customer's status page, whose "viewer" is the link). One way to read
# If-None-Match (versions.sent_etags), one way to answer 304 (`not_modified`).

ScreenKeys = Callable[..., tuple[list[str], list[str]]]
Render = Callable[[Callable[[int], str]], HttpResponse]


def polled_screen(keys_for: ScreenKeys) -> Callable:
    """Mark a view as a polled screen; `keys_for(viewer, request, **url_kwargs)` → (keys, parts)."""

    def decorate(view: Callable) -> Callable:
        view.poll_screen = keys_for
        return view

    return decorate


def not_modified(etag: str) -> HttpResponse:
    """The answer to a client that already holds `etag`.

    `no-store` keeps the browser from answering from its cache, so htmx sees
    the 304 itself (and, configured in base.html, leaves the fragment alone).
    """
    response = HttpResponseNotModified()
    response["ETag"] = etag
    response["Cache-Control"] = "no-store"
    return response


def polled_response(
    request: HttpRequest, *, viewer: dict[str, Any], keys: list[str], parts: list[str], render: Render
) -> HttpResponse:
    """304 when the client's ETag still names these keys' tokens, else `render(etag_for)`.

    `render` builds the context, works out the screen's deadline (when the
    next shown job crosses its promised time, 0 if never) and calls
    `etag_for(deadline)` for the ETag that goes into the page and the header.
    """
    current = still_current(request, viewer, keys, parts)
    if current is not None:
        return not_modified(current)
    issued: list[str] = []

    def etag_for(deadline: int) -> str:
        issued.append(make_etag(viewer, keys, parts, deadline))
        return issued[-1]

    response = render(etag_for)
    if issued:
        response["ETag"] = issued[-1]
    response["Cache-Control"] = "no-store"
    return response


def render_polled(request: HttpRequest, keys_for: ScreenKeys, render: Render, **url_kwargs) -> HttpResponse:
    """The view side of a signed-in polled screen: its keys for this viewer, then `polled_response`."""
    viewer = remember_viewer(request.user)
    keys, parts = keys_for(viewer, request, **url_kwargs)
    return polled_response(request, viewer=viewer, keys=keys, parts=parts, render=render)
