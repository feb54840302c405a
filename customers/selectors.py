"""Reads of customers and vehicles, always scoped to what the user may see.

`search_customers` is the one customer search: the search page and the
intake form's customer finder (repairs) both use it.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User
from dealership.scopes import scope_to

from .models import Customer, Vehicle

SEARCH_RESULTS = 30


def customers_visible_to(user: User) -> QuerySet[Customer]:
    return scope_to(Customer.objects.all(), user)


def get_customer_for_user(user: User, pk: int) -> Customer:
    """The customer, or Customer.DoesNotExist when the user may not see them (→ 404)."""
    return customers_visible_to(user).select_related("branch", "sales_owner").get(pk=pk)


def get_vehicle_of(customer: Customer, pk: int) -> Vehicle:
    """One of the customer's vehicles, or Vehicle.DoesNotExist (another customer's is not theirs: 404)."""
    vehicle = customer.vehicles.get(pk=pk)
    vehicle.customer = customer  # already loaded: the permission check reads its branch
    return vehicle


def vehicles_of(customer: Customer) -> list[Vehicle]:
    """The customer's vehicles, the next 車検 first."""
    vehicles = list(customer.vehicles.order_by("shaken_expiry", "pk"))
    for vehicle in vehicles:
        vehicle.customer = customer  # no query per vehicle when a permission reads it
    return vehicles


def search_customers(user: User, term: str, *, limit: int = SEARCH_RESULTS) -> list[Customer]:
    """Customers by name (kanji or kana), phone or plate, by kana order; the first `limit` without a term."""
    term = term.strip()[:50]
    qs = customers_visible_to(user).select_related("branch").order_by("name_kana", "name")
    if term:
        qs = qs.filter(
            Q(name__icontains=term)
            | Q(name_kana__icontains=term)
            | Q(phone__icontains=term)
            | Q(vehicles__plate_number__icontains=term)
        ).distinct()
    return list(qs[:limit])
