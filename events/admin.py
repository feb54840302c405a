"""Team events in the admin: shown in full, changed only through the services.

Planning, answering and attendance happen in the portal, where people are
told; the admin can cancel events, finish action items and name organisers,
each through its service so the same notifications go out.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from dealership.admin_helpers import HistoryInline, ReadOnlyAdmin

from . import services
from .models import ActionItem, CalendarFeed, EventMaterial, EventParticipant, Organiser, TeamEvent


class ParticipantInline(HistoryInline):
    model = EventParticipant
    fields = ["user", "invited", "rsvp", "attended", "host"]


class MaterialInline(HistoryInline):
    model = EventMaterial
    fields = ["original_name", "size", "uploaded_by", "uploaded_at"]


class ActionItemInline(HistoryInline):
    model = ActionItem
    fields = ["text", "assignee", "due_date", "done_at"]


@admin.register(TeamEvent)
class TeamEventAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "branch", "starts_at", "organizer", "cancelled_at"]
    list_filter = ["branch", "kind"]
    search_fields = ["title", "place"]
    date_hierarchy = "starts_at"
    list_select_related = ["branch", "organizer"]
    inlines = [ParticipantInline, MaterialInline, ActionItemInline]
    actions = ["cancel_events"]

    @admin.action(description=_("Cancel the selected events (the invitees are told)"))
    def cancel_events(self, request, queryset) -> None:
        cancelled = 0
        for event in queryset.select_related("branch"):
            try:
                services.cancel_event(event, by=request.user, reason=str(_("Cancelled in the admin site")))
                cancelled += 1
            except (services.EventError, PermissionDenied) as error:
                self.message_user(request, f"{event}: {error or _('not allowed')}", messages.WARNING)
        if cancelled:
            self.message_user(request, _("%(count)d event(s) cancelled.") % {"count": cancelled}, messages.SUCCESS)


@admin.register(ActionItem)
class ActionItemAdmin(ReadOnlyAdmin):
    list_display = ["text", "event", "assignee", "due_date", "done_at"]
    list_filter = ["event__branch"]
    search_fields = ["text"]
    list_select_related = ["event", "assignee"]
    actions = ["mark_done"]

    @admin.action(description=_("Mark the selected action items done"))
    def mark_done(self, request, queryset) -> None:
        done = 0
        for item in queryset.select_related("event"):
            try:
                services.complete_action_item(item, by=request.user)
                done += 1
            except PermissionDenied:
                self.message_user(request, f"{item}: {_('not allowed')}", messages.WARNING)
        if done:
            self.message_user(request, _("%(count)d action item(s) done.") % {"count": done}, messages.SUCCESS)


@admin.register(Organiser)
class OrganiserAdmin(admin.ModelAdmin):
    list_display = ["user", "granted_by", "granted_at"]
    list_select_related = ["user", "granted_by"]
    fields = ["user"]
    autocomplete_fields = ["user"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        try:
            organiser = services.grant_organiser(by=request.user, user=obj.user)
        except (services.EventError, PermissionDenied) as error:
            self.message_user(request, str(error) or _("not allowed"), messages.ERROR)
            return
        obj.pk = organiser.pk

    def delete_model(self, request, obj) -> None:
        services.revoke_organiser(by=request.user, user=obj.user)

    def delete_queryset(self, request, queryset) -> None:
        for organiser in queryset.select_related("user"):
            services.revoke_organiser(by=request.user, user=organiser.user)


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnlyAdmin):
    """Who subscribed, and since when; the secret itself is never shown."""

    list_display = ["user", "reset_at"]
    fields = ["user", "reset_at"]
    actions = ["reset_secrets"]

    @admin.action(description=_("Make new calendar addresses (the old ones stop working)"))
    def reset_secrets(self, request, queryset) -> None:
        for feed in queryset.select_related("user"):
            services.reset_calendar_secret(user=feed.user)
        self.message_user(request, _("New calendar addresses made."), messages.SUCCESS)
