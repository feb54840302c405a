"""Workshop screens a technician can trust, at a phone's 360 px.

Forward moves are the primary button; a move back (ready → work) is styled
apart and must be confirmed; no screen scrolls sideways or wraps a button's
label; and an old notification follows the reader's language.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import User
from dealership.models import Notification
from repairs import services
from repairs.models import RepairJob, Status

from .test_journeys import SALES, TECHNICIAN, advance, job_for_a_new_customer, sideways_scroll, signed_in

pytestmark = pytest.mark.browser

MIN_BUTTON_PX = 48
# Each visible text of each button, and on how many lines it is laid out
# (text for screen readers only, in .visually-hidden, is left out).
WRAPPED_BUTTONS = """() => [...document.querySelectorAll('main .btn')]
  .filter((button) => button.offsetParent !== null)
  .map((button) => {
    const walker = document.createTreeWalker(button, NodeFilter.SHOW_TEXT);
    let lines = 1;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim() || node.parentElement.closest('.visually-hidden')) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
      lines = Math.max(lines, tops.size);
    }
    return [button.innerText.trim(), lines, Math.round(button.getBoundingClientRect().height)];
  })"""


def layout_problems(page) -> list[str]:
    problems = sideways_scroll(page)
    for label, lines, height in page.evaluate(WRAPPED_BUTTONS):
        if lines > 1:
            problems.append(f"button “{label}” wraps over {lines} lines")
        if height < MIN_BUTTON_PX:
            problems.append(f"button “{label}” is only {height}px high")
    return problems


def test_a_move_back_from_ready_is_styled_apart_and_must_be_confirmed(demo_site, new_page):
    job = advance(
        job_for_a_new_customer("引渡し前の再確認"),
        Status.DIAGNOSING,
        Status.IN_PROGRESS,
        Status.QUALITY_CHECK,
        Status.READY,
    )
    page = signed_in(new_page, demo_site, "advisor@example.com", "phone")
    page.goto(f"{demo_site}/jobs/{job.pk}/")
    back = page.locator('button[data-move="back"]')
    expect(back).to_be_visible()
    assert "btn-outline-danger" in back.get_attribute("class")
    assert page.locator('button[data-move="forward"]').first.get_attribute("class").count("btn-success") == 1
    back.click()
    confirm = page.get_by_test_id("confirm-move")
    expect(confirm).to_be_visible()
    assert RepairJob.objects.get(pk=job.pk).status == Status.READY  # nothing happened yet
    assert layout_problems(page) == []
    confirm.click()
    expect(page.get_by_test_id("workshop-status")).to_have_text("作業中")
    assert RepairJob.objects.get(pk=job.pk).status == Status.IN_PROGRESS


def test_no_workshop_screen_scrolls_sideways_or_wraps_a_button_at_360_px(demo_site, new_page):
    job = advance(job_for_a_new_customer("画面幅の確認"), Status.DIAGNOSING)
    RepairJob.objects.filter(pk=job.pk).update(technician=None)  # claimable
    found = {}
    technician = signed_in(new_page, demo_site, TECHNICIAN, "phone")
    for path in ("/jobs/queue/", f"/jobs/{job.pk}/", "/notifications/?show=all"):
        technician.goto(f"{demo_site}{path}")
        technician.wait_for_load_state("networkidle")
        found[path] = layout_problems(technician)
    manager = signed_in(new_page, demo_site, "manager@example.com", "phone")
    manager.goto(f"{demo_site}/staff/team/")
    found["/staff/team/"] = layout_problems(manager)
    assert not any(found.values()), "\n".join(f"{path}: {line}" for path, lines in found.items() for line in lines)


def test_an_old_notification_reads_in_english_after_switching_language(demo_site, new_page):
    job = job_for_a_new_customer("言語切替の確認")
    services.change_status(job, to=Status.DIAGNOSING, by=User.objects.get(email=TECHNICIAN), expected_version=None)
    page = signed_in(new_page, demo_site, SALES, "phone")
    page.goto(f"{demo_site}/notifications/")
    row = page.locator("li.list-group-item", has_text=job.number).first
    expect(row).to_contain_text("作業中")
    page.goto(f"{demo_site}/staff/settings/")
    page.get_by_label("言語").select_option("en")
    page.get_by_role("button", name="保存").click()
    page.goto(f"{demo_site}/notifications/")
    row = page.locator("li.list-group-item", has_text=job.number).first
    expect(row).to_contain_text("Work in progress")
    assert Notification.objects.filter(recipient__email=SALES, target_id=job.pk).exists()
