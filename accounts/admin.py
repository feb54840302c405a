from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.utils.translation import gettext_lazy as _

from . import services
from .forms import clean_login_email
from .models import Invitation, User


class AdminUserChangeForm(UserChangeForm):
    """The admin, too, refuses an address someone else signs in with (in any case)."""

    def clean_email(self) -> str:
        return clean_login_email(self.cleaned_data["email"], user=self.instance)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = AdminUserChangeForm
    ordering = ["display_name"]
    list_display = ["display_name", "email", "role", "department", "branch", "is_active"]
    list_filter = ["role", "department", "branch", "is_active", "is_staff"]
    search_fields = ["display_name", "email"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Profile"), {"fields": ["display_name", "department", "role", "branch", "all_branches", "language"]}),
        (_("Notifications"), {"fields": ["email_preferences"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "display_name", "role", "department", "branch", "password1", "password2"],
            },
        ),
    ]

    def save_model(self, request, obj: User, form: forms.ModelForm, change: bool) -> None:
        services.save_staff_in_admin(member=obj, changed=form.changed_data, adding=not change)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Accounts are deactivated, never deleted: their jobs, messages and
        # timelines keep naming them (accounts.services.set_staff_active).
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["user", "invited_by", "created_at", "expires_at", "accepted_at"]
    readonly_fields = ["token_hash"]
    list_select_related = ["user", "invited_by"]
