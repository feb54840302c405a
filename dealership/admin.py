from allauth.account.decorators import secure_admin_login
from django.contrib import admin

from . import versions
from .models import Branch, Notification

# The admin's own login form would skip allauth's sign-in limit and second
# factor; signing in to the admin goes through the portal's login instead
# (which then sends the user back to the admin page they asked for).
admin.site.login = secure_admin_login(admin.site.login)


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "phone"]
    search_fields = ["code", "name"]

    # The edits below change what the polled screens show: each tells them
    # (dealership.versions), as the portal's own services do.
    def save_model(self, request, obj: Branch, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change:
            versions.branch_changed(obj.pk)  # its name and phone are on the customers' status pages


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "kind", "text", "read_at", "send_status", "attempts"]
    list_filter = ["kind", "send_status"]
    search_fields = ["recipient__email", "recipient__display_name", "last_error"]
    list_select_related = ["recipient"]
    readonly_fields = ["last_error", "attempts", "sent_at", "claimed_at", "created_at"]
    raw_id_fields = ["recipient", "actor"]

    # Written by notify() and read through mark_read(), which keep the bell's count right.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
