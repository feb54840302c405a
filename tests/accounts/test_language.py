from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_pages_render_in_japanese_by_default(client):
    response = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="en-US")
    assert '<html lang="ja">' in response.content.decode()
    assert "ログイン" in response.content.decode()


def test_a_visitor_can_switch_the_login_page_to_english(client):
    client.post(reverse("accounts:set_language"), {"language": "en", "next": reverse("account_login")})
    response = client.get(reverse("account_login"))
    assert '<html lang="en">' in response.content.decode()
    assert "Sign in" in response.content.decode()


def test_the_language_choice_is_saved_on_the_user(client_for, technician):
    client = client_for(technician)
    assert "ホーム" in client.get(reverse("home")).content.decode()
    response = client.post(reverse("accounts:set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    technician.refresh_from_db()
    assert technician.language == "en"
    client.cookies.clear()
    client.force_login(technician)
    assert "Home" in client.get(reverse("home")).content.decode()


def test_set_language_refuses_foreign_redirects_and_unknown_languages(client_for, technician):
    client = client_for(technician)
    response = client.post(reverse("accounts:set_language"), {"language": "xx", "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")
    technician.refresh_from_db()
    assert technician.language == "ja"


def test_preferences_switch_email_off_per_kind(client_for, technician):
    client = client_for(technician)
    response = client.get(reverse("accounts:preferences"))
    assert response.status_code == 200
    client.post(reverse("accounts:preferences"), {"language": "ja", "email_job_assigned": "on"})
    technician.refresh_from_db()
    assert technician.wants_email("job_assigned")
    assert not technician.wants_email("message")


def test_the_language_chosen_on_the_login_page_is_saved_at_sign_in(client, technician, password):
    client.post(reverse("accounts:set_language"), {"language": "en", "next": reverse("account_login")})
    client.post(reverse("account_login"), {"login": technician.email, "password": password})
    technician.refresh_from_db()
    assert technician.language == "en"
    assert "Home" in client.get(reverse("home")).content.decode()


def test_signing_in_without_choosing_keeps_the_saved_language(client, technician, password):
    client.post(reverse("account_login"), {"login": technician.email, "password": password})
    technician.refresh_from_db()
    assert technician.language == "ja"


def test_preferences_refuse_an_unknown_language_and_keep_the_settings(client_for, technician):
    response = client_for(technician).post(reverse("accounts:preferences"), {"language": "fr"})
    assert response.status_code == 200
    assert response.context["form"].errors["language"]
    technician.refresh_from_db()
    assert (technician.language, technician.email_preferences) == ("ja", {})


def test_the_language_service_refuses_an_unknown_language_and_saves_a_known_one(sales_rep):
    from accounts import services

    with pytest.raises(ValueError):
        services.set_language(user=sales_rep, language="xx")
    assert services.set_language(user=sales_rep, language="en") is True
    sales_rep.refresh_from_db()
    assert sales_rep.language == "en"
    assert services.set_language(user=sales_rep, language="en") is False


def test_saving_preferences_writes_only_what_changed(sales_rep):
    from accounts import services

    assert services.save_preferences(user=sales_rep, language=sales_rep.language, email_preferences={}) == []
    changed = services.save_preferences(user=sales_rep, language="en", email_preferences={"message": False})
    assert changed == ["language", "email_preferences"]
    sales_rep.refresh_from_db()
    assert (sales_rep.language, sales_rep.wants_email("message")) == ("en", False)
