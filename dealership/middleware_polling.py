"""Unchanged refreshes of the polled screens, answered before any other work.

Every open screen asks every 5 s. When nothing it shows has changed, the
answer is `304 Not Modified` computed from the session (in the cache) and the
version tokens (in the cache): no database query, no user row, no template,
none of the later middleware. Anything else — a changed screen, an unknown
viewer, a full page load — goes on to the view as usual.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from .http import not_modified
from .versions import cached_viewer, still_current


class PolledScreenMiddleware:
    """Placed right after SessionMiddleware (it needs the session, nothing else)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "GET" and "If-None-Match" in request.headers and "HX-Request" in request.headers:
            response = self.unchanged(request)
            if response is not None:
                return response
        return self.get_response(request)

    def unchanged(self, request: HttpRequest) -> HttpResponse | None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None
        keys_for = getattr(match.func, "poll_screen", None)
        if keys_for is None:
            return None
        viewer = cached_viewer(request)
        if viewer is None:
            return None
        keys, parts = keys_for(viewer, request, **match.kwargs)
        etag = still_current(request, viewer, keys, parts)
        return not_modified(etag) if etag is not None else None
