"""What every repairs view module starts from: the permission-scoped fetch of
a job and the render of a polled screen.

A user who may not see a job gets 404 (selectors.jobs_visible_to); the
views then ask repairs.permissions what they may do with it (403).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from dealership.http import render_polled

from . import selectors
from .models import RepairJob


def get_job_or_404(request: HttpRequest, pk: int, *, people: bool = False) -> RepairJob:
    """The job if the user may see it, else 404; `people` loads the four people on it too."""
    try:
        job = selectors.get_job_for_user(request.user, pk)
    except RepairJob.DoesNotExist:
        raise Http404 from None
    return selectors.attach_people(job) if people else job


def render_screen(
    request: HttpRequest,
    keys_for: Callable,
    template: str,
    build: Callable[[], dict],
    page: dict | None = None,
    **url_kwargs,
) -> HttpResponse:
    """A polled screen (keys in selectors): 304 when unchanged, else a fresh render.

    htmx refreshes get the live fragment alone, a full load the whole page;
    both carry the same ETag. `build()` returns the live fragment's context
    and, under "shown", the jobs it shows, whose promised times set the
    ETag's deadline (or that deadline itself under "deadline", as the shared
    board and the running clocks work it out).
    """

    def render_fresh(etag_for: Callable[[int], str]) -> HttpResponse:
        context = build()
        deadline = context.pop("deadline") if "deadline" in context else selectors.deadline_of(context.pop("shown", ()))
        etag = etag_for(deadline)
        context["etag"] = etag.strip('"')
        if request.htmx:
            return render(request, f"{template}#live", context)
        return render(request, template, {**(page or {}), **context})

    return render_polled(request, keys_for, render_fresh, **url_kwargs)
