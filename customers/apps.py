from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers and vehicles")

    def ready(self) -> None:
        from dealership.notifications import register_visibility

        from . import permissions
        from .models import Customer

        # notify() tells only people who may open the customer's page, by the
        # page's own rule (the customer messages to come will target customers).
        register_visibility(Customer, permissions.can_see_customer)
