from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from dealership.admin_helpers import HistoryInline, ReadOnlyAdmin

from . import services
from .approvals import record_approval_decision
from .leads import update_lead
from .models import (
    ApprovalRequest,
    Attachment,
    CustomerStatusLink,
    JobEvent,
    JobMessage,
    JobReadMarker,
    RepairJob,
    SalesLead,
    Status,
)
from .status_links import revoke_status_link


class JobEventInline(HistoryInline):
    model = JobEvent
    fields = ["at", "kind", "summary", "by", "note"]

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    @admin.display(description=_("what"))
    def summary(self, event: JobEvent) -> str:
        return event.summary


class RepairJobAdminForm(forms.ModelForm):
    """The two things an admin may change on a job, each through its service.

    The technician goes through `assign_technician` and the promised time
    through `change_promised_time` (with the reason the customer will be
    given), so both write the timeline and tell the people concerned.
    """

    promise_reason = forms.CharField(
        label=_("Reason for the new promised time"),
        max_length=300,
        required=False,
        help_text=_("Required when the promised time changes: the sales owner passes it to the customer."),
    )

    class Meta:
        model = RepairJob
        fields = ["technician", "promised_at"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "technician" in self.fields:
            self.fields["technician"].queryset = User.objects.filter(
                role=Role.TECHNICIAN, is_active=True, branch_id=self.instance.branch_id
            )

    def clean(self):
        cleaned = super().clean()
        if "promised_at" in self.changed_data and not (cleaned.get("promise_reason") or "").strip():
            self.add_error("promise_reason", _("Say why the promised time changes: the customer will ask."))
        return cleaned


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
    form = RepairJobAdminForm
    # Every other field is read-only: status moves go through the actions
    # below, technician and promise through the form's save (services), and
    # jobs are opened in the portal, where the workshop is told of them.
    readonly_fields = [
        "number",
        "branch",
        "customer",
        "vehicle",
        "kind",
        "title",
        "customer_request",
        "sales_owner",
        "requested_by",
        "service_advisor",
        "priority",
        "status",
        "version",
        "received_at",
        "ready_at",
        "delivered_at",
        "created_at",
        "updated_at",
    ]
    fields = [*readonly_fields[:11], "technician", "promised_at", "promise_reason", *readonly_fields[11:]]
    inlines = [JobEventInline]
    actions = [_status_action(status) for status in (Status.ON_HOLD, Status.CANCELLED, Status.IN_PROGRESS)]
    date_hierarchy = "received_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj: RepairJob, form: RepairJobAdminForm, change: bool) -> None:
        job = RepairJob.objects.select_related("vehicle", "customer", "branch").get(pk=obj.pk)
        try:
            if "technician" in form.changed_data:
                services.assign_technician(job, technician=form.cleaned_data["technician"], by=request.user)
            if "promised_at" in form.changed_data:
                services.change_promised_time(
                    job,
                    promised_at=form.cleaned_data["promised_at"],
                    reason=form.cleaned_data["promise_reason"],
                    by=request.user,
                )
        except (services.JobError, PermissionDenied) as error:
            self.message_user(request, f"{job.number}: {error}", messages.ERROR)


@admin.register(JobEvent)
class JobEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "job", "kind", "summary", "by"]
    list_filter = ["kind"]
    list_select_related = ["job", "by"]
    raw_id_fields = ["job", "by"]
    search_fields = ["job__number", "note"]


class AttachmentInline(HistoryInline):
    model = Attachment
    fields = ["photo", "original_name", "width", "height", "size"]

    @admin.display(description=_("photo"))
    def photo(self, attachment: Attachment) -> str:
        # Photos have no public URL; link to the permission-checked view.
        url = reverse("repairs:attachment_file", args=[attachment.message.job_id, attachment.pk, "full"])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, attachment.image.name)


@admin.register(JobMessage)
class JobMessageAdmin(ReadOnlyAdmin):
    """A message is the author's words, posted through `post_message` (thread, badges, alerts)."""

    list_display = ["job", "author", "kind", "body", "created_at"]
    list_filter = ["kind"]
    search_fields = ["body", "job__number", "author__display_name"]
    list_select_related = ["job", "author"]
    raw_id_fields = ["job", "author", "mentions"]
    inlines = [AttachmentInline]


@admin.register(JobReadMarker)
class JobReadMarkerAdmin(ReadOnlyAdmin):
    """Written when someone reads a thread (`mark_thread_read`, which updates their badges)."""

    list_display = ["job", "user", "read_at"]
    list_select_related = ["job", "user"]
    raw_id_fields = ["job", "user"]


# --- Approvals, leads, status links: every change goes through their services ----


def _decision_action(decision: str):
    def action(modeladmin, request, queryset):
        decided = 0
        for approval in queryset.select_related("job", "job__vehicle", "job__customer"):
            try:
                record_approval_decision(
                    approval,
                    by=request.user,
                    decision=decision,
                    contact_method=ApprovalRequest.ContactMethod.PHONE,
                    note=str(_("Recorded in the admin site")),
                )
                decided += 1
            except (services.JobError, PermissionDenied) as error:
                modeladmin.message_user(request, f"{approval.job.number}: {error}", messages.WARNING)
        if decided:
            modeladmin.message_user(
                request, _("%(count)d decision(s) recorded.") % {"count": decided}, messages.SUCCESS
            )

    action.__name__ = f"record_{decision}"
    action.short_description = _("Record “%(decision)s” (by phone) for the selected requests") % {
        "decision": ApprovalRequest.Decision(decision).label
    }
    return action


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    """Requests are raised on the job page (they move the job); decisions go through the service."""

    list_display = ["job", "work", "estimate_yen", "status", "requested_by", "requested_at", "decided_by", "decided_at"]
    list_filter = ["status", "contact_method"]
    list_select_related = ["job", "requested_by", "decided_by"]
    search_fields = ["job__number", "work"]
    raw_id_fields = ["job", "requested_by", "decided_by", "message"]
    actions = [_decision_action(decision) for decision in ("approved", "declined", "unreachable")]


class SalesLeadAdminForm(forms.ModelForm):
    class Meta:
        model = SalesLead
        fields = ["status", "outcome_note"]


@admin.register(SalesLead)
class SalesLeadAdmin(admin.ModelAdmin):
    """Only the follow-up is edited here, through `update_lead` (timeline and the flagger's alert)."""

    form = SalesLeadAdminForm
    list_display = ["job", "reason", "status", "owner", "flagged_by", "created_at"]
    list_filter = ["status", "reason", "branch"]
    list_select_related = ["job", "owner", "flagged_by"]
    search_fields = ["job__number", "note", "outcome_note"]
    readonly_fields = ["job", "branch", "customer", "flagged_by", "owner", "reason", "note", "created_at", "updated_at"]
    fields = [*readonly_fields[:7], "status", "outcome_note", *readonly_fields[7:]]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj: SalesLead, form, change: bool) -> None:
        lead = SalesLead.objects.select_related("job", "job__vehicle").get(pk=obj.pk)
        try:
            update_lead(
                lead,
                by=request.user,
                status=form.cleaned_data["status"],
                outcome_note=form.cleaned_data["outcome_note"],
            )
        except (services.JobError, PermissionDenied) as error:
            self.message_user(request, f"{lead.job.number}: {error}", messages.ERROR)


@admin.action(description=_("Revoke the selected status links"))
def revoke_links(modeladmin, request, queryset):
    for link in queryset.filter(revoked_at__isnull=True).select_related("job", "job__vehicle", "created_by"):
        try:
            revoke_status_link(link, by=request.user)
        except (services.JobError, PermissionDenied) as error:
            modeladmin.message_user(request, f"{link.job.number}: {error}", messages.WARNING)


@admin.register(CustomerStatusLink)
class CustomerStatusLinkAdmin(ReadOnlyAdmin):
    """Links are made on the job page; here they can only be revoked (through the service)."""

    list_display = ["job", "created_by", "created_at", "expires_at", "revoked_at", "revoked_by"]
    list_select_related = ["job", "created_by", "revoked_by"]
    search_fields = ["job__number"]
    exclude = ["public_id"]  # the key to the customer's page stays out of the admin
    raw_id_fields = ["job", "created_by", "revoked_by"]
    actions = [revoke_links]
