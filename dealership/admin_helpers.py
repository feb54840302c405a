"""Admin building blocks every app's admin.py uses.

The portal's screens change rows only through the apps' services, which
write the history and tell the screens that show them (dealership.versions);
the admin shows those rows without offering a second way to write them.
"""

from __future__ import annotations

from django.contrib import admin


class HistoryInline(admin.TabularInline):
    """History is written by the services only: shown, never added or edited here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never written here: rows that the portal's screens show change only
    through their services, which tell those screens (dealership.versions)."""

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
