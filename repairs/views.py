from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from customers.selectors import search_customers
from dealership.http import polled_screen, render_polled
from dealership.middleware import PRIVATE_NO_STORE

from . import permissions, selectors, services, views_status_links
from .board import board_for
from .forms import AssignForm, HandoverForm, JobCreateForm, MessageForm, PromiseForm, StatusChangeForm
from .models import MOVE_STYLES, Attachment, JobKind, Move, RepairJob, Status, move_kind
from .views_common import get_job_or_404, render_screen

PAGE_SIZE = 25


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
    return render_screen(request, selectors.list_screen(default_scope), "repairs/job_list.html", build, page)


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

    return render_screen(request, selectors.queue_screen, "repairs/my_queue.html", build)


@polled_screen(selectors.board_screen)
@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    def build() -> dict:
        columns, deadline = board_for(request.user)
        return {"columns": columns, "deadline": deadline}

    return render_screen(request, selectors.board_screen, "repairs/board.html", build)


@polled_screen(selectors.job_screen)
@login_required
@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _job_page(request, get_job_or_404(request, pk))


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
    response = render_screen(request, selectors.job_screen, "repairs/job_detail.html", build, page, pk=job.pk)
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
    job = get_job_or_404(request, pk)

    def render_thread(etag_for: Callable[[int], str]) -> HttpResponse:
        context = {"job": job, "thread": selectors.thread_messages(job), "thread_etag": etag_for(0).strip('"')}
        return render(request, "repairs/partials/thread.html", context)

    return render_polled(request, selectors.thread_screen, render_thread, pk=pk)


@login_required
@require_POST
def job_thread_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Remember that the viewer has read the thread (unread badges in their lists)."""
    services.mark_thread_read(get_job_or_404(request, pk), by=request.user)
    return HttpResponse(status=204)


@polled_screen(selectors.approvals_leads_screen)
@login_required
@require_GET
def job_approvals_leads(request: HttpRequest, pk: int) -> HttpResponse:
    """The job page's approvals, leads and status links, loaded after the page and
    then polled; 304 while the job is unchanged."""
    job = get_job_or_404(request, pk)
    user = request.user

    def build(etag_for) -> HttpResponse:
        selectors.attach_people(job)
        may_manage_links = permissions.can_manage_status_link(user, job)
        live_links = views_status_links.live_links(request, job) if may_manage_links else []
        # A live link stops being shown when it expires, and an open request
        # shows how long it has waited: render again then.
        approvals = selectors.job_approvals(job)
        deadlines = [int(entry["expiry"].timestamp()) + 1 for entry in live_links if entry["expiry"]]
        if any(approval.is_open for approval in approvals):
            deadlines.append(selectors.next_minute())
        context = {
            "job": job,
            "etag": etag_for(min(deadlines, default=0)).strip('"'),
            "approvals": approvals,
            "leads": selectors.job_leads(job),
            "live_links": live_links,
            "can_request_approval": permissions.can_request_approval(user, job)
            and Status.AWAITING_APPROVAL in job.allowed_next_statuses,
            "can_decide": permissions.can_decide_approval(user, job),
            "can_flag_lead": permissions.can_flag_lead(user, job),
            "can_manage_links": may_manage_links and job.status != Status.CANCELLED,
            "link_days": settings.STATUS_LINK_DAYS_AFTER_DELIVERY,
        }
        return render(request, "repairs/partials/job_approvals_leads.html", context)

    return render_polled(request, selectors.approvals_leads_screen, build, pk=pk)


@login_required
@require_GET
def attachment_file(request: HttpRequest, pk: int, attachment_id: int, variant: str) -> FileResponse:
    """A thread photo, served only to people who may see its job (photos are customer data).

    Read through the storage API, so it works the same on local disk and on
    object storage; no public media URL is needed.
    """
    job = get_job_or_404(request, pk)
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
    job = get_job_or_404(request, pk, people=True)
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
    job = get_job_or_404(request, pk, people=True)
    form = StatusChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a next status from the buttons."))
        return redirect(job)
    to = form.cleaned_data["to"]
    if not permissions.can_change_status(request.user, job, to):
        raise PermissionDenied(permissions.REFUSED_STATUS_MOVE)
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
    job = get_job_or_404(request, pk, people=True)
    try:
        # A user who may not claim it gets the service's refusal as a 403.
        services.claim_job(job, by=request.user)
    except services.JobError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(number)s is now yours.") % {"number": job.number})
    return redirect(job)


@login_required
@require_POST
def job_assign(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_job_or_404(request, pk, people=True)
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
    job = get_job_or_404(request, pk, people=True)
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
    term = request.GET.get("customer_search", "")
    matches = search_customers(request.user, term, limit=selectors.CUSTOMER_CHOICES_SHOWN)
    return render(request, "repairs/partials/customer_options.html", {"customers": matches})


# --- My requests: sales' internal requests to the workshop (PDI, accessories, trade-ins) ---


@polled_screen(selectors.requests_screen)
@login_required
@require_GET
def my_requests(request: HttpRequest) -> HttpResponse:
    user = request.user

    def build() -> dict:
        open_jobs = selectors.my_requests(user)
        for job in open_jobs:
            job.may_hand_over = job.status == Status.READY and permissions.can_change_status(
                user, job, Status.DELIVERED
            )
        return {
            "open_jobs": open_jobs,
            "finished_jobs": selectors.my_requests(user, finished=True),
            # A request turns "at risk" before its due time and "overdue" at it.
            "deadline": selectors.first_to_come(selectors.risk_changes(open_jobs)),
        }

    return render_screen(request, selectors.requests_screen, "repairs/my_requests.html", build)


@login_required
@require_POST
def handover(request: HttpRequest, pk: int) -> HttpResponse:
    """Sales confirms the car was handed over: ready → delivered through the one status door."""
    job = get_job_or_404(request, pk, people=True)
    if not permissions.can_change_status(request.user, job, Status.DELIVERED):
        raise PermissionDenied(_("Only the car's sales owner confirms the hand-over."))
    form = HandoverForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Reload the page and try again."))
        return redirect("repairs:my_requests")
    try:
        services.change_status(job, to=Status.DELIVERED, by=request.user, expected_version=form.cleaned_data["version"])
    except services.JobError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(number)s was handed over.") % {"number": job.number})
    return redirect("repairs:my_requests")
