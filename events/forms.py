from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Department, Role, User
from dealership import dates
from dealership.forms import IdChoiceField, IdMultipleChoiceField
from dealership.models import Branch
from dealership.scopes import scope_to

from . import selectors, services
from .models import RSVP, EventKind, TeamEvent

PAIR_ROWS = 4


class StaffChoiceField(IdChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.display_name}（{obj.get_department_display()}）"


class StaffMultipleChoiceField(IdMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.display_name}（{obj.get_department_display()}）"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MaterialsField(forms.FileField):
    """Files for the event (slides, checklists); each is checked by services.check_material."""

    MAX_FILES = 5

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        if len(files) > self.MAX_FILES:
            raise forms.ValidationError(_("Add at most %(count)d files at a time.") % {"count": self.MAX_FILES})
        errors = []
        for upload in files:
            try:
                services.check_material(upload)
            except services.EventError as error:
                errors.append(str(error))
        if errors:
            raise forms.ValidationError(errors)
        return files


class EventForm(forms.Form):
    """Plan or change an event; for job shadowing, up to PAIR_ROWS visitor–host pairs."""

    kind = forms.ChoiceField(label=_("Kind"), choices=EventKind.choices, initial=EventKind.MEETING)
    title = forms.CharField(label=_("Title"), max_length=200)
    branch = IdChoiceField(label=_("Branch"), queryset=Branch.objects.all(), required=False)
    starts_at = dates.DateTimeField(label=_("Starts"))
    ends_at = dates.DateTimeField(label=_("Ends"))
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    agenda = forms.CharField(label=_("Agenda"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    invited_departments = forms.MultipleChoiceField(
        label=_("Invite departments"),
        choices=Department.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Everyone of these departments at the branch is invited."),
    )
    invitees = StaffMultipleChoiceField(
        label=_("Invite people"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    materials = MaterialsField(
        label=_("Materials"),
        required=False,
        help_text=_("Slides, documents, spreadsheets, PDFs or pictures, up to 20 MB each."),
    )

    def __init__(self, *args, user: User, event: TeamEvent | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user, self.event = user, event
        if event is not None or not user.sees_all_branches:
            del self.fields["branch"]
        else:
            self.fields["branch"].initial = user.branch_id
        staff = User.objects.filter(is_active=True).order_by("department", "display_name")
        # A new event invites the planner's branches; an existing one, its own branch.
        staff = scope_to(staff, user) if event is None else staff.filter(branch_id=event.branch_id)
        self.fields["invitees"].queryset = staff
        for index in range(PAIR_ROWS):
            self.fields[f"visitor_{index}"] = StaffChoiceField(
                label=_("Visitor %(number)d") % {"number": index + 1}, queryset=staff, required=False
            )
            self.fields[f"host_{index}"] = StaffChoiceField(
                label=_("Host %(number)d (other department)") % {"number": index + 1}, queryset=staff, required=False
            )

    @property
    def pair_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"visitor_{index}"], self[f"host_{index}"]) for index in range(PAIR_ROWS)]

    def clean(self):
        cleaned = super().clean()
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", _("The event must end after it starts."))
        pairs = []
        for index in range(PAIR_ROWS):
            visitor, host = cleaned.get(f"visitor_{index}"), cleaned.get(f"host_{index}")
            if bool(visitor) != bool(host):
                self.add_error(
                    f"host_{index}" if visitor else f"visitor_{index}", _("Choose both a visitor and a host.")
                )
            elif visitor and host:
                pairs.append(services.Pair(visitor=visitor, host=host))
        if pairs and cleaned.get("kind") != EventKind.SHADOWING:
            self.add_error("kind", _("Only job shadowing pairs visitors with hosts."))
        cleaned["pairs"] = pairs
        return cleaned

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        arguments = {
            name: data[name]
            for name in ("kind", "title", "starts_at", "ends_at", "place", "agenda", "invited_departments", "materials")
        }
        arguments["invitees"] = list(data["invitees"])
        arguments["pairs"] = data["pairs"]
        return arguments

    @classmethod
    def initial_for(cls, event: TeamEvent) -> dict:
        participants = selectors.event_participants(event)
        initial = {
            "kind": event.kind,
            "title": event.title,
            "starts_at": event.starts_at,
            "ends_at": event.ends_at,
            "place": event.place,
            "agenda": event.agenda,
            "invited_departments": event.invited_departments,
            "invitees": [p.user_id for p in participants if p.invited and p.personally_invited and p.host_id is None],
        }
        pairs = [p for p in participants if p.invited and p.host_id]
        for index, pair in enumerate(pairs[:PAIR_ROWS]):
            initial[f"visitor_{index}"] = pair.user_id
            initial[f"host_{index}"] = pair.host_id
        return initial


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why? (the invitees are told)"), max_length=300, required=False)


class RsvpForm(forms.Form):
    answer = forms.ChoiceField(choices=[(value, label) for value, label in RSVP.choices if value != RSVP.NONE])


class AttendanceForm(forms.Form):
    attendees = StaffMultipleChoiceField(
        label=_("Who came"), queryset=User.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    minutes = forms.CharField(
        label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 6}), required=False, max_length=20000
    )

    def __init__(self, *args, event: TeamEvent, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = selectors.branch_staff(event.branch_id)


class ActionItemForm(forms.Form):
    text = forms.CharField(label=_("What needs doing"), max_length=500)
    assignee = StaffChoiceField(label=_("Who"), queryset=User.objects.none())
    due_date = dates.DateField(label=_("Due date"), required=False)
    voice_item_id = forms.IntegerField(
        label=_("Customer voice item no. (optional)"),
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text=_("The number of the customer voice item this follows up."),
    )

    def __init__(self, *args, event: TeamEvent, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = selectors.branch_staff(event.branch_id)


class OrganiserForm(forms.Form):
    user = StaffChoiceField(label=_("Staff member"), queryset=User.objects.none())

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        staff = User.objects.filter(is_active=True).exclude(role=Role.MANAGER).order_by("display_name")
        self.fields["user"].queryset = scope_to(staff, user)
