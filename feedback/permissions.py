"""Who may do what with customer voice, in one place (DESIGN.md matrix).

Everyone sees only their branch unless they see all branches; a user who may
not see an item or a customer gets 404, one who may see but not act gets 403.
Customers, their contact details and vehicles follow customers.permissions.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from customers.permissions import can_see_customer  # noqa: F401 - the voice services ask it here
from dealership.scopes import sees_row

# Roles that lead the branch's follow-up of what customers say: they may act on
# any voice item of the branch, not only the ones they are on.
VOICE_LEADS = frozenset({Role.SERVICE_ADVISOR, Role.MANAGER})
# "Customer followed up" is the sales side's confirmation.
FOLLOW_UP_ROLES = frozenset({Role.SALES_REP, Role.MANAGER})


def can_see_voice(user: User, voice) -> bool:
    return sees_row(user, voice)


def can_record_voice(user: User) -> bool:
    """Anyone on the staff records what a customer said (both departments)."""
    return bool(user.is_authenticated and (user.branch_id or user.sees_all_branches))


def is_on_voice(user: User, voice) -> bool:
    return user.pk in (voice.raised_by_id, voice.assignee_id, voice.co_assignee_id)


def can_act_on_voice(user: User, voice) -> bool:
    """Move, resolve or edit: the people on the item and the branch's leads."""
    return can_see_voice(user, voice) and (user.role in VOICE_LEADS or is_on_voice(user, voice))


def can_assign_voice(user: User, voice) -> bool:
    return can_act_on_voice(user, voice)


def can_confirm_follow_up(user: User, voice) -> bool:
    return can_see_voice(user, voice) and user.role in FOLLOW_UP_ROLES


def can_see_results(user: User) -> bool:
    """Both departments read the same figures (no ranking of people anywhere)."""
    return bool(user.is_authenticated and (user.branch_id or user.sees_all_branches))


def navigation_items(user: User) -> list[dict[str, Any]]:
    if not can_see_results(user):
        return []
    return [
        {"url": reverse("feedback:results"), "label": _("Survey results"), "icon": "bar-chart", "name": "results"},
        {
            "url": reverse("feedback:voice_list"),
            "label": _("Customer voice"),
            "icon": "megaphone",
            "name": "voice_list",
        },
    ]
