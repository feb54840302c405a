"""Finding 4: login e-mails are the manager's to change, never a 500, allauth's rows kept in step."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from accounts import services
from accounts.models import User

pytestmark = pytest.mark.django_db


def edit_payload(member, **overrides) -> dict:
    data = {"email": member.email, "department": member.department, "role": member.role, "branch": member.branch_id}
    return data | overrides


def login_addresses(user) -> list[tuple[str, bool, bool]]:
    return list(EmailAddress.objects.filter(user=user).values_list("email", "primary", "verified"))


@pytest.mark.parametrize(
    "post",
    [
        {"action_add": "", "email": "me@outside.example"},
        {"action_primary": "", "email": "advisor@example.com"},
        {"action_remove": "", "email": "sales@example.com"},
    ],
)
def test_the_email_page_of_allauth_changes_nothing(client_for, sales_rep, advisor, post):
    client = client_for(sales_rep)
    response = client.post(reverse("account_email"), post)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:preferences")
    sales_rep.refresh_from_db()
    assert sales_rep.email == "sales@example.com"
    assert not EmailAddress.objects.filter(email__in=["me@outside.example", "advisor@example.com"]).exists()


def test_the_email_page_says_who_changes_the_address(client_for, sales_rep):
    sales_rep.language = "en"
    sales_rep.save(update_fields=["language"])
    response = client_for(sales_rep).get(reverse("account_email"), follow=True)
    body = response.content.decode()
    assert "managed by your manager" in body
    assert "sales@example.com" in body


def test_the_manager_changes_a_login_email_and_the_new_one_signs_in(client, client_for, manager, sales_rep, password):
    EmailAddress.objects.create(user=sales_rep, email="sales@example.com", primary=True, verified=True)
    EmailAddress.objects.create(user=sales_rep, email="old.alias@example.com", primary=False, verified=True)
    response = client_for(manager).post(
        reverse("accounts:staff_edit", args=[sales_rep.pk]), edit_payload(sales_rep, email="Hanako.Eigyo@Example.com")
    )
    assert response.status_code == 302
    sales_rep.refresh_from_db()
    assert sales_rep.email == "hanako.eigyo@example.com"
    # One address, primary and verified: an old alias is no login name any more.
    assert login_addresses(sales_rep) == [("hanako.eigyo@example.com", True, True)]

    client.logout()
    client.post(reverse("account_login"), {"login": "sales@example.com", "password": password})
    assert "_auth_user_id" not in client.session
    client.post(reverse("account_login"), {"login": "hanako.eigyo@example.com", "password": password})
    assert client.session["_auth_user_id"] == str(sales_rep.pk)


def test_a_colleagues_address_is_refused_with_a_message_and_nothing_is_saved(client_for, manager, sales_rep, advisor):
    manager.language = "en"
    manager.save(update_fields=["language"])
    response = client_for(manager).post(
        reverse("accounts:staff_edit", args=[sales_rep.pk]),
        edit_payload(sales_rep, email="ADVISOR@example.com", department="management", role="manager"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert "A staff member with this e-mail address already exists." in response.content.decode()
    sales_rep.refresh_from_db()
    assert (sales_rep.email, sales_rep.role) == ("sales@example.com", "sales_rep")


def test_an_address_allauth_holds_for_a_colleague_is_refused_too(client_for, manager, sales_rep, advisor):
    EmailAddress.objects.create(user=advisor, email="front.desk@example.com", primary=False, verified=True)
    response = client_for(manager).post(
        reverse("accounts:staff_edit", args=[sales_rep.pk]), edit_payload(sales_rep, email="Front.Desk@example.com")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    sales_rep.refresh_from_db()
    assert sales_rep.email == "sales@example.com"


def test_a_race_for_the_same_address_is_refused_not_a_500_and_nothing_is_half_applied(
    monkeypatch, manager, sales_rep, advisor, branch
):
    # Another manager takes the address between the form's check and the save.
    monkeypatch.setattr(services, "login_email_taken", lambda email, exclude=None: False)
    with pytest.raises(services.EmailTaken):
        services.change_staff(
            member=sales_rep,
            by=manager,
            role="service_advisor",
            department="service",
            branch=branch,
            all_branches=False,
            email="advisor@example.com",
        )
    sales_rep.refresh_from_db()
    assert (sales_rep.email, sales_rep.role) == ("sales@example.com", "sales_rep")
    assert User.objects.filter(email="advisor@example.com").get() == advisor


def test_an_invited_account_starts_with_one_primary_verified_address(client_for, manager, branch, mailoutbox):
    client_for(manager).post(
        reverse("accounts:invite"),
        {
            "display_name": "新人 三郎",
            "email": "New.Tech@example.com",
            "department": "service",
            "role": "technician",
            "branch": branch.pk,
            "language": "ja",
        },
    )
    member = User.objects.get(email="new.tech@example.com")
    assert login_addresses(member) == [("new.tech@example.com", True, True)]


def test_the_admin_refuses_a_colleagues_address_in_any_case_and_keeps_allauth_in_step(rf, sales_rep, advisor):
    from types import SimpleNamespace

    from django.contrib.admin.sites import site
    from django.core.exceptions import ValidationError

    from accounts.admin import AdminUserChangeForm

    form = AdminUserChangeForm(instance=sales_rep)
    form.cleaned_data = {"email": "ADVISOR@example.com"}
    with pytest.raises(ValidationError):
        form.clean_email()

    sales_rep.email = "hanako@example.com"
    site._registry[User].save_model(rf.post("/"), sales_rep, SimpleNamespace(changed_data=["email"]), change=True)
    assert login_addresses(sales_rep) == [("hanako@example.com", True, True)]
