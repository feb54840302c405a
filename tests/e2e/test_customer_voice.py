"""Customer voice in the browser: a customer answers on a phone in Japanese, the
manager reads it on the shared results page, the sales rep resolves the recovery item.

Labels are found by role, name attribute or test id rather than by text: the
Japanese catalogue is merged after this lands, and the journey must not
depend on it.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role, User
from customers.models import Customer
from feedback import services
from feedback.models import CustomerVoice, SurveyResponse, VoiceStatus
from repairs import services as repairs_services
from repairs.models import RepairJob, Status

from .test_journeys import all_violations, report, sideways_scroll, signed_in
from .test_personas import assert_no_horizontal_scroll

pytestmark = pytest.mark.browser

SALES = "sales@example.com"
MANAGER = "manager@example.com"


def freshly_delivered_job() -> RepairJob:
    """A job of the demo sales rep's Japanese-speaking customer, delivered through the services."""
    sales = User.objects.get(email=SALES)
    advisor = User.objects.get(email="advisor@example.com")
    customer = Customer.objects.filter(sales_owner=sales, language="ja").exclude(email="").order_by("pk").first()
    job = repairs_services.create_job(
        by=advisor,
        customer=customer,
        vehicle=customer.vehicles.first(),
        kind="maintenance",
        title="ブラウザ確認の点検",
        at=timezone.now() - timedelta(days=2),
    )
    for status in (Status.IN_PROGRESS, Status.QUALITY_CHECK, Status.READY, Status.DELIVERED):
        job = repairs_services.change_status(job, to=status, by=advisor, expected_version=job.version)
    return job


def invitation_for(job: RepairJob):
    invitation, _ = services.create_invitation(job, deliver=False)
    services.record_survey_sent(invitation)
    return invitation


def test_a_customer_answers_on_a_phone_the_manager_sees_it_and_the_sales_rep_resolves_the_recovery(demo_site, new_page):
    job = freshly_delivered_job()
    invitation = invitation_for(job)

    # The customer, on a phone, in Japanese (their language), without logging in.
    phone = new_page("phone")
    phone.goto(f"{demo_site}{services.survey_path(invitation)}")
    expect(phone.locator("html")).to_have_attribute("lang", "ja")
    assert_no_horizontal_scroll(phone)
    assert all_violations(phone) == []
    phone.locator("label[for=id_overall_1]").click()  # 2 of 5
    phone.locator("label[for=id_explanation_2]").click()
    phone.locator("label[for=id_nps_3]").click()  # 3 of 10
    phone.locator("textarea[name=comment]").fill("引き取り時間の連絡がありませんでした。")
    phone.locator("input[name=may_contact]").check()
    submit = phone.locator("form.survey-form button[type=submit]")
    assert submit.bounding_box()["height"] >= 44
    submit.click()
    expect(phone).to_have_url(re.compile(r"/thanks/"))
    expect(phone.locator("html")).to_have_attribute("lang", "ja")
    assert_no_horizontal_scroll(phone)
    response = SurveyResponse.objects.get(job=job)
    assert (response.overall, response.explanation, response.nps, response.may_contact) == (2, 3, 3, True)

    # The manager reads it on the shared results page.
    manager = signed_in(new_page, demo_site, MANAGER)
    manager.goto(f"{demo_site}/voice/results/?period=30")
    expect(manager.get_by_test_id("latest-comments")).to_contain_text("引き取り時間の連絡がありませんでした。")
    expect(manager.get_by_test_id("answers").get_by_role("link", name=job.number)).to_be_visible()
    expect(manager.locator("#chart-overall")).to_be_visible()

    # The sales rep finds the recovery item on their home page and resolves it with the customer.
    voice = CustomerVoice.objects.get(survey_response=response)
    assert voice.assignee.email == SALES and voice.co_assignee.role == Role.SERVICE_ADVISOR
    sales = signed_in(new_page, demo_site, SALES)
    sales.get_by_test_id("voice-panel").get_by_role("link", name=voice.title).click()
    expect(sales).to_have_url(f"{demo_site}{voice.get_absolute_url()}")
    sales.locator("textarea[name=resolution]").fill("お電話でお詫びし、次回から完了時に連絡することにしました。")
    sales.locator("form[action$='/resolve/'] button[type=submit]").click()
    expect(sales.get_by_test_id("voice-resolution")).to_contain_text("次回から完了時に連絡")
    sales.locator("form[action$='/follow-up/'] button[type=submit]").click()
    expect(sales.get_by_test_id("voice-follow-up")).to_contain_text(timezone.localdate().strftime("%Y-%m-%d"))
    sales.locator("form[action$='/status/'] button[value=closed]").click()
    expect(sales.get_by_test_id("voice-status")).to_have_text(re.compile(r"\S"))
    voice.refresh_from_db()
    assert voice.status == VoiceStatus.CLOSED and voice.customer_followed_up


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_customer_voice_pages_have_zero_axe_violations_and_fit_a_phone(demo_site, new_page, viewport):
    job = freshly_delivered_job()
    invitation = invitation_for(job)
    voice = CustomerVoice.objects.filter(branch=job.branch, is_recovery=True).order_by("pk").first()
    found: dict[str, list[str]] = {}

    def check(page, where: str) -> None:
        page.wait_for_load_state("networkidle")
        found[where] = all_violations(page) + (sideways_scroll(page) if viewport == "phone" else [])

    customer_page = new_page(viewport)
    for path in (services.survey_path(invitation), "/voice/s/not-a-link/", services.opt_out_path(invitation)):
        customer_page.goto(f"{demo_site}{path}")
        check(customer_page, path)
    customer_page.goto(f"{demo_site}{services.survey_path(invitation)}")
    customer_page.locator("form.survey-form button[type=submit]").click()  # nothing chosen: errors shown
    expect(customer_page.locator("#survey-errors")).to_be_visible()
    check(customer_page, "survey with errors")

    staff = signed_in(new_page, demo_site, SALES, viewport)
    for path in (
        "/voice/results/",
        "/voice/results/?grain=month&period=365",
        "/voice/items/",
        "/voice/items/overdue/",
        f"/voice/items/{voice.pk}/",
        "/customers/?q=サトウ",
        f"/customers/{job.customer_id}/",
        f"/voice/items/new/?customer={job.customer_id}",
        "/",
    ):
        staff.goto(f"{demo_site}{path}")
        check(staff, path)
    assert not any(found.values()), report(found)
