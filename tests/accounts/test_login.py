from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_staff_member_signs_in_with_email_and_password(client, sales_rep, password):
    response = client.post(reverse("account_login"), {"login": "sales@example.com", "password": password})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    home = client.get(reverse("home"))
    assert "営業 花子" in home.content.decode()


def test_email_is_case_insensitive_at_login(client, sales_rep, password):
    response = client.post(reverse("account_login"), {"login": "SALES@Example.com", "password": password})
    assert response.status_code == 302


def test_wrong_password_is_refused_with_a_message(client, sales_rep):
    response = client.post(reverse("account_login"), {"login": "sales@example.com", "password": "wrong-password"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert response.context["form"].errors
    assert "入力されたメールアドレスもしくはパスワードが正しくありません" in response.content.decode()


def test_login_is_rate_limited_after_the_configured_failures(client, sales_rep, password):
    for _ in range(settings.LOGIN_FAILURES_PER_5_MINUTES):
        client.post(reverse("account_login"), {"login": "sales@example.com", "password": "wrong"})
    # Even the right password is refused while the limit holds.
    blocked = client.post(reverse("account_login"), {"login": "sales@example.com", "password": password})
    assert "_auth_user_id" not in client.session
    assert blocked.status_code in (200, 429)
    assert "ログイン失敗が連続しています" in blocked.content.decode() or blocked.status_code == 429


def test_a_deactivated_account_cannot_sign_in(client, sales_rep, password):
    sales_rep.is_active = False
    sales_rep.save()
    client.post(reverse("account_login"), {"login": "sales@example.com", "password": password})
    assert "_auth_user_id" not in client.session


def test_signup_is_closed_and_says_who_creates_accounts(client):
    response = client.get(reverse("account_signup"))
    assert response.status_code == 200
    assert "店長" in response.content.decode()
    response = client.post(reverse("account_signup"), {"email": "new@example.com", "password1": "a-Strong-pass-99"})
    from accounts.models import User

    assert not User.objects.filter(email="new@example.com").exists()


def test_login_page_offers_no_signup_link(client):
    response = client.get(reverse("account_login"))
    assert reverse("account_signup") not in response.content.decode()


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_password_reset_sends_an_email_with_a_working_link(client, sales_rep, mailoutbox):
    response = client.post(reverse("account_reset_password"), {"email": "sales@example.com"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    body = mailoutbox[0].body
    link = next(word for word in body.split() if "/accounts/password/reset/key/" in word)
    path = link.split("testserver", 1)[-1]
    response = client.get(path, follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else path
    response = client.post(form_url, {"password1": "brand-New-pass-42", "password2": "brand-New-pass-42"})
    assert response.status_code == 302
    sales_rep.refresh_from_db()
    assert sales_rep.check_password("brand-New-pass-42")


def test_any_signed_in_user_can_start_enabling_totp(client, technician, password):
    client.post(reverse("account_login"), {"login": technician.email, "password": password})
    assert client.get(reverse("mfa_index")).status_code == 200
    # allauth asks for the password again before any MFA change.
    assert client.get(reverse("mfa_activate_totp"))["Location"].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": password})
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 200
    assert "data:image/svg+xml" in response.content.decode()


def test_a_user_enables_totp_and_is_then_asked_for_a_code_at_sign_in(client, technician, password):
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import (
        SECRET_SESSION_KEY,
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    client.post(reverse("account_login"), {"login": technician.email, "password": password})
    client.post(reverse("account_reauthenticate"), {"password": password})
    client.get(reverse("mfa_activate_totp"))
    secret = client.session[SECRET_SESSION_KEY]
    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    client.post(reverse("mfa_activate_totp"), {"code": code})
    assert Authenticator.objects.filter(user=technician, type=Authenticator.Type.TOTP).exists()

    client.logout()
    response = client.post(reverse("account_login"), {"login": technician.email, "password": password})
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
