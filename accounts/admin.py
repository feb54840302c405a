from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Invitation, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
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


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["user", "invited_by", "created_at", "expires_at", "accepted_at"]
    readonly_fields = ["token_hash"]
    list_select_related = ["user", "invited_by"]
