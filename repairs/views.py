from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dealership.http import polled_screen, render_polled
from dealership.middleware import PRIVATE_NO_STORE

from . import permissions, selectors, services
from .board import board_for
from .forms import AssignForm, JobCreateForm, MessageForm, PromiseForm, StatusChangeForm
from .models import MOVE_STYLES, Attachment, JobKind, Move, RepairJob, Status, move_kind

PAGE_SIZE = 25


def _get_job(request: HttpRequest, pk: int, *, people: bool = False) -> RepairJob:
    try:
        job = selectors.get_job_for_user(request.user, pk)
    except RepairJob.DoesNotExist:
        raise Http404 from None
    return selectors.attach_people(job) if people else job


def _screen(
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

    def render_screen(etag_for: Callable[[int], str]) -> HttpResponse:
        context = build()
        deadline = context.pop("deadline") if "deadline" in context else selectors.deadline_of(context.pop("shown", ()))
        etag = etag_for(deadline)
        context["etag"] = etag.strip('"')
        if request.htmx:
            return render(request, f"{template}#live", context)
        return render(request, template, {**(page or {}), **context})

    return render_polled(request, keys_for, render_screen, **url_kwargs)


def _job_list(request: HttpRequest, *, default_scope: str, title: str) -> HttpResponse:
    user = request.user
    filters = selectors.JobFilters.from_query(request.GET, default_scope=default_scope)
    page_number = request.GET.get("page", "1")

    def build() -> dict:
        page = Paginator(selectors.filtered_jobs(user, filters), PAGE_SIZE).get_page(page_number)
        return {
            "page": page,
            "filters": filters,
            "query_string": urlencode(filters.as_query()),
            "shown": page.object_list,
        }

    page = {
        "filters": filters,
        "title": title,
        "statuses": Status.choices,
        "kinds": JobKind.choices,
        "can_create": permissions.can_create_job(user),
    }
    return _screen(request, selectors.list_screen(default_scope), "repairs/job_list.html", build, page)


@polled_screen(selectors.list_screen("mine"))
@login_required
@require_GET
def my_cars(request: HttpRequest) -> HttpResponse:
    return _job_list(request, default_scope="mine", title=_("My customers' cars"))


@polled_screen(selectors.list_screen("branch"))
@login_required
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    return _job_list(request, default_scope="branch", title=_("All jobs"))


@polled_screen(selectors.queue_screen)
@login_required
@require_GET
def my_queue(request: HttpRequest) -> HttpResponse:
    user = request.user

    def build() -> dict:
        mine, mine_count, unassigned, unassigned_count = selectors.technician_queue(user)
        return {
            "mine": mine,
            "mine_count": mine_count,
            "unassigned": unassigned,
            "unassigned_count": unassigned_count,
            "may_claim": permissions.works_from_queue(user),
            "shown": [*mine, *unassigned],
        }

    return _screen(request, selectors.queue_screen, "repairs/my_queue.html", build)


@polled_screen(selectors.board_screen)
@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    def build() -> dict:
        columns, deadline = board_for(request.user)
        return {"columns": columns, "deadline": deadline}

    return _screen(request, selectors.board_screen, "repairs/board.html", build)


@polled_screen(selectors.job_screen)
@login_required
@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _job_page(request, _get_job(request, pk))


def _job_page(request: HttpRequest, job: RepairJob, *, message_form: MessageForm | None = None, status: int = 200):
    user = request.user

    def build() -> dict:
        selectors.attach_people(job)
        moves = [_move(job, to) for to in job.allowed_next_statuses if permissions.can_change_status(user, job, to)]
        return {
            "job": job,
            "forward_moves": [move for move in moves if move["kind"] == Move.FORWARD],
            "other_moves": [move for move in moves if move["kind"] != Move.FORWARD],
            "timeline": selectors.job_timeline(job),
            "can_claim": permissions.can_claim(user, job),
            "shown": [job],
        }

    page = {"job": job}
    if not request.htmx:
        selectors.attach_people(job)
        page.update(
            can_assign=permissions.can_assign(user, job),
            can_set_promise=permissions.can_set_promise(user, job),
            show_contact=permissions.can_see_customer_contact(user),
            message_form=message_form or MessageForm(job=job),
        )
        if page["can_assign"]:
            page["assign_form"] = AssignForm(job=job)
        if page["can_set_promise"]:
            page["promise_form"] = PromiseForm(initial={"promised_at": job.promised_at})
    response = _screen(request, selectors.job_screen, "repairs/job_detail.html", build, page, pk=job.pk)
    if status != 200 and response.status_code == 200:
        response.status_code = status
    return response


def _move(job: RepairJob, to: str) -> dict:
    kind = move_kind(job.status, to)
    button, icon = MOVE_STYLES[kind]
    return {"to": to, "label": Status(to).label, "kind": kind, "button": button, "icon": icon}


@polled_screen(selectors.thread_screen)
@login_required
@require_GET
def job_thread(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's thread, polled by htmx: 304 while nobody posted.

    Reading it writes nothing: the fragment itself asks to be marked read
    with a POST (job_thread_read) when it arrives.
    """
    job = _get_job(request, pk)

    def render_thread(etag_for: Callable[[int], str]) -> HttpResponse:
        context = {"job": job, "thread": selectors.thread_messages(job), "thread_etag": etag_for(0).strip('"')}
        return render(request, "repairs/partials/thread.html", context)

    return render_polled(request, selectors.thread_screen, render_thread, pk=pk)


@login_required
@require_POST
def job_thread_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Remember that the viewer has read the thread (unread badges in their lists)."""
    services.mark_thread_read(_get_job(request, pk), by=request.user)
    return HttpResponse(status=204)


@login_required
@require_GET
def attachment_file(request: HttpRequest, pk: int, attachment_id: int, variant: str) -> FileResponse:
    """A thread photo, served only to people who may see its job (photos are customer data).

    Read through the storage API, so it works the same on local disk and on
    object storage; no public media URL is needed.
    """
    job = _get_job(request, pk)
    attachment = Attachment.objects.filter(pk=attachment_id, message__job=job).first()
    stored = getattr(attachment, "thumbnail" if variant == "thumb" else "image", None)
    if not stored:
        raise Http404
    response = FileResponse(stored.open("rb"), content_type="image/jpeg")
    # Like every signed-in page (dealership.middleware): workshop tablets are
    # shared, and a customer's car must not stay in the browser's cache after
    # sign-out. The thread asks again only when it changes, and a thumbnail is
    # a few kilobytes.
    response["Cache-Control"] = PRIVATE_NO_STORE
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def job_message(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_job(request, pk, people=True)
    if not permissions.can_post_message(request.user, job):
        raise PermissionDenied
    form = MessageForm(request.POST, request.FILES, job=job)
    if form.is_valid():
        try:
            services.post_message(job, by=request.user, **form.cleaned_data)
        except services.JobError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Message posted."))
            return redirect(f"{job.get_absolute_url()}#thread")
    return _job_page(request, job, message_form=form, status=400)


@login_required
@require_POST
def job_status(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_job(request, pk, people=True)
    form = StatusChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a next status from the buttons."))
        return redirect(job)
    to = form.cleaned_data["to"]
    if not permissions.can_change_status(request.user, job, to):
        raise PermissionDenied(_("You may not move this job to that status."))
    if move_kind(job.status, to) != Move.FORWARD and not form.cleaned_data["confirmed"]:
        # A move back or aside is confirmed on its own page: a stale page or a
        # stray tap never sends a finished car back into work.
        return render(request, "repairs/confirm_move.html", {"job": job, "move": _move(job, to), "form": form})
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
    job = _get_job(request, pk, people=True)
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
    job = _get_job(request, pk, people=True)
    if not permissions.can_assign(request.user, job):
        raise PermissionDenied
    form = AssignForm(request.POST, job=job)
    try:
        if not form.is_valid():
            raise services.JobError(_("Choose an active technician of this branch."))
        services.assign_technician(job, technician=form.cleaned_data["technician"], by=request.user)
    except services.JobError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Technician saved."))
    return redirect(job)


@login_required
@require_POST
def job_promise(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_job(request, pk, people=True)
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
            job = services.intake(by=request.user, **form.cleaned_data)
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
def job_create_customers(request: HttpRequest) -> HttpResponse:
    """Customer options matching the intake form's search box (htmx)."""
    if not permissions.can_create_job(request.user):
        raise PermissionDenied
    matches = selectors.search_customers(request.user, request.GET.get("customer_search", ""))
    return render(request, "repairs/partials/customer_options.html", {"customers": matches})
