"""Admin for customer voice: read-only history, writes only through the services.

Survey answers are the customer's words and are never edited here; voice
items change status, owner and follow-up through the same services as the
portal's pages (history, timeline, notifications), via admin actions.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from dealership import outbox
from dealership.admin_helpers import HistoryInline, ReadOnlyAdmin

from . import services
from .models import CustomerVoice, SurveyInvitation, SurveyOptOut, SurveyResponse, VoiceEvent, VoiceStatus


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(ReadOnlyAdmin):
    list_display = ["job", "customer", "language", "send_status", "skip_reason", "attempts", "sent_at", "answered_at"]
    list_filter = ["send_status", "skip_reason", "language"]
    search_fields = ["job__number", "customer__name", "customer__name_kana"]
    list_select_related = ["job", "customer"]
    readonly_fields = [
        "job",
        "customer",
        "language",
        "created_at",
        "expires_at",
        "survey_link",
        "send_status",
        "skip_reason",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "last_error",
        "sent_at",
        "opened_at",
        "answered_at",
    ]
    exclude = ["token"]
    actions = ["retry_email"]

    # The token stays hidden; the link it makes is shown, for the customer who
    # calls because the e-mail never came (and for trying the demo's surveys).
    @admin.display(description=_("survey link"))
    def survey_link(self, invitation: SurveyInvitation) -> str:
        url = f"{settings.SITE_URL}{services.survey_path(invitation)}"
        return format_html('<a href="{}">{}</a>', url, url)

    # Only the invitation's sending state changes, which no polled screen
    # shows; the send itself puts "survey sent" on the job's timeline, which
    # tells the job's screens.
    @admin.action(description=_("Send the e-mail again (failed ones only)"))
    def retry_email(self, request, queryset) -> None:
        count = outbox.retry_failed(SurveyInvitation, queryset.values_list("pk", flat=True))
        self.message_user(request, _("%(count)d e-mail(s) queued again.") % {"count": count})


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyAdmin):
    list_display = ["job", "submitted_at", "overall", "explanation", "quality", "timeliness", "nps", "may_contact"]
    list_filter = ["overall", "may_contact", "language"]
    search_fields = ["job__number", "comment"]
    list_select_related = ["job"]
    readonly_fields = [
        "invitation",
        "job",
        "overall",
        "explanation",
        "quality",
        "timeliness",
        "nps",
        "comment",
        "may_contact",
        "language",
        "submitted_at",
    ]


@admin.register(SurveyOptOut)
class SurveyOptOutAdmin(ReadOnlyAdmin):
    list_display = ["customer", "created_at"]
    list_select_related = ["customer"]
    readonly_fields = ["customer", "invitation", "created_at"]


class VoiceEventInline(HistoryInline):
    model = VoiceEvent
    fields = ["at", "kind", "by", "from_status", "to_status", "note"]


@admin.register(CustomerVoice)
class CustomerVoiceAdmin(ReadOnlyAdmin):
    list_display = ["title", "customer", "category", "source", "status", "assignee", "due_date", "is_recovery"]
    list_filter = ["status", "category", "source", "is_recovery", "branch"]
    search_fields = ["title", "customer__name", "customer__name_kana"]
    list_select_related = ["customer", "assignee"]
    readonly_fields = [
        "branch",
        "customer",
        "job",
        "survey_response",
        "source",
        "category",
        "is_recovery",
        "title",
        "description",
        "raised_by",
        "assignee",
        "co_assignee",
        "status",
        "due_date",
        "resolution",
        "customer_followed_up",
        "followed_up_at",
        "followed_up_by",
        "created_at",
        "updated_at",
        "resolved_at",
        "closed_at",
    ]
    inlines = [VoiceEventInline]
    actions = ["start_work", "reopen"]

    def _move(self, request, queryset, to: str) -> None:
        moved = 0
        for voice in queryset.select_related("raised_by", "assignee", "co_assignee", "job", "customer"):
            try:
                services.change_voice_status(voice, to=to, by=request.user, note=str(_("changed in the admin")))
                moved += 1
            except (services.VoiceError, PermissionDenied) as error:
                self.message_user(request, f"{voice}: {error or _('not allowed')}", messages.WARNING)
        self.message_user(request, _("%(count)d item(s) changed.") % {"count": moved})

    @admin.action(description=_("Mark in progress"))
    def start_work(self, request, queryset) -> None:
        self._move(request, queryset, VoiceStatus.IN_PROGRESS)

    @admin.action(description=_("Reopen"))
    def reopen(self, request, queryset) -> None:
        self._move(request, queryset, VoiceStatus.OPEN)
