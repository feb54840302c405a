"""Cross-department loops in the browser: the customer's approval from the
technician's phone to the sales rep's desk and back, and the customer's own
status link on a phone, each person in their own browser context.

Live changes arrive through htmx polling (ETag/304) without a reload: a page
"did not navigate" when a marker set on its `window` before the action is
still there after. Elements are found by test ids and form field names so the
tests hold in either language.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from repairs import approvals, leads, services, status_links
from repairs.models import ApprovalRequest, RepairJob, Status

from .test_journeys import (
    advance,
    all_violations,
    assert_same_document,
    job_for_a_new_customer,
    mark_document,
    png,
    report,
    signed_in,
    sweep,
)
from .test_personas import assert_no_horizontal_scroll

pytestmark = pytest.mark.browser

SALES = "sales@example.com"
TECHNICIAN = "technician@example.com"
# A poll runs every 5 s (staff screens) or 10 s (the customer's page).
LIVE = 25_000
MIN_TAP_PX = 48
# Workshop and customer-facing statuses in Japanese (every demo persona's and customer's language).
AWAITING_APPROVAL = "お客様承認待ち"
IN_PROGRESS = "作業中"
CUSTOMER_IN_PROGRESS = "作業中"
CUSTOMER_READY = "お引き取り可能"


def assert_tappable(locator) -> None:
    box = locator.bounding_box()
    assert box is not None, "the button is not rendered"
    assert box["height"] >= MIN_TAP_PX, f"tap target only {box['height']:.0f} px high"


def new_job(title: str) -> RepairJob:
    """A walk-in for a new customer of the demo sales rep, claimed by the demo technician and diagnosing."""
    job = job_for_a_new_customer(
        title, new_customer_email="haruko@example.jp", promised_at=timezone.now() + timedelta(hours=3)
    )
    return advance(job, Status.DIAGNOSING)


def wait_for_loops(page) -> None:
    """The job page's approvals/leads section is loaded after the page, then polls itself."""
    expect(page.locator("#job-approvals-leads[hx-trigger='every 5s']")).to_have_count(1)


# --- the approval loop ---------------------------------------------------------------


def test_the_approval_loop_runs_from_the_technicians_phone_to_the_sales_reps_desk_and_back(
    demo_site, new_page, tmp_path
):
    job = new_job("追加作業の確認")
    sales = signed_in(new_page, demo_site, SALES)
    waiting = sales.locator("#approvals-live-panel")  # "approvals waiting for me" on the home page
    expect(waiting).to_be_visible()
    expect(waiting.locator(f"[data-job='{job.number}']")).to_have_count(0)
    mark_document(sales)

    technician = signed_in(new_page, demo_site, TECHNICIAN, "phone")
    technician.goto(f"{demo_site}/jobs/{job.pk}/")
    wait_for_loops(technician)
    ask = technician.get_by_test_id("ask-approval")
    assert_tappable(ask)
    ask.click()
    technician.locator("#id_work").fill("リアブレーキパッド交換")
    technician.locator("#id_reason").fill("残り2mm。次回点検までもちません。")
    technician.locator("#id_estimate_yen").fill("35,200")
    technician.locator("input[type=file][name=photos]").set_input_files(png(tmp_path / "pads.png"))
    assert_no_horizontal_scroll(technician)
    send = technician.get_by_test_id("send-approval")
    assert_tappable(send)
    send.click()
    expect(technician).to_have_url(f"{demo_site}/jobs/{job.pk}/")
    expect(technician.get_by_test_id("workshop-status")).to_have_text(AWAITING_APPROVAL)
    wait_for_loops(technician)
    card = technician.locator("#job-approvals-leads [data-testid=approval]")
    expect(card).to_have_attribute("data-status", "pending")
    mark_document(technician)

    row = waiting.locator(f"[data-job='{job.number}']")
    expect(row).to_have_count(1, timeout=LIVE)  # arrived without a reload
    expect(row).to_contain_text("35,200")
    assert_same_document(sales)
    row.get_by_role("link").click()
    expect(sales.get_by_test_id("estimate")).to_contain_text("35,200")
    expect(sales.locator("a[href='tel:03-1234-5678']")).to_have_count(1)
    sales.locator("input[name=decision][value=approved]").check()
    sales.locator("select[name=contact_method]").select_option("phone")
    sales.locator("textarea[name=note]").fill("お電話でご了承いただきました")
    sales.get_by_test_id("save-decision").click()
    expect(sales).to_have_url(f"{demo_site}/jobs/{job.pk}/")

    expect(card).to_have_attribute("data-status", "approved", timeout=LIVE)
    expect(card.get_by_test_id("approval-decision")).to_contain_text("営業 花子")
    expect(technician.get_by_test_id("workshop-status")).to_have_text(IN_PROGRESS, timeout=LIVE)
    assert_same_document(technician)

    approval = ApprovalRequest.objects.select_related("decided_by", "message").get(job=job)
    assert (approval.status, approval.decided_by.email, approval.estimate_yen) == ("approved", SALES, 35200)
    assert approval.response_seconds is not None
    assert approval.message.attachments.count() == 1
    assert RepairJob.objects.get(pk=job.pk).status == Status.IN_PROGRESS


# --- the customer's status link ------------------------------------------------------


def test_the_customer_opens_the_link_on_a_phone_and_sees_the_next_tap_of_the_technician(demo_site, new_page):
    job = new_job("お客様リンクの確認")
    technician_user = User.objects.get(email=TECHNICIAN)
    for status in (Status.IN_PROGRESS, Status.QUALITY_CHECK):
        job = services.change_status(job, to=status, by=technician_user, expected_version=job.version)
    link = status_links.create_status_link(job, by=User.objects.get(email=SALES))

    customer = new_page("phone")
    customer.goto(f"{demo_site}{link.public_url}")
    status = customer.get_by_test_id("customer-status")
    expect(status).to_have_text(CUSTOMER_IN_PROGRESS)
    expect(customer.get_by_test_id("masked-plate")).to_have_text("品川 500 さ ••-34")
    html = customer.content()
    for secret in ("試験 春子", "シケン ハルコ", "03-1234-5678", "haruko@example.jp", "12-34"):
        assert secret not in html
    assert_no_horizontal_scroll(customer)
    assert all_violations(customer) == []
    mark_document(customer)

    technician = signed_in(new_page, demo_site, TECHNICIAN, "phone")
    technician.goto(f"{demo_site}/jobs/{job.pk}/")
    ready = technician.locator("button[name=to][value=ready]")
    assert_tappable(ready)
    ready.click()
    expect(technician.get_by_test_id("workshop-status")).not_to_have_text("完成検査")

    expect(status).to_have_text(CUSTOMER_READY, timeout=LIVE)
    assert_same_document(customer)


def test_a_revoked_link_shows_the_friendly_page_on_a_phone(demo_site, new_page):
    job = new_job("取り消しの確認")
    sales_user = User.objects.get(email=SALES)
    link = status_links.create_status_link(job, by=sales_user)
    sales = signed_in(new_page, demo_site, SALES, "phone")
    sales.goto(f"{demo_site}/jobs/{job.pk}/#status-link")
    wait_for_loops(sales)
    section = sales.locator("#status-link")
    qr = section.locator("img.status-qr")
    expect(qr).to_have_count(1)
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    sales.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=qr.element_handle())
    expect(section.locator("input[type=url]")).to_have_value(f"{demo_site}{link.public_url}")
    sales.once("dialog", lambda dialog: dialog.accept())
    section.locator("form[data-confirm] button[type=submit]").click()
    expect(sales).to_have_url(f"{demo_site}/jobs/{job.pk}/#status-link")

    customer = new_page("phone")
    response = customer.goto(f"{demo_site}{link.public_url}")
    assert response.status == 410
    expect(customer.locator("h1")).to_be_visible()
    assert "品川" not in customer.content()
    assert all_violations(customer) == []


# --- accessibility and phone fit of the new screens ------------------------------------


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_loops_screens_have_zero_axe_violations_and_fit_a_phone(demo_site, new_page, viewport):
    job = new_job("画面確認（ループ）")
    technician_user = User.objects.get(email=TECHNICIAN)
    approval = approvals.request_approval(job, by=technician_user, work="バッテリー交換", estimate_yen=22000)
    leads.flag_sales_lead(job, by=technician_user, reason="new_models", note="新型に興味あり")
    status_links.create_status_link(job, by=User.objects.get(email=SALES))
    pages = {
        SALES: [
            "/",
            "/jobs/approvals/",
            f"/jobs/approvals/{approval.pk}/",
            "/jobs/my-requests/",
            "/jobs/leads/",
            f"/jobs/{job.pk}/",
        ],
        TECHNICIAN: [f"/jobs/{job.pk}/", f"/jobs/{job.pk}/lead/", "/jobs/leads/"],
    }

    def settle(page, path: str) -> None:
        if path == f"/jobs/{job.pk}/":
            wait_for_loops(page)

    found = sweep(new_page, demo_site, pages, viewport, settle=settle)
    # The technician's request form, on a job that may still ask.
    second = new_job("画面確認（承認フォーム）")
    technician = signed_in(new_page, demo_site, TECHNICIAN, viewport)
    technician.goto(f"{demo_site}/jobs/{second.pk}/approval/")
    found["technician approval form"] = all_violations(technician)
    assert not any(found.values()), report(found)
