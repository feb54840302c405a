from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Attachment, JobMessage, JobReadMarker, PromiseChange, RepairJob, Status, StatusChange


class HistoryInline(admin.TabularInline):
    """History is written by the services only: shown, never added or edited here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


class StatusChangeInline(HistoryInline):
    model = StatusChange
    fields = ["at", "from_status", "to_status", "by", "note"]


class PromiseChangeInline(HistoryInline):
    model = PromiseChange
    fields = ["at", "old_promised_at", "new_promised_at", "reason", "by"]


def _status_action(to: str):
    def action(modeladmin, request, queryset):
        moved = 0
        for job in queryset.select_related("sales_owner", "requested_by", "vehicle"):
            try:
                services.change_status(
                    job, to=to, by=request.user, note=str(_("Changed in the admin site")), expected_version=None
                )
                moved += 1
            except (services.JobError, PermissionDenied) as error:
                modeladmin.message_user(request, f"{job.number}: {error}", messages.WARNING)
        if moved:
            modeladmin.message_user(request, _("%(count)d job(s) moved.") % {"count": moved}, messages.SUCCESS)

    action.__name__ = f"move_to_{to}"
    action.short_description = _("Move selected jobs to “%(status)s”") % {"status": Status(to).label}
    return action


@admin.register(RepairJob)
class RepairJobAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "branch", "customer", "kind", "status", "technician", "promised_at"]
    list_filter = ["branch", "status", "kind", "priority"]
    search_fields = ["number", "title", "customer__name", "customer__name_kana", "vehicle__plate_number"]
    list_select_related = ["branch", "customer", "technician"]
    raw_id_fields = ["customer", "vehicle", "sales_owner", "requested_by", "technician", "service_advisor"]
    # Status, promise and assignment change only through the services (actions below).
    readonly_fields = [
        "number",
        "status",
        "version",
        "received_at",
        "ready_at",
        "delivered_at",
        "created_at",
        "updated_at",
    ]
    inlines = [StatusChangeInline, PromiseChangeInline]
    actions = [_status_action(status) for status in (Status.ON_HOLD, Status.CANCELLED, Status.IN_PROGRESS)]
    date_hierarchy = "received_at"


@admin.register(StatusChange)
class StatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["job", "from_status", "to_status", "by", "at"]
    list_filter = ["to_status"]
    list_select_related = ["job", "by"]
    raw_id_fields = ["job", "by"]


class AttachmentInline(HistoryInline):
    model = Attachment
    fields = ["photo", "original_name", "width", "height", "size"]

    @admin.display(description=_("photo"))
    def photo(self, attachment: Attachment) -> str:
        # Photos have no public URL; link to the permission-checked view.
        url = reverse("repairs:attachment_file", args=[attachment.message.job_id, attachment.pk, "full"])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, attachment.image.name)


@admin.register(JobMessage)
class JobMessageAdmin(admin.ModelAdmin):
    list_display = ["job", "author", "kind", "body", "created_at"]
    list_filter = ["kind"]
    search_fields = ["body", "job__number", "author__display_name"]
    list_select_related = ["job", "author"]
    raw_id_fields = ["job", "author", "mentions"]
    inlines = [AttachmentInline]


@admin.register(PromiseChange)
class PromiseChangeAdmin(ReadOnlyAdmin):
    list_display = ["job", "old_promised_at", "new_promised_at", "reason", "by", "at"]
    list_select_related = ["job", "by"]
    raw_id_fields = ["job", "by"]


@admin.register(JobReadMarker)
class JobReadMarkerAdmin(admin.ModelAdmin):
    list_display = ["job", "user", "read_at"]
    list_select_related = ["job", "user"]
    raw_id_fields = ["job", "user"]
