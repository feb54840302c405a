from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next_url(request: HttpRequest, default: str) -> str:
    """The `next` the form posted when it points into this site, else `default`."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(default)


def etag_matches(request: HttpRequest, etag: str) -> bool:
    """True when the client (htmx polling) already holds this version."""
    sent = request.headers.get("If-None-Match", "")
    return bool(sent) and etag.strip('"') in {tag.strip().removeprefix("W/").strip('"') for tag in sent.split(",")}


def conditional_response(request: HttpRequest, etag: str, render: Callable[[], HttpResponse]) -> HttpResponse:
    """The polled screens' one mechanism: 304 when the client holds `etag`, else `render()`.

    `no-store` keeps the browser from answering from its cache, so htmx sees
    the 304 itself (and, configured in base.html, leaves the fragment alone).
    """
    response = HttpResponseNotModified() if etag_matches(request, etag) else render()
    response["ETag"] = etag
    response["Cache-Control"] = "no-store"
    return response
