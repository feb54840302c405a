"""Writes of customers and vehicles. Each is one door: check, validate, save
only what changed, and tell the polled screens that show it."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied

from accounts.models import User
from dealership import dates, versions

from . import permissions
from .models import Vehicle


class CustomerError(Exception):
    """A refused write; `str(error)` is the message for the user."""


def set_shaken_expiry(vehicle: Vehicle, *, shaken_expiry: date | None, by: User) -> Vehicle:
    """Record the vehicle's next statutory inspection date (車検満了日); sales plan calls around it."""
    if not permissions.can_edit_shaken_expiry(by, vehicle):
        raise PermissionDenied
    if shaken_expiry is not None and not dates.is_in_range(shaken_expiry):
        raise CustomerError(dates.OUT_OF_RANGE % dates.RANGE)
    if vehicle.shaken_expiry == shaken_expiry:
        return vehicle
    vehicle.shaken_expiry = shaken_expiry
    vehicle.save(update_fields=["shaken_expiry"])
    # The date shows on the customer page only (not polled): this bumps nothing
    # until a polled screen shows it (dealership.versions.VEHICLE_SHOWN).
    versions.vehicle_changed(vehicle, ["shaken_expiry"])
    return vehicle
