from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from customers.models import Customer
from dealership import dates
from dealership.forms import IdChoiceField
from repairs.models import RepairJob

from .models import VoiceCategory, VoiceSource, VoiceStatus
from .services import Answers, staff_for_voice

SCORE_CHOICES = [(score, str(score)) for score in range(1, 6)]
NPS_CHOICES = [(score, str(score)) for score in range(11)]


class ScoreField(forms.TypedChoiceField):
    widget = forms.RadioSelect

    def __init__(self, *, choices=SCORE_CHOICES, required: bool = True, **kwargs) -> None:
        super().__init__(
            choices=choices,
            coerce=int,
            required=required,
            empty_value=None,
            error_messages={
                "required": _("Please choose a score."),
                "invalid_choice": _("Choose one of the scores shown."),
            },
            **kwargs,
        )


class SurveyForm(forms.Form):
    """The customer's answers. Overall and recommendation are required; the rest may be skipped."""

    overall = ScoreField(label=_("Overall, how satisfied are you with our service?"))
    explanation = ScoreField(label=_("How well did our staff explain the work and the costs?"), required=False)
    quality = ScoreField(label=_("How satisfied are you with the quality of the work?"), required=False)
    timeliness = ScoreField(label=_("Was your car ready when we said it would be?"), required=False)
    nps = ScoreField(
        choices=NPS_CHOICES, label=_("How likely are you to recommend us to a friend or colleague? (0–10)")
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    may_contact = forms.BooleanField(label=_("You may contact me about my answers."), required=False)

    def answers(self) -> Answers:
        data = self.cleaned_data
        return Answers(
            overall=data["overall"],
            nps=data["nps"],
            explanation=data["explanation"],
            quality=data["quality"],
            timeliness=data["timeliness"],
            comment=data["comment"],
            may_contact=data["may_contact"],
        )


class StaffChoiceField(IdChoiceField):
    def label_from_instance(self, user: User) -> str:
        return f"{user.display_name} ({user.get_role_display()})"


class VoiceForm(forms.Form):
    """Record what a customer said (the customer is chosen before the form opens)."""

    category = forms.ChoiceField(label=_("What is it?"), choices=VoiceCategory.choices)
    source = forms.ChoiceField(label=_("Where did we hear it?"), choices=VoiceSource.choices)
    title = forms.CharField(label=_("In one line"), max_length=200)
    description = forms.CharField(
        label=_("What the customer said"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    job = IdChoiceField(label=_("Job (optional)"), queryset=RepairJob.objects.none(), required=False)
    assignee = StaffChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    co_assignee = StaffChoiceField(label=_("Together with (optional)"), queryset=User.objects.none(), required=False)
    due_date = dates.DateField(label=_("Due date"), required=False)

    def __init__(self, *args, customer: Customer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["job"].queryset = RepairJob.objects.filter(customer=customer).order_by("-received_at")
        self.fields["job"].label_from_instance = lambda job: f"{job.number} {job.title}"
        staff = staff_for_voice(customer.branch_id)
        self.fields["assignee"].queryset = staff
        self.fields["co_assignee"].queryset = staff


class EditVoiceForm(forms.Form):
    category = forms.ChoiceField(label=_("What is it?"), choices=VoiceCategory.choices)
    title = forms.CharField(label=_("In one line"), max_length=200)
    description = forms.CharField(
        label=_("What the customer said"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class AssignVoiceForm(forms.Form):
    assignee = StaffChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    co_assignee = StaffChoiceField(label=_("Together with (optional)"), queryset=User.objects.none(), required=False)
    due_date = dates.DateField(label=_("Due date"), required=False)

    def __init__(self, *args, branch_id: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        staff = staff_for_voice(branch_id)
        self.fields["assignee"].queryset = staff
        self.fields["co_assignee"].queryset = staff


class VoiceStatusForm(forms.Form):
    to = forms.ChoiceField(choices=VoiceStatus.choices)
    note = forms.CharField(label=_("Note (optional)"), required=False, max_length=500)


class ResolveVoiceForm(forms.Form):
    resolution = forms.CharField(
        label=_("How was it resolved?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class FollowUpForm(forms.Form):
    note = forms.CharField(label=_("What the customer said (optional)"), required=False, max_length=500)
