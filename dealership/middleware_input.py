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

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, QueryDict, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render

NUL = "\x00"


class RequestInputMiddleware:
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
