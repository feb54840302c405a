"""The permission matrix of DESIGN.md for repair jobs, in one place.

Views and templates ask these functions; nothing else looks at roles. A user
who may not *see* a job gets 404 (see selectors.jobs_visible_to); one who may
see it but not act gets 403.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from customers.permissions import can_see_customer_contact  # noqa: F401 - the job pages ask it here
from dealership.scopes import sees_row

from .models import Status
from .selectors import approvals_waiting_for

CREATORS = frozenset({Role.SALES_REP, Role.SERVICE_ADVISOR, Role.MANAGER})
WORKSHOP_LEADS = frozenset({Role.SERVICE_ADVISOR, Role.MANAGER})


def can_see_job(user: User, job) -> bool:
    return sees_row(user, job)


def can_create_job(user: User) -> bool:
    return user.is_authenticated and user.role in CREATORS


def can_change_status(user: User, job, to: str) -> bool:
    """Handing over (ready → delivered) is sales' act for their own customers;
    every other move is the workshop's: technicians on their own or unassigned
    jobs, advisors and managers on any job of the branch."""
    if not can_see_job(user, job):
        return False
    if user.role in WORKSHOP_LEADS:
        return True
    if to == Status.DELIVERED:
        return user.role == Role.SALES_REP and job.sales_owner_id == user.pk
    if user.role == Role.TECHNICIAN:
        return job.technician_id in (None, user.pk)
    return False


def can_assign(user: User, job) -> bool:
    return can_see_job(user, job) and user.role in WORKSHOP_LEADS


def can_set_promise(user: User, job) -> bool:
    return can_see_job(user, job) and user.role in WORKSHOP_LEADS


def can_claim(user: User, job) -> bool:
    return can_see_job(user, job) and user.role == Role.TECHNICIAN and job.technician_id is None and not job.is_finished


def follows_own_customers(user: User) -> bool:
    """Sales reps (and managers) track "my customers' cars"."""
    return user.is_authenticated and user.role in (Role.SALES_REP, Role.MANAGER)


def works_from_queue(user: User) -> bool:
    """Technicians work from "my queue": their jobs and the unassigned ones."""
    return user.is_authenticated and user.role == Role.TECHNICIAN


def home_scope(user: User) -> str:
    """Which jobs the home panel counts: "mine" (sales), "queue" (technician) or "branch"."""
    if user.role == Role.SALES_REP:
        return "mine"
    if works_from_queue(user):
        return "queue"
    return "branch"


def navigation_items(user: User) -> list[dict[str, Any]]:
    """The repair screens this user's role uses, in menu order (the wiring gathers them)."""
    items = []
    if follows_own_customers(user):
        items.append(
            {
                "url": reverse("repairs:my_cars"),
                "label": _("My customers' cars"),
                "icon": "car-front",
                "name": "my_cars",
            }
        )
    if works_from_queue(user):
        items.append({"url": reverse("repairs:my_queue"), "label": _("My queue"), "icon": "wrench", "name": "my_queue"})
    items.append({"url": reverse("repairs:board"), "label": _("Workshop board"), "icon": "kanban", "name": "board"})
    items.append({"url": reverse("repairs:job_list"), "label": _("All jobs"), "icon": "list-ul", "name": "job_list"})
    if can_create_job(user):
        items.append(
            {"url": reverse("repairs:job_create"), "label": _("New job"), "icon": "plus-circle", "name": "job_create"}
        )
    items.extend(approvals_navigation_items(user))
    return items


def can_post_message(user: User, job) -> bool:
    """Everyone who sees the job may talk on its thread (DESIGN.md matrix)."""
    return can_see_job(user, job)


# --- Approvals, leads, the customer's status link ---

LINK_MAKERS = frozenset({Role.SALES_REP, Role.SERVICE_ADVISOR, Role.MANAGER})
LEAD_FLAGGERS = frozenset({Role.TECHNICIAN, Role.SERVICE_ADVISOR})


def can_request_approval(user: User, job) -> bool:
    """The workshop asks: a technician on their own or an unassigned job, advisors, managers."""
    if not can_see_job(user, job) or job.is_finished:
        return False
    if user.role in WORKSHOP_LEADS:
        return True
    return user.role == Role.TECHNICIAN and job.technician_id in (None, user.pk)


def can_decide_approval(user: User, job) -> bool:
    """Sales records the customer's answer: the job's sales owner, an advisor or a manager."""
    if not can_see_job(user, job):
        return False
    return user.role in WORKSHOP_LEADS or (user.role == Role.SALES_REP and job.sales_owner_id == user.pk)


def can_see_approval(user: User, approval) -> bool:
    return can_see_job(user, approval.job)


def can_flag_lead(user: User, job) -> bool:
    return can_see_job(user, job) and user.role in LEAD_FLAGGERS and not job.is_finished


def can_see_lead(user: User, lead) -> bool:
    """Everyone of the branch: the workshop sees what became of its tips."""
    return sees_row(user, lead)


def can_update_lead(user: User, lead) -> bool:
    return can_see_lead(user, lead) and (user.role == Role.MANAGER or lead.owner_id == user.pk)


def can_manage_status_link(user: User, job) -> bool:
    return can_see_job(user, job) and user.role in LINK_MAKERS


def waits_for_approvals(user: User) -> bool:
    """Who has an "approvals waiting for me" list: the people who record decisions."""
    return user.is_authenticated and user.role in (Role.SALES_REP, Role.SERVICE_ADVISOR, Role.MANAGER)


def asks_for_internal_work(user: User) -> bool:
    """Sales reps follow the PDI / accessory / trade-in requests they raised ("My requests")."""
    return user.is_authenticated and user.role in (Role.SALES_REP, Role.MANAGER)


def approvals_navigation_items(user: User) -> list[dict[str, Any]]:
    """Approvals, with the number waiting for this user."""
    items = []
    if waits_for_approvals(user):
        waiting = approvals_waiting_for(user).count()
        label = _("Approvals")
        items.append(
            {
                "url": reverse("repairs:approvals"),
                "label": format_lazy("{} ({})", label, waiting) if waiting else label,
                "icon": "patch-question",
                "name": "approvals",
                "count": waiting,
            }
        )
    # My requests and Leads are reached from the home panel and the job page:
    # a sales rep's navigation bar is full already.
    return items


# --- What a refused user reads (the 403 page shows it) ---
# A view checks before it shows its form, and the service checks again before
# it writes (the admin and the tasks come through it too): both refuse with
# the same words, written once here.

REFUSED_STATUS_MOVE = _("You may not move this job to that status.")
REFUSED_APPROVAL_REQUEST = _("You may not ask for approval on this job.")
REFUSED_APPROVAL_DECISION = _("Only the sales owner, an advisor or a manager records the customer's decision.")
REFUSED_LEAD_FLAG = _("Only technicians and advisors flag leads, on jobs still in the workshop.")
REFUSED_LEAD_UPDATE = _("Only the lead's sales owner or a manager updates it.")
REFUSED_LINK_MANAGE = _("Only sales reps, advisors and managers manage status links.")
