from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, User

pytestmark = pytest.mark.django_db


def invite_payload(branch, **overrides):
    data = {
        "display_name": "新人 三郎",
        "email": "new.tech@example.com",
        "department": "service",
        "role": "technician",
        "branch": branch.pk,
        "language": "ja",
    }
    return data | overrides


def invitation_path(message) -> str:
    match = re.search(r"https?://[^/\s]+(/staff/invitation/[^\s\"<]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_manager_sees_the_staff_of_their_branch_only(client_for, manager, sales_rep, other_branch_user):
    response = client_for(manager).get(reverse("accounts:team"))
    assert response.status_code == 200
    body = response.content.decode()
    assert sales_rep.display_name in body
    assert other_branch_user.display_name not in body


@pytest.mark.parametrize("persona", ["sales_rep", "technician", "advisor"])
def test_non_managers_get_403_on_every_team_page(request, client_for, persona, sales_rep):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse("accounts:team")).status_code == 403
    assert client.get(reverse("accounts:invite")).status_code == 403
    assert client.get(reverse("accounts:staff_edit", args=[sales_rep.pk])).status_code == 403
    assert client.post(reverse("accounts:staff_set_active", args=[sales_rep.pk]), {"active": "0"}).status_code == 403
    sales_rep.refresh_from_db()
    assert sales_rep.is_active


def test_manager_of_another_branch_gets_404_on_our_staff(client_for, other_branch_manager, sales_rep):
    client = client_for(other_branch_manager)
    assert client.get(reverse("accounts:staff_edit", args=[sales_rep.pk])).status_code == 404
    assert client.post(reverse("accounts:staff_set_active", args=[sales_rep.pk]), {"active": "0"}).status_code == 404


def test_the_invitation_journey_from_email_to_first_sign_in(client, client_for, manager, branch, mailoutbox):
    response = client_for(manager).post(reverse("accounts:invite"), invite_payload(branch))
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["new.tech@example.com"]
    assert "招待" in message.subject
    assert "新人 三郎" in message.body
    assert message.alternatives and "<a href=" in message.alternatives[0][0]
    new_user = User.objects.get(email="new.tech@example.com")
    assert not new_user.has_usable_password()

    client.logout()
    path = invitation_path(message)
    assert client.get(path).status_code == 200
    response = client.post(path, {"password1": "Shop-floor-2026!", "password2": "Shop-floor-2026!"})
    assert response.status_code == 302
    response = client.post(reverse("account_login"), {"login": "new.tech@example.com", "password": "Shop-floor-2026!"})
    assert response.status_code == 302
    assert client.get(reverse("home")).context["user"] == new_user


def test_the_invitation_email_is_in_the_invitees_language(client_for, manager, branch, mailoutbox):
    client_for(manager).post(reverse("accounts:invite"), invite_payload(branch, language="en"))
    assert "invited" in mailoutbox[0].subject
    assert "Set your password" in mailoutbox[0].body


def test_a_used_invitation_link_gets_a_clear_page(client, client_for, manager, branch, mailoutbox):
    client_for(manager).post(reverse("accounts:invite"), invite_payload(branch))
    client.logout()
    path = invitation_path(mailoutbox[0])
    client.post(path, {"password1": "Shop-floor-2026!", "password2": "Shop-floor-2026!"})
    response = client.get(path)
    assert response.status_code == 410
    assert response.context["reason"] == "used"
    again = client.post(path, {"password1": "Other-pass-2026!", "password2": "Other-pass-2026!"})
    assert again.status_code == 410
    assert User.objects.get(email="new.tech@example.com").check_password("Shop-floor-2026!")


def test_an_expired_invitation_link_gets_a_clear_page(client, client_for, manager, branch, mailoutbox):
    client_for(manager).post(reverse("accounts:invite"), invite_payload(branch))
    client.logout()
    path = invitation_path(mailoutbox[0])
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        response = client.get(path)
    assert response.status_code == 410
    assert response.context["reason"] == "expired"
    assert "期限" in response.content.decode()


def test_a_forged_invitation_link_gets_a_clear_page(client, db):
    response = client.get(reverse("accounts:accept_invitation", args=["forged-token"]))
    assert response.status_code == 410
    assert response.context["reason"] == "invalid"


def test_a_weak_or_mismatched_password_rerenders_with_messages(client, client_for, manager, branch, mailoutbox):
    client_for(manager).post(reverse("accounts:invite"), invite_payload(branch))
    client.logout()
    path = invitation_path(mailoutbox[0])
    response = client.post(path, {"password1": "123", "password2": "123"})
    assert response.status_code == 200
    assert response.context["form"].errors["password1"]
    response = client.post(path, {"password1": "Shop-floor-2026!", "password2": "Shop-floor-2027!"})
    assert response.context["form"].errors["password2"]
    assert not Invitation.objects.filter(accepted_at__isnull=False).exists()


def test_inviting_an_existing_email_or_a_mismatched_role_is_refused(client_for, manager, branch, sales_rep, mailoutbox):
    client = client_for(manager)
    response = client.post(reverse("accounts:invite"), invite_payload(branch, email="SALES@example.com"))
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    response = client.post(reverse("accounts:invite"), invite_payload(branch, department="sales"))
    assert response.context["form"].errors["department"]
    response = client.post(reverse("accounts:invite"), invite_payload(branch, email="", display_name=""))
    assert set(response.context["form"].errors) >= {"email", "display_name"}
    assert not mailoutbox
    assert User.objects.count() == 2


def test_a_manager_cannot_invite_into_another_branch(client_for, manager, other_branch, mailoutbox):
    response = client_for(manager).post(reverse("accounts:invite"), invite_payload(other_branch))
    assert response.context["form"].errors["branch"]
    assert not mailoutbox


def test_manager_changes_role_and_branch(client_for, manager, sales_rep, branch, other_branch):
    manager.all_branches = True
    manager.save()
    response = client_for(manager).post(
        reverse("accounts:staff_edit", args=[sales_rep.pk]),
        {"email": sales_rep.email, "department": "service", "role": "service_advisor", "branch": other_branch.pk},
    )
    assert response.status_code == 302
    sales_rep.refresh_from_db()
    assert (sales_rep.role, sales_rep.branch) == ("service_advisor", other_branch)


def test_deactivation_asks_for_confirmation_then_keeps_the_account(client_for, manager, sales_rep):
    client = client_for(manager)
    confirm = client.get(reverse("accounts:staff_set_active", args=[sales_rep.pk]))
    assert confirm.status_code == 200
    sales_rep.refresh_from_db()
    assert sales_rep.is_active
    client.post(reverse("accounts:staff_set_active", args=[sales_rep.pk]), {"active": "0"})
    sales_rep.refresh_from_db()
    assert not sales_rep.is_active
    assert User.objects.filter(pk=sales_rep.pk).exists()


def test_a_manager_cannot_deactivate_themselves(client_for, manager):
    client_for(manager).post(reverse("accounts:staff_set_active", args=[manager.pk]), {"active": "0"})
    manager.refresh_from_db()
    assert manager.is_active


def test_resending_an_invitation_invalidates_the_old_link(client, client_for, manager, branch, mailoutbox):
    client_for(manager).post(reverse("accounts:invite"), invite_payload(branch))
    member = User.objects.get(email="new.tech@example.com")
    client.post(reverse("accounts:resend_invitation", args=[member.pk]))
    assert len(mailoutbox) == 2
    client.logout()
    assert client.get(invitation_path(mailoutbox[0])).status_code == 410
    assert client.get(invitation_path(mailoutbox[1])).status_code == 200


def test_a_manager_cannot_demote_themselves(client_for, manager, branch):
    response = client_for(manager).post(
        reverse("accounts:staff_edit", args=[manager.pk]),
        {"email": manager.email, "department": "sales", "role": "sales_rep", "branch": branch.pk},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["role"]
    manager.refresh_from_db()
    assert manager.role == "manager"


def test_only_managers_of_the_branch_can_resend_an_invitation(
    client_for, sales_rep, other_branch_manager, technician, mailoutbox
):
    assert client_for(sales_rep).post(reverse("accounts:resend_invitation", args=[technician.pk])).status_code == 403
    assert (
        client_for(other_branch_manager).post(reverse("accounts:resend_invitation", args=[technician.pk])).status_code
        == 404
    )
    assert not mailoutbox
