from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dealership import dates


class ShakenExpiryForm(forms.Form):
    shaken_expiry = dates.DateField(label=_("Shaken expiry (車検満了日)"), required=False)
