"""Finding 3: a manager acts only on people within their own scope; invitations only for unused accounts."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Department, Invitation, Role, User
from accounts.permissions import can_manage_member

from ..factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def chief(branch):
    """The all-branch manager, whose desk happens to be at the Tokyo branch."""
    return UserFactory(
        email="chief@example.com",
        display_name="本部長 一朗",
        role=Role.MANAGER,
        department=Department.MANAGEMENT,
        branch=branch,
        all_branches=True,
    )


@pytest.fixture
def superuser(branch, password):
    return User.objects.create_superuser("root@example.com", password, display_name="管理者", branch=branch)


@pytest.fixture
def invited(branch):
    user = UserFactory(email="new.tech@example.com", role=Role.TECHNICIAN, department=Department.SERVICE, branch=branch)
    user.set_unusable_password()
    user.save()
    return user


def edit_payload(member, **overrides) -> dict:
    data = {
        "email": member.email,
        "department": member.department,
        "role": member.role,
        "branch": member.branch_id,
    }
    return data | overrides


@pytest.mark.parametrize("wider", ["chief", "superuser"])
def test_a_branch_manager_cannot_edit_demote_or_deactivate_someone_of_wider_scope(request, client_for, manager, wider):
    member = request.getfixturevalue(wider)
    client = client_for(manager)
    edit = reverse("accounts:staff_edit", args=[member.pk])
    active = reverse("accounts:staff_set_active", args=[member.pk])

    assert client.get(edit).status_code == 403
    demote = edit_payload(member, role="sales_rep", department="sales")
    assert client.post(edit, demote).status_code == 403
    assert client.get(active).status_code == 403
    assert client.post(active, {"active": "0"}).status_code == 403

    member.refresh_from_db()
    assert (member.role, member.is_active) == ("manager", True)


def test_the_team_page_offers_no_buttons_for_someone_of_wider_scope(client_for, manager, chief, sales_rep):
    body = client_for(manager).get(reverse("accounts:team")).content.decode()
    assert chief.display_name in body
    assert reverse("accounts:staff_edit", args=[chief.pk]) not in body
    assert reverse("accounts:staff_set_active", args=[chief.pk]) not in body
    assert reverse("accounts:staff_edit", args=[sales_rep.pk]) in body
    assert reverse("accounts:staff_set_active", args=[sales_rep.pk]) in body


def test_a_branch_manager_manages_a_fellow_branch_manager_of_their_branch(client_for, manager, branch):
    colleague = UserFactory(role=Role.MANAGER, department=Department.SALES, branch=branch)
    client = client_for(manager)
    response = client.post(
        reverse("accounts:staff_edit", args=[colleague.pk]), edit_payload(colleague, department="service")
    )
    assert response.status_code == 302
    client.post(reverse("accounts:staff_set_active", args=[colleague.pk]), {"active": "0"})
    colleague.refresh_from_db()
    assert (colleague.department, colleague.is_active) == ("service", False)


def test_the_all_branch_manager_manages_another_branchs_manager(client_for, chief, other_branch_manager):
    client = client_for(chief)
    url = reverse("accounts:staff_edit", args=[other_branch_manager.pk])
    response = client.post(url, edit_payload(other_branch_manager, role="sales_rep", department="sales"))
    assert response.status_code == 302
    other_branch_manager.refresh_from_db()
    assert other_branch_manager.role == "sales_rep"


def test_the_all_branch_manager_cannot_touch_a_superuser(client_for, chief, superuser):
    client = client_for(chief)
    assert client.get(reverse("accounts:staff_edit", args=[superuser.pk])).status_code == 403
    assert client.post(reverse("accounts:staff_set_active", args=[superuser.pk]), {"active": "0"}).status_code == 403
    superuser.refresh_from_db()
    assert superuser.is_active


def test_another_branchs_manager_neither_sees_nor_changes_our_staff(client_for, other_branch_manager, sales_rep):
    client = client_for(other_branch_manager)
    assert client.post(reverse("accounts:staff_set_active", args=[sales_rep.pk]), {"active": "0"}).status_code == 404
    assert not can_manage_member(other_branch_manager, sales_rep)
    with pytest.raises(PermissionDenied):
        services.set_staff_active(member=sales_rep, by=other_branch_manager, active=False)
    sales_rep.refresh_from_db()
    assert sales_rep.is_active


def test_the_services_refuse_a_member_of_wider_scope_whoever_calls_them(manager, chief, branch):
    with pytest.raises(PermissionDenied):
        services.change_staff(
            member=chief, by=manager, role="sales_rep", department="sales", branch=branch, all_branches=False
        )
    with pytest.raises(PermissionDenied):
        services.set_staff_active(member=chief, by=manager, active=False)
    chief.refresh_from_db()
    assert (chief.role, chief.all_branches, chief.is_active) == ("manager", True, True)


def test_a_branch_manager_cannot_grant_all_branch_scope(client_for, manager, sales_rep, branch):
    with pytest.raises(PermissionDenied):
        services.change_staff(
            member=sales_rep, by=manager, role="manager", department="sales", branch=branch, all_branches=True
        )
    # Through the form the field is not even offered, and a forged value is ignored.
    client_for(manager).post(
        reverse("accounts:staff_edit", args=[sales_rep.pk]),
        edit_payload(sales_rep, role="manager", all_branches="on"),
    )
    sales_rep.refresh_from_db()
    assert (sales_rep.role, sales_rep.all_branches) == ("manager", False)


def test_the_all_branch_manager_may_grant_all_branch_scope(chief, manager, branch):
    services.change_staff(
        member=manager, by=chief, role="manager", department="management", branch=branch, all_branches=True
    )
    manager.refresh_from_db()
    assert manager.all_branches


def test_a_branch_manager_cannot_move_someone_to_or_invite_into_another_branch(manager, sales_rep, other_branch):
    with pytest.raises(PermissionDenied):
        services.change_staff(
            member=sales_rep, by=manager, role="sales_rep", department="sales", branch=other_branch, all_branches=False
        )
    with pytest.raises(PermissionDenied):
        services.invite_staff(
            by=manager,
            email="x@example.com",
            display_name="x",
            department="sales",
            role="sales_rep",
            branch=other_branch,
            language="ja",
        )
    sales_rep.refresh_from_db()
    assert sales_rep.branch != other_branch
    assert not User.objects.filter(email="x@example.com").exists()


# "Resend invitation" mailed a working set-password link to an active account.


def test_resending_an_invitation_to_someone_who_signs_in_is_refused_and_sends_nothing(
    client_for, manager, sales_rep, mailoutbox
):
    sales_rep.last_login = timezone.now()
    sales_rep.save(update_fields=["last_login"])
    manager.language = "en"
    manager.save(update_fields=["language"])
    response = client_for(manager).post(reverse("accounts:resend_invitation", args=[sales_rep.pk]), follow=True)
    assert response.status_code == 200
    assert not mailoutbox
    assert not Invitation.objects.filter(user=sales_rep).exists()
    assert "no invitation was sent" in response.content.decode()


def test_an_account_with_a_password_but_no_sign_in_yet_gets_no_invitation_either(manager, sales_rep, mailoutbox):
    assert sales_rep.last_login is None and sales_rep.has_usable_password()
    with pytest.raises(services.InvitationRefused):
        services.send_invitation(user=sales_rep, by=manager)
    assert not mailoutbox


def test_an_invitation_is_resent_to_an_account_never_used(client_for, manager, invited, mailoutbox):
    client = client_for(manager)
    assert (
        reverse("accounts:resend_invitation", args=[invited.pk])
        in client.get(reverse("accounts:team")).content.decode()
    )
    client.post(reverse("accounts:resend_invitation", args=[invited.pk]))
    assert [message.to for message in mailoutbox] == [[invited.email]]


def test_the_team_page_offers_resend_only_for_accounts_never_used(client_for, manager, sales_rep, invited):
    body = client_for(manager).get(reverse("accounts:team")).content.decode()
    assert reverse("accounts:resend_invitation", args=[invited.pk]) in body
    assert reverse("accounts:resend_invitation", args=[sales_rep.pk]) not in body


def test_a_branch_manager_cannot_resend_an_invitation_to_someone_of_wider_scope(client_for, manager, chief, mailoutbox):
    chief.set_unusable_password()
    chief.save()
    assert client_for(manager).post(reverse("accounts:resend_invitation", args=[chief.pk])).status_code == 403
    assert not mailoutbox
