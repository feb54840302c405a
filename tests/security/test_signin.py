"""Sign-in hardening: the admin goes through allauth, the limit is per person, resets reveal nothing."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_with_totp(branch, password):
    user = User.objects.create_superuser("root@example.com", password, display_name="管理者", branch=branch)
    TOTP.activate(user, generate_totp_secret())
    return user


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail_sign_in(client, email: str, times: int, **extra) -> None:
    for _ in range(times):
        client.post(reverse("account_login"), {"login": email, "password": "wrong-password"}, **extra)


# Finding 1: /admin/login/ bypassed allauth (no rate limit, no second factor).


def test_the_admin_login_page_sends_everyone_to_the_portal_sign_in(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert response["Location"].endswith("?next=%2Fadmin%2F")


def test_a_superuser_with_totp_cannot_enter_the_admin_with_the_password_alone(client, superuser_with_totp, password):
    response = client.post("/admin/login/", {"username": superuser_with_totp.email, "password": password})
    assert not signed_in(client)
    assert response["Location"].startswith(reverse("account_login"))
    assert client.get("/admin/")["Location"].startswith("/admin/login/")

    # The portal sign-in accepts the password but then asks for the code.
    response = client.post(reverse("account_login"), {"login": superuser_with_totp.email, "password": password})
    assert response["Location"] == reverse("mfa_authenticate")
    assert not signed_in(client)
    assert client.get("/admin/").status_code == 302


def test_wrong_passwords_lock_the_superuser_out_of_the_admin_too(client, branch, password):
    root = User.objects.create_superuser("root@example.com", password, display_name="管理者", branch=branch)
    fail_sign_in(client, root.email, settings.LOGIN_FAILURES_PER_5_MINUTES)
    client.post("/admin/login/", {"username": root.email, "password": password})
    assert not signed_in(client)
    response = client.post(reverse("account_login"), {"login": root.email, "password": password})
    assert not signed_in(client)
    assert response.status_code in (200, 429)


def test_a_superuser_signed_in_through_the_portal_reaches_the_admin(client, branch, password):
    root = User.objects.create_superuser("root@example.com", password, display_name="管理者", branch=branch)
    client.post(reverse("account_login"), {"login": root.email, "password": password})
    assert client.get("/admin/").status_code == 200


def test_a_signed_in_colleague_without_admin_access_is_refused_at_the_admin_login(client_for, sales_rep):
    assert client_for(sales_rep).get("/admin/login/").status_code == 403


# Finding 7: the limit locked out a whole showroom behind one address.


def test_one_persons_wrong_passwords_do_not_lock_out_a_colleague_on_the_same_address(
    client, sales_rep, technician, password
):
    fail_sign_in(client, sales_rep.email, settings.LOGIN_FAILURES_PER_5_MINUTES)

    refused = client.post(reverse("account_login"), {"login": sales_rep.email, "password": password})
    assert not signed_in(client)
    assert refused.status_code in (200, 429)

    client.post(reverse("account_login"), {"login": technician.email, "password": password})
    assert client.session["_auth_user_id"] == str(technician.pk)


def test_the_limit_per_address_still_stops_guessing_across_many_accounts(client, settings, sales_rep, password):
    settings.ACCOUNT_RATE_LIMITS = settings.ACCOUNT_RATE_LIMITS | {"login_failed": "3/m/ip,5/5m/key"}
    for number in range(3):
        fail_sign_in(client, f"guess{number}@example.com", 1)
    client.post(reverse("account_login"), {"login": sales_rep.email, "password": password})
    assert not signed_in(client)


def test_behind_a_trusted_proxy_each_client_address_is_counted_apart(client, settings, sales_rep, password):
    settings.ACCOUNT_RATE_LIMITS = settings.ACCOUNT_RATE_LIMITS | {"login_failed": "3/m/ip,50/5m/key"}
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    showroom = {"HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    for number in range(3):
        fail_sign_in(client, f"guess{number}@example.com", 1, **showroom)
    client.post(reverse("account_login"), {"login": sales_rep.email, "password": password}, **showroom)
    assert not signed_in(client)

    workshop = {"HTTP_X_FORWARDED_FOR": "198.51.100.20"}
    client.post(reverse("account_login"), {"login": sales_rep.email, "password": password}, **workshop)
    assert signed_in(client)


def test_without_a_trusted_proxy_a_forged_forwarded_for_header_changes_nothing(client, settings, sales_rep, password):
    settings.ACCOUNT_RATE_LIMITS = settings.ACCOUNT_RATE_LIMITS | {"login_failed": "3/m/ip,50/5m/key"}
    assert settings.ALLAUTH_TRUSTED_PROXY_COUNT == 0
    for number in range(3):
        fail_sign_in(client, f"guess{number}@example.com", 1, HTTP_X_FORWARDED_FOR=f"192.0.2.{number}")
    client.post(
        reverse("account_login"), {"login": sales_rep.email, "password": password}, HTTP_X_FORWARDED_FOR="192.0.2.99"
    )
    assert not signed_in(client)


# Finding 10: password reset mailed "unknown account" messages to any address.


def test_password_reset_for_an_unknown_address_sends_nothing_and_looks_the_same(client, sales_rep, mailoutbox):
    unknown = client.post(reverse("account_reset_password"), {"email": "stranger@example.net"})
    assert not mailoutbox
    known = client.post(reverse("account_reset_password"), {"email": sales_rep.email})
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [sales_rep.email]
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
