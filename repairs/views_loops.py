"""Screens of the cross-department loops: the customer's approval through the
sales rep, service → sales leads, "My requests", and the customer's own
status link (the one page of the portal that opens without signing in).

Same shape as repairs/views.py: each view starts with a permission-scoped
fetch (404 for what the user may not see, 403 for what they may see but not
do), validates a form, calls one service and redirects.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.signing import BadSignature, Signer
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dealership.http import polled_response, polled_screen, render_polled

from . import permissions, selectors, services
from .forms import ApprovalDecisionForm, ApprovalRequestForm, HandoverForm, LeadForm, LeadUpdateForm
from .models import STATUS_LINK_SALT, ApprovalRequest, CustomerStatusLink, SalesLead, Status
from .views import _get_job, _screen

# --- fetch helpers: 404 unless the user may see the object ---------------------


def _get_approval(request: HttpRequest, approval_id: int) -> ApprovalRequest:
    approval = (
        ApprovalRequest.objects.select_related("job", "job__vehicle", "job__customer", "job__branch", "requested_by")
        .filter(pk=approval_id, job__in=selectors.jobs_visible_to(request.user))
        .first()
    )
    if approval is None:
        raise Http404
    selectors.attach_people(approval.job)
    return approval


def _get_lead(request: HttpRequest, lead_id: int) -> SalesLead:
    lead = (
        selectors.leads_visible_to(request.user).select_related("job", "job__vehicle", "flagged_by").filter(pk=lead_id)
    )
    lead = lead.first()
    if lead is None:
        raise Http404
    return lead


# --- the job page's loops section (loaded after the page, then polled) ----------


@polled_screen(selectors.loops_screen)
@login_required
@require_GET
def job_loops(request: HttpRequest, pk: int) -> HttpResponse:
    """Approvals, leads and status links of one job; 304 while the job is unchanged."""
    job = _get_job(request, pk)
    user = request.user

    def build(etag_for) -> HttpResponse:
        selectors.attach_people(job)
        may_manage_links = permissions.can_manage_status_link(user, job)
        links = selectors.job_status_links(job) if may_manage_links else []
        live_links = [
            {"link": link, "url": request.build_absolute_uri(link.public_url), "expiry": link.expiry(job)}
            for link in links
            if link.is_live(job)
        ]
        for entry in live_links:
            entry["qr"] = _qr_data_uri(entry["url"])
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
        return render(request, "repairs/partials/job_loops.html", context)

    return render_polled(request, selectors.loops_screen, build, pk=pk)


def _qr_data_uri(url: str) -> str:
    """The QR code of a status link as an SVG data URI (the CSP allows img-src data:)."""
    import segno

    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)


# --- approvals ------------------------------------------------------------------


@login_required
def approval_new(request: HttpRequest, pk: int) -> HttpResponse:
    """The technician's phone form: extra work, why, estimate, photos."""
    job = _get_job(request, pk, people=True)
    if not permissions.can_request_approval(request.user, job):
        raise PermissionDenied(_("You may not ask for approval on this job."))
    form = ApprovalRequestForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_approval(job, by=request.user, **form.cleaned_data)
        except services.JobError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Approval requested. Sales will call the customer."))
            return redirect(job)
    status = 400 if request.method == "POST" else 200
    return render(request, "repairs/loops/approval_form.html", {"job": job, "form": form}, status=status)


@login_required
def approval_decide(request: HttpRequest, approval_id: int) -> HttpResponse:
    """Record the customer's answer (approved / declined / could not reach)."""
    approval = _get_approval(request, approval_id)
    job = approval.job
    if not permissions.can_decide_approval(request.user, job):
        raise PermissionDenied(_("Only the sales owner, an advisor or a manager records the customer's decision."))
    form = ApprovalDecisionForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.record_approval_decision(approval, by=request.user, **form.cleaned_data)
        except services.AlreadyDecided as error:
            # Someone decided first: show their decision, refuse this one (409).
            messages.error(request, str(error))
            approval.refresh_from_db()
            status = 409
        except services.JobError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The customer's decision was recorded."))
            return redirect(job)
    context = {
        "approval": approval,
        "job": job,
        "form": form,
        "show_contact": permissions.can_see_customer_contact(request.user),
    }
    return render(request, "repairs/loops/approval_decide.html", context, status=400 if form.errors else status)


@polled_screen(selectors.approvals_screen)
@login_required
@require_GET
def approvals(request: HttpRequest) -> HttpResponse:
    """Approvals waiting for me: polled, so a new request appears without a reload."""
    user = request.user
    compact = request.GET.get("compact") == "1"

    def build() -> dict:
        # Each request shows how long it has waited: render again at the next minute.
        return {"approvals": selectors.approvals_page(user), "compact": compact, "deadline": selectors.next_minute()}

    return _screen(request, selectors.approvals_screen, "repairs/loops/approvals.html", build)


# --- My requests (sales' internal requests to the workshop) ---------------------


@polled_screen(selectors.requests_screen)
@login_required
@require_GET
def my_requests(request: HttpRequest) -> HttpResponse:
    user = request.user

    def build() -> dict:
        now = timezone.now()
        open_jobs = selectors.my_requests(user)
        for job in open_jobs:
            job.at_risk = (
                not job.is_overdue
                and job.promised_at is not None
                and job.status not in (Status.READY,)
                and job.promised_at <= now + services.AT_RISK_WINDOW
            )
            job.may_hand_over = job.status == Status.READY and permissions.can_change_status(
                user, job, Status.DELIVERED
            )
        # A request turns "at risk" an hour before its due time and "overdue" at it.
        flips = [
            moment
            for job in open_jobs
            if job.promised_at is not None
            for moment in (job.promised_at - services.AT_RISK_WINDOW, job.promised_at)
        ]
        return {
            "open_jobs": open_jobs,
            "finished_jobs": selectors.my_requests(user, finished=True),
            "deadline": selectors.first_to_come(flips),
        }

    return _screen(request, selectors.requests_screen, "repairs/loops/my_requests.html", build)


@login_required
@require_POST
def handover(request: HttpRequest, pk: int) -> HttpResponse:
    """Sales confirms the car was handed over: ready → delivered through the one status door."""
    job = _get_job(request, pk, people=True)
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


# --- leads ----------------------------------------------------------------------


@login_required
def lead_new(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_job(request, pk, people=True)
    if not permissions.can_flag_lead(request.user, job):
        raise PermissionDenied(_("Only technicians and advisors flag leads, on jobs still in the workshop."))
    form = LeadForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.flag_sales_lead(job, by=request.user, **form.cleaned_data)
        except services.JobError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Lead sent to sales. You will hear what becomes of it."))
            return redirect(job)
    status = 400 if request.method == "POST" else 200
    return render(request, "repairs/loops/lead_form.html", {"job": job, "form": form}, status=status)


@login_required
@require_GET
def leads(request: HttpRequest) -> HttpResponse:
    user = request.user
    status = request.GET.get("status", "")
    status = status if status in SalesLead.State.values else ""
    mine = request.GET.get("mine") == "1"
    rows = [
        {"lead": lead, "form": LeadUpdateForm(initial={"status": lead.status, "outcome_note": lead.outcome_note})}
        if permissions.can_update_lead(user, lead)
        else {"lead": lead}
        for lead in selectors.leads_page(user, status=status, mine=mine)
    ]
    context = {"rows": rows, "status": status, "mine": mine, "states": SalesLead.State.choices}
    return render(request, "repairs/loops/leads.html", context)


@login_required
@require_POST
def lead_update(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = _get_lead(request, lead_id)
    if not permissions.can_update_lead(request.user, lead):
        raise PermissionDenied(_("Only the lead's sales owner or a manager updates it."))
    form = LeadUpdateForm(request.POST)
    if form.is_valid():
        try:
            services.update_lead(lead, by=request.user, **form.cleaned_data)
        except services.JobError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Lead updated."))
    else:
        messages.error(request, _("Choose a status from the list; the outcome note has at most 500 characters."))
    return redirect(lead)


# --- the customer's status link -------------------------------------------------


@login_required
@require_POST
def status_link_create(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_job(request, pk, people=True)
    if not permissions.can_manage_status_link(request.user, job):
        raise PermissionDenied(_("Only sales reps, advisors and managers share status links."))
    try:
        services.create_status_link(job, by=request.user)
    except services.JobError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Status link created: copy it or show the QR code to the customer."))
    return redirect(f"{job.get_absolute_url()}#status-link")


@login_required
@require_POST
def status_link_revoke(request: HttpRequest, pk: int, link_id: int) -> HttpResponse:
    job = _get_job(request, pk, people=True)
    if not permissions.can_manage_status_link(request.user, job):
        raise PermissionDenied(_("Only sales reps, advisors and managers manage status links."))
    link = CustomerStatusLink.objects.filter(pk=link_id, job=job).select_related("created_by").first()
    if link is None:
        raise Http404
    link.job = job
    try:
        services.revoke_status_link(link, by=request.user)
    except services.JobError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The link was revoked: it no longer opens."))
    return redirect(f"{job.get_absolute_url()}#status-link")


def mask_plate(plate: str) -> str:
    """品川 300 あ 12-34 → 品川 300 あ ••-34: the customer recognises their car, nobody else learns the plate."""
    parts = plate.split()
    if not parts:
        return ""
    serial = parts[-1]
    digits = sum(character.isdigit() for character in serial)
    seen, masked = 0, []
    for character in serial:
        if character.isdigit():
            seen += 1
            masked.append(character if seen > digits - 2 else "•")
        else:
            masked.append("•" if digits == 0 else character)
    parts[-1] = "".join(masked)
    return " ".join(parts)


def _rate_limited(request: HttpRequest) -> bool:
    """Per client address and minute, in the shared cache (every process sees one count)."""
    from allauth.account.adapter import get_adapter

    try:
        address = get_adapter().get_client_ip(request)
    except PermissionDenied:
        address = "unknown"
    digest = hashlib.sha256(address.encode()).hexdigest()[:24]
    key = f"repairs:status-page:{digest}:{int(time.time() // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=120)
        count = 1
    return count > settings.STATUS_PAGE_REQUESTS_PER_MINUTE


def _resolve_link(token: str) -> tuple[CustomerStatusLink | None, int]:
    """The live link a token names, or None and the status code of the friendly refusal."""
    try:
        value = Signer(salt=STATUS_LINK_SALT).unsign(token)
    except BadSignature:
        return None, 404
    job_id, _dot, public_id = value.partition(".")
    if not (job_id.isascii() and job_id.isdigit() and public_id):
        return None, 404
    link = (
        CustomerStatusLink.objects.select_related("job", "job__vehicle", "job__branch", "job__customer")
        .filter(public_id=public_id)
        .first()
    )
    if link is None or link.job_id != int(job_id):
        return None, 404
    if not link.is_live(link.job):
        return None, 410
    return link, 200


def _public(response: HttpResponse) -> HttpResponse:
    # The token is the key to the page: keep it out of referrers and search engines.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


EXPIRY_WARNING = timedelta(days=2)


def status_page(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's page: customer-facing status, model, masked plate, promise, branch.

    No login, the customer's language, polled like the staff screens so the
    status changes in front of them. Anything wrong with the link gets one
    friendly page (404 unknown or tampered, 410 expired or revoked), and
    every address is limited to STATUS_PAGE_REQUESTS_PER_MINUTE (429).
    """
    if request.method not in ("GET", "HEAD"):
        return _public(HttpResponse(status=405, headers={"Allow": "GET, HEAD"}))
    if _rate_limited(request):
        response = render(request, "repairs/loops/status_unavailable.html", {"busy": True}, status=429)
        response["Retry-After"] = "60"
        return _public(response)
    link, code = _resolve_link(token)
    if link is None:
        return _public(render(request, "repairs/loops/status_unavailable.html", {"busy": False}, status=code))
    job = link.job
    language = job.customer.language if job.customer.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    # The page's "viewer" is the link in its language; what it shows changes
    # with the job (job:<pk>: every job write goes through record_event) and
    # with the vehicle, the customer's language and the branch (branch:<id>).
    viewer = {"link": link.pk, "language": language}
    keys = [f"job:{job.pk}", f"branch:{job.branch_id}"]
    with translation.override(language):

        def build(etag_for) -> HttpResponse:
            expiry = link.expiry(job)
            context = {
                "status_label": job.get_customer_status_display(),
                "status_colour": job.customer_status_colour,
                "model": f"{job.vehicle.make} {job.vehicle.model}".strip(),
                "plate": mask_plate(job.vehicle.plate_number),
                "promised_at": job.promised_at,
                "branch_name": job.branch.name,
                "branch_phone": job.branch.phone,
                "updated_at": job.updated_at,
                "poll_url": request.path,
                "expires_soon": expiry is not None and expiry < timezone.now() + EXPIRY_WARNING,
                # "Stops working soon" appears, then the link stops: render again at each.
                "etag": etag_for(selectors.first_to_come([expiry - EXPIRY_WARNING, expiry] if expiry else [])).strip(
                    '"'
                ),
            }
            template = "repairs/loops/status_page.html"
            return render(request, f"{template}#live" if request.htmx else template, context)

        response = polled_response(request, viewer=viewer, keys=keys, parts=["status"], render=build)
        response["Content-Language"] = language
    return _public(response)
