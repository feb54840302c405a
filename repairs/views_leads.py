"""Service → sales leads: the workshop flags one on a job, sales says what
became of it (repairs.leads holds the writes)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import permissions, selectors
from .forms import LeadForm, LeadUpdateForm
from .leads import flag_sales_lead, update_lead
from .models import SalesLead
from .services import JobError
from .views_common import get_job_or_404


def _get_lead(request: HttpRequest, lead_id: int) -> SalesLead:
    """The lead if the user may see it, else 404."""
    lead = (
        selectors.leads_visible_to(request.user)
        .select_related("job", "job__vehicle", "flagged_by")
        .filter(pk=lead_id)
        .first()
    )
    if lead is None:
        raise Http404
    return lead


@login_required
def lead_new(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_job_or_404(request, pk, people=True)
    if not permissions.can_flag_lead(request.user, job):
        raise PermissionDenied(permissions.REFUSED_LEAD_FLAG)
    form = LeadForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            flag_sales_lead(job, by=request.user, **form.cleaned_data)
        except JobError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Lead sent to sales. You will hear what becomes of it."))
            return redirect(job)
    status = 400 if request.method == "POST" else 200
    return render(request, "repairs/leads/flag_form.html", {"job": job, "form": form}, status=status)


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
    return render(request, "repairs/leads/list.html", context)


@login_required
@require_POST
def lead_update(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = _get_lead(request, lead_id)
    if not permissions.can_update_lead(request.user, lead):
        raise PermissionDenied(permissions.REFUSED_LEAD_UPDATE)
    form = LeadUpdateForm(request.POST)
    if form.is_valid():
        try:
            update_lead(lead, by=request.user, **form.cleaned_data)
        except JobError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Lead updated."))
    else:
        messages.error(request, _("Choose a status from the list; the outcome note has at most 500 characters."))
    return redirect(lead)
