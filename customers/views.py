"""The customer's screens: the search, the customer's page (顧客カルテ) and the 車検 date."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dealership.context_processors import PORTAL_APPS, app_hook

from . import permissions, selectors, services
from .forms import ShakenExpiryForm
from .models import Customer, Vehicle

# Where an app's section goes on the customer's page: a line of the customer
# card, a button beside the name, a card of the side column, or the main column.
SLOTS = ("facts", "actions", "side", "main")


def _get_customer(request: HttpRequest, pk: int) -> Customer:
    try:
        return selectors.get_customer_for_user(request.user, pk)
    except Customer.DoesNotExist:
        raise Http404 from None


def _sections(request: HttpRequest, customer: Customer) -> dict[str, list[str]]:
    """What the other apps know of the customer, each rendered by its own template.

    Every app that builds on customers may offer `panels.customer_panels(user,
    customer)`: a list of dicts with `slot` (one of SLOTS), `order` (place
    within the slot), `template` and the template's data. This app imports
    none of them (DESIGN.md layers); the wiring's app list finds them, as it
    finds the home page's panels.
    """
    panels = []
    for app in PORTAL_APPS:
        hook = app_hook(app, "panels", "customer_panels")
        if hook is not None:
            panels.extend(hook(request.user, customer))
    sections: dict[str, list[str]] = {slot: [] for slot in SLOTS}
    for panel in sorted(panels, key=lambda panel: panel.get("order", 0)):
        sections[panel["slot"]].append(render_to_string(panel["template"], {**panel, "customer": customer}, request))
    return sections


@login_required
@require_GET
def customer_search(request: HttpRequest) -> HttpResponse:
    term = request.GET.get("q", "").strip()[:50]
    return render(
        request,
        "customers/customer_search.html",
        {"q": term, "customers": selectors.search_customers(request.user, term) if term else []},
    )


@login_required
@require_GET
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _get_customer(request, pk)
    user = request.user
    vehicles = selectors.vehicles_of(customer)
    return render(
        request,
        "customers/customer_detail.html",
        {
            "customer": customer,
            "show_contact": permissions.can_see_customer_contact(user),
            "vehicles": vehicles,
            "editable_vehicles": {v.pk for v in vehicles if permissions.can_edit_shaken_expiry(user, v)},
            "sections": _sections(request, customer),
        },
    )


@login_required
@require_POST
def vehicle_shaken_expiry(request: HttpRequest, pk: int, vehicle_id: int) -> HttpResponse:
    customer = _get_customer(request, pk)
    try:
        vehicle = selectors.get_vehicle_of(customer, vehicle_id)
    except Vehicle.DoesNotExist:
        raise Http404 from None
    if not permissions.can_edit_shaken_expiry(request.user, vehicle):
        raise PermissionDenied
    form = ShakenExpiryForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("customers:customer_detail", customer.pk)
    try:
        services.set_shaken_expiry(vehicle, shaken_expiry=form.cleaned_data["shaken_expiry"], by=request.user)
    except services.CustomerError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Shaken expiry of %(vehicle)s saved.") % {"vehicle": vehicle})
    return redirect(f"{reverse('customers:customer_detail', args=[customer.pk])}#vehicles")
