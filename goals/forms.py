"""Forms of shared goals and KPIs. They validate input; the services decide and write."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Department, User
from dealership import dates
from dealership.models import Branch

from . import selectors
from .metrics import METRICS, manual_metrics
from .models import Goal, GoalPeriod

MAX_CSV_BYTES = 1024 * 1024


def _branch_field(user: User, *, all_label=None) -> forms.ModelChoiceField:
    visible = [branch.pk for branch in selectors.kpi_branches(user)]
    return forms.ModelChoiceField(
        queryset=Branch.objects.filter(pk__in=visible).order_by("code"),
        required=all_label is None,
        empty_label=all_label,
        label=_("Branch"),
    )


class GoalForm(forms.Form):
    metric = forms.ChoiceField(label=_("Metric"))
    target = forms.DecimalField(
        label=_("Target"), max_digits=12, decimal_places=2, help_text=_("In the metric's unit (shown beside it).")
    )
    period = forms.ChoiceField(label=_("Period"), choices=GoalPeriod.choices, widget=forms.RadioSelect)
    start_date = dates.DateField(label=_("From"), help_text=_("For a month or a quarter: any day in it."))
    end_date = dates.DateField(label=_("To"), required=False, help_text=_("Only for dates."))
    departments = forms.MultipleChoiceField(
        label=_("Departments involved"), choices=Department.choices, widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(label=_("How we get there"), max_length=300, required=False)

    def __init__(self, *args, user: User, goal: Goal | None = None, **kwargs) -> None:
        if goal is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "metric": goal.metric,
                "target": goal.target,
                "period": goal.period,
                "start_date": goal.start_date,
                "end_date": goal.end_date,
                "branch": goal.branch,
                "departments": goal.departments,
                "note": goal.note,
            }
        kwargs.setdefault(
            "initial",
            {
                "period": GoalPeriod.MONTH,
                "start_date": timezone.localdate().replace(day=1),
                "departments": [Department.SALES, Department.SERVICE],
                "branch": user.branch,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["metric"].choices = [
            (metric.key, f"{metric.label} ({metric.unit_label}, {metric.direction_label})")
            for metric in METRICS.values()
        ]
        self.fields["branch"] = _branch_field(user, all_label=_("All branches") if user.sees_all_branches else None)
        self.order_fields(["metric", "target", "period", "start_date", "end_date", "branch", "departments", "note"])

    def clean(self) -> dict:
        data = super().clean()
        if data.get("period") == GoalPeriod.CUSTOM and not data.get("end_date"):
            self.add_error("end_date", _("Enter the last day of the goal."))
        return data


class ManualValueForm(forms.Form):
    metric = forms.ChoiceField(label=_("Metric"))
    branch = forms.ModelChoiceField(queryset=Branch.objects.none(), label=_("Branch"))
    date = dates.DateField(label=_("Date"))
    value = forms.DecimalField(label=_("Value"), min_value=Decimal(0), max_digits=14, decimal_places=2)

    def __init__(self, *args, user: User, **kwargs) -> None:
        kwargs.setdefault("initial", {"date": timezone.localdate(), "branch": user.branch})
        super().__init__(*args, **kwargs)
        self.fields["metric"].choices = [(metric.key, metric.label) for metric in manual_metrics()]
        self.fields["branch"] = _branch_field(user)

    def clean_date(self) -> date:
        day = self.cleaned_data["date"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("The date is in the future."))
        return day


class CsvImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("Columns: date (YYYY-MM-DD), branch code, metric, value — with that header line. UTF-8."),
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError(_("The file is larger than 1 MB."))
        raw = upload.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The file is not UTF-8 text. Save it as “CSV UTF-8”.")) from None
        if "\x00" in text:
            raise forms.ValidationError(_("The file is not a CSV text file."))
        return text
