from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Attachment, JobMessage, JobReadMarker, PromiseChange, RepairJob, Status, StatusChange


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    can_delete = False
    fields = ["at", "from_status", "to_status", "by", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class PromiseChangeInline(admin.TabularInline):
    model = PromiseChange
    extra = 0
    can_delete = False
    fields = ["at", "old_promised_at", "new_promised_at", "reason", "by"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


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
class StatusChangeAdmin(admin.ModelAdmin):
    list_display = ["job", "from_status", "to_status", "by", "at"]
    list_filter = ["to_status"]
    list_select_related = ["job", "by"]
    raw_id_fields = ["job", "by"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    fields = ["photo", "original_name", "width", "height", "size"]
    readonly_fields = fields

    @admin.display(description=_("photo"))
    def photo(self, attachment: Attachment) -> str:
        # Photos have no public URL; link to the permission-checked view.
        url = reverse("repairs:attachment_file", args=[attachment.message.job_id, attachment.pk, "full"])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, attachment.image.name)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(JobMessage)
class JobMessageAdmin(admin.ModelAdmin):
    list_display = ["job", "author", "kind", "body", "created_at"]
    list_filter = ["kind"]
    search_fields = ["body", "job__number", "author__display_name"]
    list_select_related = ["job", "author"]
    raw_id_fields = ["job", "author", "mentions"]
    inlines = [AttachmentInline]


@admin.register(PromiseChange)
class PromiseChangeAdmin(admin.ModelAdmin):
    list_display = ["job", "old_promised_at", "new_promised_at", "reason", "by", "at"]
    list_select_related = ["job", "by"]
    raw_id_fields = ["job", "by"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(JobReadMarker)
class JobReadMarkerAdmin(admin.ModelAdmin):
    list_display = ["job", "user", "read_at"]
    list_select_related = ["job", "user"]
    raw_id_fields = ["job", "user"]
