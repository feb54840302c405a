"""Each demo persona signs in through the real form, in both languages, on a desktop and a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.demo import DEMO_PASSWORD, STAFF

pytestmark = pytest.mark.browser

DISPLAY_NAMES = {email: name for email, name, *_rest in STAFF}
# The role badge's label, per language (Japanese from locale/ja).
ROLE_LABELS = {
    "en": {
        "sales@example.com": "Sales rep",
        "technician@example.com": "Technician",
        "advisor@example.com": "Service advisor",
        "manager@example.com": "Manager",
    },
    "ja": {
        "sales@example.com": "営業",
        "technician@example.com": "整備士",
        "advisor@example.com": "サービスアドバイザー",
        "manager@example.com": "店長",
    },
}
BRANCH = "東京東店"


def open_login(page, base_url: str, lang: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    # Japanese is the default whatever the browser asks for.
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    if lang == "en":
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page).to_have_url(re.compile(r"/accounts/login/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def sign_in(page, email: str, password: str) -> None:
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("form[action$='/accounts/login/'] [type=submit]").click()


def assert_no_horizontal_scroll(page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] + 1, f"page scrolls sideways: scrollWidth {widths[0]} > innerWidth {widths[1]}"


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("email", list(ROLE_LABELS["en"]))
def test_persona_signs_in_and_sees_their_home_page(demo_site, new_page, email, lang, viewport):
    page = new_page(viewport)
    open_login(page, demo_site, lang)
    if viewport == "phone":
        assert_no_horizontal_scroll(page)

    sign_in(page, email, DEMO_PASSWORD)

    expect(page).to_have_url(f"{demo_site}/")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.get_by_role("heading", level=1)).to_contain_text(DISPLAY_NAMES[email])
    expect(page.get_by_test_id("role")).to_have_text(ROLE_LABELS[lang][email])
    expect(page.get_by_test_id("branch")).to_have_text(BRANCH)
    if viewport == "phone":
        assert_no_horizontal_scroll(page)


def test_a_wrong_password_shows_an_error_and_stays_on_the_login_page(demo_site, new_page):
    page = new_page("desktop")
    open_login(page, demo_site, "ja")

    sign_in(page, "sales@example.com", "not-the-password")

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    error = page.locator("form[action$='/accounts/login/'] .alert-danger")
    expect(error).to_be_visible()
    expect(error).to_have_text(re.compile(r"\S"))
    expect(page.locator("input[name=login]")).to_have_value("sales@example.com")
    expect(page.locator("input[name=password]")).to_be_visible()
    expect(page.get_by_test_id("role")).to_have_count(0)


def test_the_language_chosen_on_the_login_page_survives_signing_in(demo_site, new_page):
    page = new_page("desktop")
    open_login(page, demo_site, "en")

    sign_in(page, "sales@example.com", DEMO_PASSWORD)

    expect(page).to_have_url(f"{demo_site}/")
    assert page.locator("html").get_attribute("lang") == "en"
