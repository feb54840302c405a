from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from dealership.models import Notification

from .models import ROLE_DEPARTMENTS, Role, User
from .permissions import branches_within_scope, can_grant_all_branches
from .services import login_email_taken


class StaffFieldsMixin:
    """Role and department must agree (a technician is in service, …)."""

    def clean(self):
        cleaned = super().clean()
        role, department = cleaned.get("role"), cleaned.get("department")
        if role and department and department not in ROLE_DEPARTMENTS[role]:
            self.add_error("department", _("This department does not match the chosen role."))
        return cleaned


class InviteStaffForm(StaffFieldsMixin, forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "email", "department", "role", "branch", "language"]

    def __init__(self, *args, manager: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].required = True
        self.fields["branch"].queryset = branches_within_scope(manager)
        self.fields["branch"].initial = manager.branch_id

    def clean_email(self) -> str:
        return clean_login_email(self.cleaned_data["email"], user=None)


def clean_login_email(email: str, *, user: User | None) -> str:
    """Lower-case it and refuse an address someone else signs in with (any case, any allauth row)."""
    email = email.strip().lower()
    if login_email_taken(email, exclude=user):
        raise forms.ValidationError(_("A staff member with this e-mail address already exists."))
    return email


class ChangeStaffForm(StaffFieldsMixin, forms.ModelForm):
    class Meta:
        model = User
        fields = ["email", "department", "role", "branch", "all_branches"]
        help_texts = {"email": _("The address they sign in with and receive the portal's e-mails at.")}

    def __init__(self, *args, manager: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].required = True
        self.fields["branch"].queryset = branches_within_scope(manager)
        if not can_grant_all_branches(manager):
            del self.fields["all_branches"]
        self.manager = manager

    def clean_email(self) -> str:
        return clean_login_email(self.cleaned_data["email"], user=self.instance)

    def clean_role(self) -> str:
        role = self.cleaned_data["role"]
        if self.instance.pk == self.manager.pk and role != Role.MANAGER:
            raise forms.ValidationError(_("You cannot give up your own manager role; ask another manager."))
        return role


class SetPasswordForm(forms.Form):
    password1 = forms.CharField(
        label=_("New password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("New password (again)"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            try:
                password_validation.validate_password(p1, self.user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class PreferencesForm(forms.Form):
    """Language plus one e-mail switch per notification kind."""

    language = forms.ChoiceField(label=_("Language"), choices=User._meta.get_field("language").choices)

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["language"].initial = user.language
        for kind, label in Notification.Kind.choices:
            self.fields[f"email_{kind}"] = forms.BooleanField(
                label=label, required=False, initial=user.wants_email(kind)
            )

    def kind_fields(self):
        return [self[f"email_{kind}"] for kind in Notification.Kind.values]
