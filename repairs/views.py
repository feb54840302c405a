from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import permissions, selectors, services
from .forms import AssignForm, JobCreateForm, PromiseForm, StatusChangeForm
from .models import JobKind, RepairJob, Status

PAGE_SIZE = 25


def _get_job(request: HttpRequest, pk: int) -> RepairJob:
    try:
        return selectors.get_job_for_user(request.user, pk)
    except RepairJob.DoesNotExist:
        raise Http404 from None


def _not_modified(request: HttpRequest, etag: str) -> bool:
    """True when the client (htmx polling) already holds this version of the fragment."""
    sent = request.headers.get("If-None-Match", "")
    return bool(sent) and etag.strip('"') in {tag.strip().removeprefix("W/").strip('"') for tag in sent.split(",")}


def _polled(request: HttpRequest, etag: str, template: str, context: dict) -> HttpResponse:
    """Render a polled screen; htmx refreshes get the fragment, or 304 when unchanged."""
    if request.htmx and _not_modified(request, etag):
        response = HttpResponseNotModified()
    else:
        context["etag"] = etag.strip('"')
        if request.htmx:
            template = f"{template}#live"
        response = render(request, template, context)
    response["ETag"] = etag
    response["Cache-Control"] = "no-store"
    return response


def _job_list(request: HttpRequest, *, default_scope: str, title: str) -> HttpResponse:
    filters = selectors.JobFilters.from_query(request.GET, default_scope=default_scope)
    query = urlencode(filters.as_query())
    etag = selectors.board_etag(request.user, "list", request.GET.urlencode())
    if request.htmx and _not_modified(request, etag):
        return _polled(request, etag, "", {})
    page = Paginator(selectors.filtered_jobs(request.user, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "query_string": query,
        "title": title,
        "statuses": Status.choices,
        "kinds": JobKind.choices,
        "can_create": permissions.can_create_job(request.user),
        "show_contact": permissions.can_see_customer_contact(request.user),
    }
    return _polled(request, etag, "repairs/job_list.html", context)


@login_required
@require_GET
def my_cars(request: HttpRequest) -> HttpResponse:
    return _job_list(request, default_scope="mine", title=_("My customers' cars"))


@login_required
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    return _job_list(request, default_scope="branch", title=_("All jobs"))


@login_required
@require_GET
def my_queue(request: HttpRequest) -> HttpResponse:
    etag = selectors.board_etag(request.user, "queue")
    if request.htmx and _not_modified(request, etag):
        return _polled(request, etag, "", {})
    mine, unassigned = selectors.technician_queue(request.user)
    context = {"mine": mine, "unassigned": unassigned, "is_technician": request.user.is_technician}
    return _polled(request, etag, "repairs/my_queue.html", context)


@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    etag = selectors.board_etag(request.user, "board")
    if request.htmx and _not_modified(request, etag):
        return _polled(request, etag, "", {})
    return _polled(request, etag, "repairs/board.html", {"columns": selectors.board_columns(request.user)})


@login_required
@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_job(request, pk)
    etag = selectors.board_etag(request.user, "job", str(job.pk), str(job.version))
    if request.htmx and _not_modified(request, etag):
        return _polled(request, etag, "", {})
    user = request.user
    next_statuses = [
        (status, Status(status).label)
        for status in job.allowed_next_statuses
        if permissions.can_change_status(user, job, status)
    ]
    context = {
        "job": job,
        "next_statuses": next_statuses,
        "timeline": job.status_changes.select_related("by"),
        "promise_changes": job.promise_changes.select_related("by"),
        "can_claim": permissions.can_claim(user, job),
        "can_assign": permissions.can_assign(user, job),
        "can_set_promise": permissions.can_set_promise(user, job),
        "show_contact": permissions.can_see_customer_contact(user),
    }
    if context["can_assign"]:
        context["assign_form"] = AssignForm(job=job)
    if context["can_set_promise"]:
        context["promise_form"] = PromiseForm(initial={"promised_at": job.promised_at})
    return _polled(request, etag, "repairs/job_detail.html", context)


@login_required
@require_POST
def job_status(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_job(request, pk)
    form = StatusChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a next status from the buttons."))
        return redirect(job)
    to = form.cleaned_data["to"]
    if not permissions.can_change_status(request.user, job, to):
        raise PermissionDenied(_("You may not move this job to that status."))
    try:
        services.change_status(
            job, to=to, by=request.user, note=form.cleaned_data["note"], expected_version=form.cleaned_data["version"]
        )
    except services.JobError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("%(number)s is now “%(status)s”.") % {"number": job.number, "status": job.get_status_display()}
        )
    return redirect(job)


@login_required
@require_POST
def job_claim(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_job(request, pk)
    if not permissions.can_claim(request.user, job):
        raise PermissionDenied(_("Only a technician can claim an unassigned job."))
    try:
        services.claim_job(job, by=request.user)
    except services.JobError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(number)s is now yours.") % {"number": job.number})
    return redirect(job)


@login_required
@require_POST
def job_assign(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_job(request, pk)
    if not permissions.can_assign(request.user, job):
        raise PermissionDenied
    form = AssignForm(request.POST, job=job)
    if form.is_valid():
        services.assign_technician(job, technician=form.cleaned_data["technician"], by=request.user)
        messages.success(request, _("Technician saved."))
    else:
        messages.error(request, _("Choose an active technician of this branch."))
    return redirect(job)


@login_required
@require_POST
def job_promise(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_job(request, pk)
    if not permissions.can_set_promise(request.user, job):
        raise PermissionDenied
    form = PromiseForm(request.POST)
    if form.is_valid():
        try:
            services.change_promised_time(job, by=request.user, **form.cleaned_data)
        except services.JobError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Promised time changed."))
        return redirect(job)
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect(job)


@login_required
def job_create(request: HttpRequest) -> HttpResponse:
    if not permissions.can_create_job(request.user):
        raise PermissionDenied(_("Technicians report work through their queue; ask an advisor to open a job."))
    form = JobCreateForm(request.POST or None, user=request.user, initial={"customer": request.GET.get("customer")})
    if request.method == "POST" and form.is_valid():
        try:
            job = services.intake(by=request.user, data=form.cleaned_data)
        except services.JobError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Job %(number)s was created.") % {"number": job.number})
            return redirect(job)
    return render(request, "repairs/job_create.html", {"form": form})


@login_required
@require_GET
def job_create_vehicles(request: HttpRequest) -> HttpResponse:
    """The vehicle choices of the customer picked in the intake form (htmx)."""
    if not permissions.can_create_job(request.user):
        raise PermissionDenied
    form = JobCreateForm(initial={"customer": request.GET.get("customer")}, user=request.user)
    return render(request, "repairs/job_create.html#vehicle-field", {"form": form})


@login_required
@require_GET
def bench_floor(request: HttpRequest) -> HttpResponse:
    """The benchmark's floor: a signed-in request that runs `SELECT 1` and nothing else."""
    if not settings.BENCHMARK_VIEWS:
        raise Http404
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
