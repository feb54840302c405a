"""Project-wide response headers."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

PRIVATE_NO_STORE = "private, no-store"


class PrivatePagesMiddleware:
    """Keep signed-in pages out of every cache, the browser's back/forward history included.

    Every page a signed-in user gets is personal (their jobs, customers'
    phone numbers, notifications), and workshop tablets and showroom PCs are
    shared: once someone signs out, the next person must not find the pages in
    a proxy or the browser's disk cache. A view that chose its own
    Cache-Control (the polled screens send `no-store` with their ETag, photos
    may allow private caching) is left alone. Placed after
    AuthenticationMiddleware so `request.user` is known.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "Cache-Control" not in response:
            response["Cache-Control"] = PRIVATE_NO_STORE
        return response
