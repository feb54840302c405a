"""Who may see and change customers and vehicles, in one place (DESIGN.md matrix).

Everyone sees the customers of their own branch unless they see all branches
(dealership.scopes). A user who may not see a customer gets 404, one who may
see but not act gets 403. Repairs and feedback ask the contact rule here.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from dealership.scopes import sees_row

# Statutory-inspection dates are kept by the people who plan calls and bookings.
VEHICLE_EDITORS = frozenset({Role.SALES_REP, Role.SERVICE_ADVISOR, Role.MANAGER})


def can_use_customer_pages(user: User) -> bool:
    """The search and the customer's page are for staff of a branch (or of all branches), both departments."""
    return bool(user.is_authenticated and (user.branch_id or user.sees_all_branches))


def can_see_customer(user: User, customer) -> bool:
    return sees_row(user, customer)


def can_see_customer_contact(user: User) -> bool:
    """Phone and e-mail: everyone but technicians, who talk to customers through the sales owner."""
    return user.is_authenticated and user.role != Role.TECHNICIAN


def can_edit_shaken_expiry(user: User, vehicle) -> bool:
    return can_see_customer(user, vehicle.customer) and user.role in VEHICLE_EDITORS


def navigation_items(user: User) -> list[dict[str, Any]]:
    if not can_use_customer_pages(user):
        return []
    return [
        {
            "url": reverse("customers:customer_search"),
            # The wiring names this menu "Customers": the item says what it does.
            "label": _("Find a customer"),
            "icon": "person-vcard",
            "name": "customers",
        },
    ]
