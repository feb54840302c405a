"""The repair-job panels of the home page, per role."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from . import permissions
from .models import FINISHED_STATUSES, PROMISE_KEPT_STATUSES, Status
from .selectors import approvals_etag, approvals_page, customer_history, jobs_visible_to


def home_panels(user: User) -> list[dict]:
    active = jobs_visible_to(user).exclude(status__in=FINISHED_STATUSES)
    scope = permissions.home_scope(user)
    if scope == "mine":
        active = active.filter(Q(sales_owner=user) | Q(requested_by=user))
        link, title = reverse("repairs:my_cars"), _("My customers' cars")
    elif scope == "queue":
        active = active.filter(Q(technician=user) | Q(technician__isnull=True))
        link, title = reverse("repairs:my_queue"), _("My queue")
    else:
        link, title = reverse("repairs:board"), _("Workshop today")
    overdue = Q(promised_at__lt=timezone.now()) & ~Q(status__in=PROMISE_KEPT_STATUSES)
    stats = active.aggregate(
        total=Count("id"),
        overdue=Count("id", filter=overdue),
        awaiting=Count("id", filter=Q(status=Status.AWAITING_APPROVAL)),
        ready=Count("id", filter=Q(status=Status.READY)),
        unassigned=Count("id", filter=Q(technician__isnull=True)),
    )
    return [
        *approval_panels(user),
        {
            "title": title,
            "icon": "car-front",
            "template": "repairs/partials/home_panel.html",
            "link": link,
            "stats": stats,
        },
    ]


def approval_panels(user: User) -> list[dict]:
    """The "approvals waiting for me" panel, first on the home page of whoever records decisions.

    Its list polls the approvals screen (compact), so a new request appears
    without a reload. One query for the list; the ETag comes from the cache.
    """
    links = [{"url": reverse("repairs:leads"), "label": _("Leads"), "icon": "lightbulb"}]
    if permissions.asks_for_internal_work(user):
        links.insert(0, {"url": reverse("repairs:my_requests"), "label": _("My requests"), "icon": "box-seam"})
    if not permissions.waits_for_approvals(user):
        # Technicians hear what became of their leads (lead_updated) and
        # open the Leads page from any job; their home stays within budget.
        return []
    return [
        {
            "title": _("Approvals waiting for me"),
            "icon": "patch-question",
            "template": "repairs/partials/approvals_panel.html",
            "link": reverse("repairs:approvals"),
            "links": links,
            "approvals": approvals_page(user),
            "etag": approvals_etag(user, compact=True).strip('"'),
        }
    ]


def customer_panels(user: User, customer) -> list[dict]:
    """The customer's page (customers/): every job with its timeline, and the approvals and leads on them."""
    history = customer_history(customer)
    return [
        {"slot": "main", "order": 10, "template": "repairs/partials/customer_jobs.html", "jobs": history["jobs"]},
        {
            "slot": "side",
            "order": 50,
            "template": "repairs/partials/customer_approvals_leads.html",
            "approvals": history["approvals"],
            "leads": history["leads"],
        },
    ]
