from __future__ import annotations

from html import escape

from django import forms
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from customers.models import Vehicle
from dealership import dates
from dealership.forms import IdChoiceField, IdMultipleChoiceField
from dealership.ids import parse_id

from . import selectors
from .approvals import parse_estimate
from .images import process_photos
from .models import INTERNAL_KINDS, ApprovalRequest, JobKind, JobMessage, Priority, SalesLead, Status
from .services import JobError


class PeoplePicker(forms.SelectMultiple):
    """A <select multiple> of colleagues, written in Python.

    Django renders every <option> through two templates: for a branch's 60
    members that cost more than the rest of the job page together (`make
    bench`, issue 13). This writes the markup Django's templates write, with
    the same attributes (crispy's classes, `aria-describedby`) and escaping.
    """

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        selected = {str(v) for v in self.format_value(value)}
        options = "".join(
            f'<option value="{escape(str(key))}"{" selected" if str(key) in selected else ""}>'
            f"{escape(str(label))}</option>"
            for key, label in self.choices
        )
        attributes = flatatt(self.build_attrs(self.attrs, attrs))  # flatatt escapes the values
        return mark_safe(f'<select name="{escape(name)}"{attributes} multiple>{options}</select>')  # noqa: S308


class CustomerChoiceField(IdChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name}（{obj.name_kana}）" if obj.name_kana else obj.name


class JobCreateForm(forms.Form):
    """Intake: an existing or new customer, an existing or new vehicle, and the job."""

    customer = CustomerChoiceField(
        label=_("Customer"), queryset=None, required=False, empty_label=_("— new customer —")
    )
    new_customer_name = forms.CharField(label=_("New customer's name"), max_length=100, required=False)
    new_customer_kana = forms.CharField(label=_("Name in kana"), max_length=100, required=False)
    new_customer_phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    new_customer_email = forms.EmailField(label=_("E-mail"), required=False)
    vehicle = IdChoiceField(
        label=_("Vehicle"), queryset=Vehicle.objects.none(), required=False, empty_label=_("— new vehicle —")
    )
    new_vehicle_make = forms.CharField(label=_("Make"), max_length=50, required=False)
    new_vehicle_model = forms.CharField(label=_("Model"), max_length=80, required=False)
    new_vehicle_year = forms.IntegerField(label=_("Year"), min_value=1950, max_value=2100, required=False)
    new_vehicle_plate = forms.CharField(label=_("Plate number"), max_length=40, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=JobKind.choices, initial=JobKind.REPAIR)
    title = forms.CharField(label=_("Title"), max_length=200)
    customer_request = forms.CharField(
        label=_("Customer's request, in their words"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    promised_at = dates.DateTimeField(
        label=_("Promised time / due"),
        required=False,
        help_text=_("Required for delivery prep, accessory fitting and trade-in inspection."),
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Priority.choices, coerce=int, initial=Priority.NORMAL
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        customers = selectors.customers_for_new_job(user)
        self.fields["customer"].queryset = customers
        # The chosen customer comes from the request (POST, or ?customer= when
        # the vehicle list reloads): anything but a real id means "none yet".
        customer_id = parse_id(self.data.get("customer") or self.initial.get("customer"))
        # Validation accepts any customer of the branch; the select offers a
        # shortlist, and the search box above it finds the others (htmx).
        field = self.fields["customer"]
        field.widget.choices = [("", field.empty_label)] + [
            (customer.pk, field.label_from_instance(customer))
            for customer in selectors.customer_shortlist(user, selected=customer_id)
        ]
        vehicles = Vehicle.objects.filter(customer__in=customers)
        self.fields["vehicle"].queryset = vehicles.filter(customer_id=customer_id) if customer_id else vehicles.none()

    def clean(self):
        cleaned = super().clean()
        customer = cleaned.get("customer")
        if customer is None and not cleaned.get("new_customer_name") and "customer" not in self.errors:
            self.add_error("customer", _("Choose a customer or enter the new customer's name."))
        vehicle = cleaned.get("vehicle")
        new_vehicle = cleaned.get("new_vehicle_make") and cleaned.get("new_vehicle_model")
        if vehicle is None and not new_vehicle and "vehicle" not in self.errors:
            self.add_error("vehicle", _("Choose a vehicle or enter the new vehicle's make and model."))
        if vehicle is not None and customer is not None and vehicle.customer_id != customer.pk:
            self.add_error("vehicle", _("This vehicle does not belong to the chosen customer."))
        promised_at = cleaned.get("promised_at")
        if promised_at is not None and promised_at < timezone.now():
            self.add_error("promised_at", _("The promised time is in the past."))
        if cleaned.get("kind") in INTERNAL_KINDS and promised_at is None and "promised_at" not in self.errors:
            self.add_error("promised_at", _("Internal requests need a due time."))
        return cleaned


class StatusChangeForm(forms.Form):
    to = forms.ChoiceField(choices=Status.choices)
    note = forms.CharField(max_length=500, required=False)
    version = forms.IntegerField(min_value=1, max_value=2**31 - 1)
    # Moves back or aside are posted twice: first to the confirmation page, then with this set.
    confirmed = forms.BooleanField(required=False)


class AssignForm(forms.Form):
    technician = IdChoiceField(
        label=_("Technician"), queryset=User.objects.none(), required=False, empty_label=_("— unassigned —")
    )

    def __init__(self, *args, job, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["technician"].queryset = selectors.technicians_of_branch(job.branch_id)
        self.fields["technician"].initial = job.technician_id


class PromiseForm(forms.Form):
    promised_at = dates.DateTimeField(label=_("New promised time"))
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def clean_promised_at(self):
        value = self.cleaned_data["promised_at"]
        if value < timezone.now():
            raise forms.ValidationError(_("The promised time is in the past."))
        return value


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Camera photos for one message, checked together by repairs.images.process_photos.

    A refusal is a field error: the form comes back with everything else the
    user typed.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault(
            "widget", MultiplePhotoInput(attrs={"accept": "image/*", "capture": "environment", "multiple": True})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        return process_photos(files)


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=4000
    )
    kind = forms.ChoiceField(
        label=_("This is"), choices=JobMessage.Kind.choices, initial=JobMessage.Kind.NOTE, widget=forms.RadioSelect
    )
    mentions = IdMultipleChoiceField(
        label=_("Mention colleagues (@)"),
        queryset=User.objects.none(),
        required=False,
        widget=PeoplePicker(attrs={"size": 4}),
        help_text=_("They get a notification. You can also write @name (without spaces) in the message."),
    )
    photos = MultiplePhotoField(label=_("Photos"), required=False)

    def __init__(self, *args, job, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mentions"].queryset = User.objects.filter(branch_id=job.branch_id, is_active=True).order_by(
            "display_name"
        )

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("body") or "").strip() and not cleaned.get("photos") and "photos" not in self.errors:
            raise forms.ValidationError(_("Write a message or add a photo."))
        return cleaned


# --- Approvals, leads, the customer's status link ---


class ApprovalRequestForm(forms.Form):
    """Extra work found: what, why, the estimate (whole yen, tax included) and photos."""

    work = forms.CharField(label=_("Extra work needed"), max_length=200)
    reason = forms.CharField(
        label=_("Why (what you found)"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False
    )
    # Text, not a number input: "35,000" or full-width digits are what people
    # type on a Japanese phone keyboard; approvals.parse_estimate checks it.
    estimate_yen = forms.CharField(
        label=_("Estimate in yen, tax included"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("Whole yen, tax included, e.g. 35000."),
    )
    photos = MultiplePhotoField(label=_("Photos (optional)"), required=False)

    def clean_estimate_yen(self) -> int:
        try:
            return parse_estimate(self.cleaned_data["estimate_yen"])
        except JobError as error:
            raise forms.ValidationError(str(error)) from None


class ApprovalDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("The customer's answer"),
        choices=[
            ("approved", _("Approved")),
            ("declined", _("Declined")),
            ("unreachable", _("Could not reach (try again later)")),
        ],
        widget=forms.RadioSelect,
    )
    contact_method = forms.ChoiceField(label=_("How you contacted the customer"), choices=())
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), max_length=500, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact_method"].choices = ApprovalRequest.ContactMethod.choices
        self.fields["contact_method"].initial = ApprovalRequest.ContactMethod.PHONE


class LeadForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why this could interest sales"), choices=(), widget=forms.RadioSelect)
    note = forms.CharField(
        label=_("Note for sales"), widget=forms.Textarea(attrs={"rows": 2}), max_length=500, required=False
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = SalesLead.Reason.choices


class LeadUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=())
    outcome_note = forms.CharField(label=_("Outcome"), max_length=500, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = SalesLead.State.choices


class HandoverForm(forms.Form):
    version = forms.IntegerField(min_value=1, max_value=2**31 - 1)
