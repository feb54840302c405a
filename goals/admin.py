"""Shared goals and KPIs in the admin: shown in full, changed only through the services.

Goals are set in the portal, where the manager's branch is checked; the
admin archives them through the same service. Manual values and snapshots
are read-only here.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from dealership.admin_helpers import ReadOnlyAdmin

from . import services
from .models import Goal, KpiSnapshot, ManualKpiValue


@admin.register(Goal)
class GoalAdmin(ReadOnlyAdmin):
    """Goals are set in the portal (managers, with their branch checked); the admin archives them."""

    list_display = ["metric", "target", "period", "start_date", "end_date", "branch", "created_by", "archived_at"]
    list_filter = ["metric", "branch", "period"]
    list_select_related = ["branch", "created_by"]
    actions = ["archive_goals"]

    @admin.action(description=_("Archive the selected goals"))
    def archive_goals(self, request, queryset) -> None:
        archived = 0
        for goal in queryset.select_related("branch"):
            try:
                services.archive_goal(goal, by=request.user)
                archived += 1
            except PermissionDenied:
                self.message_user(request, f"{goal}: {_('not allowed')}", messages.WARNING)
        if archived:
            self.message_user(request, _("%(count)d goal(s) archived.") % {"count": archived}, messages.SUCCESS)


@admin.register(ManualKpiValue)
class ManualKpiValueAdmin(ReadOnlyAdmin):
    list_display = ["metric", "branch", "date", "value", "entered_by", "entered_at"]
    list_filter = ["metric", "branch"]
    date_hierarchy = "date"
    list_select_related = ["branch", "entered_by"]


@admin.register(KpiSnapshot)
class KpiSnapshotAdmin(ReadOnlyAdmin):
    """Written only by the nightly task and `manage.py backfill_kpis`."""

    list_display = ["metric", "branch", "date", "value", "computed_at"]
    list_filter = ["metric", "branch"]
    date_hierarchy = "date"
    list_select_related = ["branch"]
