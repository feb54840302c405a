"""The project's middleware, in the order of settings.MIDDLEWARE.

- RequestInputMiddleware turns away request input no view can use (an
  oversized body, a NUL character) with a friendly page instead of a 500.
- PolledScreenMiddleware answers an unchanged refresh of a polled screen
  with `304` before any other work.
- PrivatePagesMiddleware keeps signed-in pages out of every cache.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, QueryDict, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.urls import Resolver404, resolve

from .http import not_modified
from .versions import cached_viewer, still_current

# --- Request input ------------------------------------------------------------------

NUL = "\x00"


class RequestInputMiddleware:
    """Refuse request input no view can use, with a friendly page instead of a 500.

    Two kinds of input are turned away before any view (or CSRF check) reads it:

    - a request body larger than MAX_REQUEST_BYTES (413), judged from
      Content-Length before a byte of it is read, so a 300 MB upload is never
      written to disk. The reverse proxy enforces the same cap in production
      (deploy/nginx.conf); this is the line for every other way in.
    - a NUL character anywhere in the path, a query or form value or key, or an
      uploaded file's name (400). PostgreSQL cannot store or even compare NUL
      ("A string literal cannot contain NUL"), no legitimate form sends one, and a
      search box would otherwise answer with a 500.

    Both checks run in `process_view`, after every middleware's request phase, so
    the page is rendered for the signed-in user in their language. Listed before
    CsrfViewMiddleware, whose `process_view` is the first to read the body.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A cookie with a NUL was not set by us (no browser sends one): treat it
        # as absent, or the session lookup would fail on PostgreSQL.
        if any(NUL in name or NUL in value for name, value in request.COOKIES.items()):
            request.COOKIES = {name: value for name, value in request.COOKIES.items() if NUL not in name + value}
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if declared_body_length(request) > settings.MAX_REQUEST_BYTES:
            return too_large(request)
        if NUL in request.path or has_nul(request.GET):
            return bad_request(request)
        if request.method in {"POST", "PUT", "PATCH"}:
            try:
                if has_nul(request.POST) or any(NUL in name for name in uploaded_names(request)):
                    return bad_request(request)
            except RequestDataTooBig:
                # Form fields beyond DATA_UPLOAD_MAX_MEMORY_SIZE: too large too.
                return too_large(request)
            except (TooManyFieldsSent, TooManyFilesSent, MultiPartParserError, UnreadablePostError):
                # Too many fields, a broken multipart body, a client gone mid-upload.
                return bad_request(request)
        return None


def declared_body_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def has_nul(data: QueryDict) -> bool:
    return any(NUL in key or any(NUL in value for value in values) for key, values in data.lists())


def uploaded_names(request: HttpRequest) -> list[str]:
    return [upload.name or "" for _field, uploads in request.FILES.lists() for upload in uploads]


def bad_request(request: HttpRequest) -> HttpResponse:
    return render(request, "400.html", status=400)


def too_large(request: HttpRequest) -> HttpResponse:
    # The client may still be sending: close the connection after the answer
    # instead of reading the rest of the body to keep it alive.
    response = render(request, "413.html", {"max_megabytes": settings.MAX_REQUEST_BYTES // (1024 * 1024)}, status=413)
    response["Connection"] = "close"
    return response


# --- Polled screens -----------------------------------------------------------------


class PolledScreenMiddleware:
    """Unchanged refreshes of the polled screens, answered before any other work.

    Every open screen asks every 5 s. When nothing it shows has changed, the
    answer is `304 Not Modified` computed from the session (in the cache) and the
    version tokens (in the cache): no database query, no user row, no template,
    none of the later middleware. Anything else — a changed screen, an unknown
    viewer, a full page load — goes on to the view as usual.

    Placed right after SessionMiddleware (it needs the session, nothing else).
    """

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


# --- Private pages ------------------------------------------------------------------

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
