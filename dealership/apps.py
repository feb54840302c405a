from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DealershipConfig(AppConfig):
    name = "dealership"
    verbose_name = _("Dealership")
