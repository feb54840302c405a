"""The two reference views of `make bench` and `make bench-capacity`.

Wired in dealership/urls.py only when settings.BENCHMARK_VIEWS is on (the
benchmarks set it for the server they start); a production URLconf has no
such routes. Each screen's speed is reported as a ratio to these floors,
measured in the same run on the same server, so the figures travel between
machines better than raw requests per second.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET


def _select_one() -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def bench_bare_floor(request: HttpRequest) -> HttpResponse:
    """Anonymous, no session cookie, one `SELECT 1`: the middleware stack and one query, nothing else."""
    return _select_one()


@login_required
@require_GET
def bench_floor(request: HttpRequest) -> HttpResponse:
    """Signed in: the session and user lookups every screen pays, then `SELECT 1`."""
    return _select_one()


def urlpatterns() -> list[URLPattern]:
    """The floors' routes, or none at all unless settings.BENCHMARK_VIEWS is on."""
    if not settings.BENCHMARK_VIEWS:
        return []
    return [
        path("bench/floor/", bench_floor, name="bench_floor"),
        path("bench/bare-floor/", bench_bare_floor, name="bench_bare_floor"),
    ]
