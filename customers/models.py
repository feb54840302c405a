"""Customers and their vehicles: the people both departments serve.

The two models moved here from the core (issue 18) without moving their rows:
they keep the tables, indexes and constraints they were created with
(`Meta.db_table`), and the migrations only changed Django's bookkeeping
(customers/migrations/0001_initial.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dealership.models import Branch, Language


class Customer(models.Model):
    """A customer of one branch; the sales owner (担当営業) owns the relationship."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="customers", verbose_name=_("branch"))
    name = models.CharField(_("name"), max_length=100)
    name_kana = models.CharField(_("name (kana)"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    language = models.CharField(_("preferred language"), max_length=5, choices=Language.choices, default=Language.JA)
    sales_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_customers",
        verbose_name=_("sales owner"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "dealership_customer"  # the table it was created with in the core
        ordering = ["name_kana", "name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [models.Index(fields=["branch", "name_kana"], name="dealership__branch__8332a6_idx")]

    def __str__(self) -> str:
        return self.name


class Vehicle(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="vehicles", verbose_name=_("customer")
    )
    make = models.CharField(_("make"), max_length=50)
    model = models.CharField(_("model"), max_length=80)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    plate_number = models.CharField(_("plate number"), max_length=40, blank=True, db_index=True)
    vin = models.CharField(_("VIN / chassis number"), max_length=40, blank=True)
    mileage = models.PositiveIntegerField(_("mileage (km)"), null=True, blank=True)
    shaken_expiry = models.DateField(_("shaken expiry"), null=True, blank=True)

    class Meta:
        db_table = "dealership_vehicle"  # the table it was created with in the core
        ordering = ["customer__name_kana", "make", "model"]
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")

    def __str__(self) -> str:
        plate = f" ({self.plate_number})" if self.plate_number else ""
        return f"{self.make} {self.model}{plate}"
