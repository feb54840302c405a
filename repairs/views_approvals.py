"""The customer's approval of extra work: the technician asks on the phone,
sales records the customer's answer, and "Approvals waiting for me" lists
what is still undecided (repairs.approvals holds the writes).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dealership.http import polled_screen

from . import permissions, selectors
from .approvals import AlreadyDecided, record_approval_decision, request_approval
from .forms import ApprovalDecisionForm, ApprovalRequestForm
from .models import ApprovalRequest
from .services import JobError
from .views_common import get_job_or_404, render_screen


def _get_approval(request: HttpRequest, approval_id: int) -> ApprovalRequest:
    """The request if the user may see its job, else 404."""
    approval = (
        ApprovalRequest.objects.select_related("job", "job__vehicle", "job__customer", "job__branch", "requested_by")
        .filter(pk=approval_id, job__in=selectors.jobs_visible_to(request.user))
        .first()
    )
    if approval is None:
        raise Http404
    selectors.attach_people(approval.job)
    return approval


@login_required
def approval_new(request: HttpRequest, pk: int) -> HttpResponse:
    """The technician's phone form: extra work, why, estimate, photos."""
    job = get_job_or_404(request, pk, people=True)
    if not permissions.can_request_approval(request.user, job):
        raise PermissionDenied(permissions.REFUSED_APPROVAL_REQUEST)
    form = ApprovalRequestForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            request_approval(job, by=request.user, **form.cleaned_data)
        except JobError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Approval requested. Sales will call the customer."))
            return redirect(job)
    status = 400 if request.method == "POST" else 200
    return render(request, "repairs/approvals/request_form.html", {"job": job, "form": form}, status=status)


@login_required
def approval_decide(request: HttpRequest, approval_id: int) -> HttpResponse:
    """Record the customer's answer (approved / declined / could not reach)."""
    approval = _get_approval(request, approval_id)
    job = approval.job
    if not permissions.can_decide_approval(request.user, job):
        raise PermissionDenied(permissions.REFUSED_APPROVAL_DECISION)
    form = ApprovalDecisionForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            record_approval_decision(approval, by=request.user, **form.cleaned_data)
        except AlreadyDecided as error:
            # Someone decided first: show their decision, refuse this one (409).
            messages.error(request, str(error))
            approval.refresh_from_db()
            status = 409
        except JobError as error:
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
    return render(request, "repairs/approvals/decide.html", context, status=400 if form.errors else status)


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

    return render_screen(request, selectors.approvals_screen, "repairs/approvals/list.html", build)
