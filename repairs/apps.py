from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepairsConfig(AppConfig):
    name = "repairs"
    verbose_name = _("Repair jobs")

    def ready(self) -> None:
        from dealership.notifications import register_visibility

        from . import permissions, signals  # noqa: F401 - signals connects the receivers
        from .models import ApprovalRequest, JobMessage, RepairJob, SalesLead

        # notify() tells only people who may open what it links to, by the
        # same rule as the page itself.
        register_visibility(RepairJob, permissions.can_see_job)
        register_visibility(
            JobMessage, lambda user, message: permissions.can_see_job(user, message.job), related=("job",)
        )
        # An approval by its job's rule, a lead by the Leads page's.
        register_visibility(ApprovalRequest, permissions.can_see_approval, related=("job",))
        register_visibility(SalesLead, permissions.can_see_lead)
