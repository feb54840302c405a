"""End-to-end journeys across personas: intake, the workshop on a phone, live lists, threads and the bell.

Two people work at once here, each in their own browser context (own
cookies): what one does must reach the other's open page through htmx
polling (every 5 s, ETag/304), without a reload. A page "did not navigate"
when a marker set on its `window` before the action is still there after.

The UI is Japanese (every demo persona's language); labels come from
locale/ja/LC_MESSAGES/django.po.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from repairs import services
from repairs.models import JobKind, Priority, RepairJob, Status

from .test_personas import sign_in

pytestmark = pytest.mark.browser

SALES = "sales@example.com"
TECHNICIAN = "technician@example.com"
TECHNICIAN_NAME = "整備 太郎"
# What a poll (every 5 s) may take to show someone else's change.
LIVE = 15_000
MIN_TAP_PX = 44

# Workshop statuses (Status) and the customer-facing one (CustomerStatus, pgettext) in Japanese.
RECEIVED = "入庫"
DIAGNOSING = "診断中"
IN_PROGRESS = "作業中"
QUALITY_CHECK = "完成検査"
READY = "引渡し準備完了"
CUSTOMER_RECEIVED = "受付済み"
CUSTOMER_READY = "お引き取り可能"


# --- helpers -----------------------------------------------------------------


def signed_in(new_page, base_url: str, email: str, viewport: str = "desktop"):
    """A fresh browser context signed in through the real login form."""
    page = new_page(viewport)
    page.goto(f"{base_url}/accounts/login/")
    sign_in(page, email, DEMO_PASSWORD)
    expect(page).to_have_url(f"{base_url}/")
    return page


def all_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    return [
        f"{violation['id']} ({violation['impact']}) {' '.join(node['target'])}"
        for violation in Axe().run(page).response["violations"]
        for node in violation["nodes"]
    ]


def sideways_scroll(page) -> list[str]:
    """The problem, if any, of a page wider than the screen."""
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    return [f"scrolls sideways: {width[0]}px content in {width[1]}px"] if width[0] > width[1] + 1 else []


def sweep(
    new_page, base_url: str, pages: dict[str, list[str]], viewport: str, *, violations=None, settle=None, only_ok=False
) -> dict[str, list[str]]:
    """The browser sweep: every person's pages in their own signed-in context, with the
    axe findings of each and, on a phone, sideways scrolling. `settle(page, path)` waits
    for what a page loads after itself; `only_ok` also requires every page to answer 200."""
    found: dict[str, list[str]] = {}
    for email, paths in pages.items():
        page = signed_in(new_page, base_url, email, viewport)
        for path in paths:
            response = page.goto(f"{base_url}{path}")
            if only_ok:
                assert response.status == 200, f"{email} {path}: {response.status}"
            if settle is not None:
                settle(page, path)
            page.wait_for_load_state("networkidle")
            where = f"{email} {path}"
            found[where] = (violations or all_violations)(page)
            if viewport == "phone":
                found[where] += sideways_scroll(page)
    return found


def report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{where}: {line}" for where, lines in found.items() for line in lines)


def open_nav_link(page, name: str) -> None:
    """Follow a main-navigation link: open the collapsed bar on a phone, then the link's menu."""
    nav = page.get_by_role("navigation", name="メインナビゲーション")
    toggler = nav.get_by_role("button", name="ナビゲーションの切り替え")
    if toggler.is_visible():
        toggler.click()
        expect(toggler).to_have_attribute("aria-expanded", "true")
    link = nav.get_by_role("link", name=name, exact=True)
    if not link.is_visible():
        menu = nav.locator("li.dropdown").filter(has=page.locator(".dropdown-item", has_text=name))
        menu.locator(".dropdown-toggle").first.click()
    link.click()


def mark_document(page) -> None:
    page.evaluate("() => { window.__journeyMarker = 1; }")


def assert_same_document(page) -> None:
    assert page.evaluate("() => window.__journeyMarker") == 1, "the page navigated or reloaded"


def local_input_value(moment) -> str:
    """A datetime-local input's value for `moment` in the site's time zone."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def assert_tappable(locator) -> None:
    box = locator.bounding_box()
    assert box is not None, "the button is not rendered"
    assert box["height"] >= MIN_TAP_PX, f"tap target only {box['height']:.0f} px high"


def job_for_a_new_customer(title: str, **extra) -> RepairJob:
    """What the sales rep's intake form creates, written through the same service."""
    return services.intake(
        by=User.objects.get(email=SALES),
        **{
            "customer": None,
            "new_customer_name": "試験 春子",
            "new_customer_kana": "シケン ハルコ",
            "new_customer_phone": "03-1234-5678",
            "vehicle": None,
            "new_vehicle_make": "トヨタ",
            "new_vehicle_model": "アクア",
            "new_vehicle_year": 2021,
            "new_vehicle_plate": "品川 500 さ 12-34",
            "kind": JobKind.REPAIR,
            "title": title,
            "customer_request": "ブレーキを踏むとキーキー鳴る",
            # Urgent and due soon: first in every list ordered by priority and promise.
            "priority": Priority.URGENT,
            "promised_at": timezone.now() + timedelta(hours=2),
            **extra,
        },
    )


def advance(job: RepairJob, *statuses: str) -> RepairJob:
    technician = User.objects.get(email=TECHNICIAN)
    job = services.claim_job(job, by=technician)
    for status in statuses:
        job = services.change_status(job, to=status, by=technician, expected_version=job.version)
    return job


def move_to(page, label: str) -> None:
    """Tap a next-status button on the job page and wait for the new page."""
    button = page.get_by_role("button", name=label, exact=True)
    assert_tappable(button)
    button.click()
    expect(page.get_by_test_id("workshop-status")).to_have_text(label)


def png(path: Path) -> Path:
    image = Image.new("RGB", (96, 64), (200, 40, 40))
    for x in range(20, 76):
        for y in range(16, 48):
            image.putpixel((x, y), (240, 240, 240))
    image.save(path, format="PNG")
    return path


# --- journeys ------------------------------------------------------------------


def test_a_sales_rep_creates_a_job_for_a_new_customer_and_vehicle(demo_site, new_page):
    page = new_page("desktop")
    page.goto(f"{demo_site}/accounts/login/")
    sign_in(page, SALES, DEMO_PASSWORD)
    expect(page).to_have_url(f"{demo_site}/")

    open_nav_link(page, "新規作業")
    expect(page).to_have_url(f"{demo_site}/jobs/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("新規作業")
    customer = page.locator("#id_customer")
    expect(customer).to_have_value("")
    expect(customer.locator("option:checked")).to_have_text("— 新規のお客様 —")

    page.get_by_text("新規のお客様", exact=True).click()
    page.get_by_label("新規のお客様のお名前").fill("新井 太一")
    page.get_by_label("フリガナ").fill("アライ タイチ")
    page.get_by_label("電話番号", exact=True).fill("090-1111-2222")
    page.get_by_text("新規車両", exact=True).click()
    page.get_by_label("メーカー").fill("ホンダ")
    page.get_by_label("車種").fill("フィット")
    page.get_by_label("年式").fill("2019")
    page.get_by_label("ナンバー", exact=True).fill("練馬 500 あ 98-76")
    page.get_by_label("種別").select_option(label="点検整備")
    page.get_by_label("件名").fill("12か月点検とオイル交換")
    page.get_by_label("お客様のご要望（お客様の言葉のまま）").fill("エンジン音が大きい気がする")
    promised = timezone.now() + timedelta(days=2)
    page.get_by_label("約束時刻／期限").fill(local_input_value(promised))
    page.get_by_role("button", name="作業を作成").click()

    year = timezone.localtime().year
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(re.compile(rf"R-{year}-\d{{5}}"))
    number = re.search(rf"R-{year}-\d{{5}}", heading.inner_text()).group(0)
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    expect(page.get_by_role("alert").filter(has_text=number)).to_contain_text("を作成しました")
    expect(page.get_by_test_id("customer-status")).to_have_text(CUSTOMER_RECEIVED)

    job = RepairJob.objects.select_related("customer", "vehicle", "sales_owner").get(number=number)
    assert page.url == f"{demo_site}/jobs/{job.pk}/"
    assert (job.customer.name, job.customer.name_kana, job.customer.phone) == (
        "新井 太一",
        "アライ タイチ",
        "090-1111-2222",
    )
    assert job.customer.sales_owner.email == SALES
    assert (job.vehicle.customer_id, job.vehicle.make, job.vehicle.model, job.vehicle.year) == (
        job.customer.pk,
        "ホンダ",
        "フィット",
        2019,
    )
    assert job.vehicle.plate_number == "練馬 500 あ 98-76"
    assert (job.kind, job.title, job.status) == (JobKind.MAINTENANCE, "12か月点検とオイル交換", Status.RECEIVED)
    assert job.customer_request == "エンジン音が大きい気がする"
    assert job.sales_owner.email == SALES
    assert job.promised_at == promised.replace(second=0, microsecond=0)


def test_the_technician_claims_it_and_moves_it_through_the_workshop_at_a_phone_viewport(demo_site, new_page):
    job = job_for_a_new_customer("ブレーキ鳴き")
    page = signed_in(new_page, demo_site, TECHNICIAN, "phone")

    open_nav_link(page, "作業キュー")
    expect(page.get_by_role("heading", level=1)).to_have_text("作業キュー")
    to_claim = page.get_by_role("region", name="引き受け可能な未割り当て作業")
    row = to_claim.locator(f"[data-job='{job.number}']")
    expect(row).to_contain_text("ブレーキ鳴き")
    claim = row.get_by_role("button", name="引き受ける")
    assert_tappable(claim)
    claim.click()

    expect(page).to_have_url(f"{demo_site}/jobs/{job.pk}/")
    expect(page.get_by_test_id("technician")).to_have_text(TECHNICIAN_NAME)
    expect(page.get_by_test_id("workshop-status")).to_have_text(RECEIVED)
    for label in (DIAGNOSING, IN_PROGRESS, QUALITY_CHECK, READY):
        move_to(page, label)
    expect(page.get_by_test_id("customer-status")).to_have_text(CUSTOMER_READY)

    timeline = page.get_by_role("region", name="経過").locator("ol.timeline > li")
    expect(timeline.locator("strong")).to_have_text(
        [
            f"{QUALITY_CHECK} → {READY}",
            f"{IN_PROGRESS} → {QUALITY_CHECK}",
            f"{DIAGNOSING} → {IN_PROGRESS}",
            f"{RECEIVED} → {DIAGNOSING}",
            re.compile(".+"),  # the claim
            re.compile(".+"),  # the job opened
        ]
    )
    for step in range(5):
        expect(timeline.nth(step)).to_contain_text(TECHNICIAN_NAME)
    job.refresh_from_db()
    assert (job.status, job.technician.email) == (Status.READY, TECHNICIAN)
    assert list(job.events.values_list("kind", "to_status")) == [
        ("status", Status.READY),
        ("status", Status.QUALITY_CHECK),
        ("status", Status.IN_PROGRESS),
        ("status", Status.DIAGNOSING),
        ("claimed", ""),
        ("created", Status.RECEIVED),
    ]


def test_the_sales_reps_list_left_open_shows_ready_for_pickup_without_a_reload(demo_site, new_page):
    job = advance(job_for_a_new_customer("車検前点検"), Status.DIAGNOSING, Status.IN_PROGRESS, Status.QUALITY_CHECK)

    sales = signed_in(new_page, demo_site, SALES)
    open_nav_link(sales, "担当のお客様の車")
    expect(sales.get_by_role("heading", level=1)).to_have_text("担当のお客様の車")
    status = sales.locator(f"#job-list-live tr[data-job='{job.number}']").get_by_test_id("customer-status")
    expect(status).to_have_text("作業中")
    mark_document(sales)

    technician = signed_in(new_page, demo_site, TECHNICIAN, "phone")
    technician.goto(f"{demo_site}/jobs/{job.pk}/")
    move_to(technician, READY)

    expect(status).to_have_text(CUSTOMER_READY, timeout=LIVE)
    assert_same_document(sales)
    expect(sales).to_have_url(f"{demo_site}/jobs/my-cars/")


def test_a_technician_posts_a_photo_and_a_note_and_the_sales_rep_sees_it_live(demo_site, new_page, tmp_path):
    job = advance(job_for_a_new_customer("異音の点検"), Status.DIAGNOSING)
    note = "右前のブレーキパッドが残り2mmです。交換をお勧めします。"

    sales = signed_in(new_page, demo_site, SALES)
    sales.goto(f"{demo_site}/jobs/{job.pk}/")
    thread = sales.locator("#thread-live")
    expect(thread.locator("ol.thread")).to_be_visible()  # loaded, and polling from now on
    expect(thread).not_to_contain_text(note)
    bell = sales.locator(".bell-badge")
    unread = int(bell.get_attribute("data-unread"))
    mark_document(sales)

    technician = signed_in(new_page, demo_site, TECHNICIAN, "phone")
    technician.goto(f"{demo_site}/jobs/{job.pk}/")
    form = technician.locator("form.message-form")
    form.locator("textarea[name=body]").fill(note)
    form.locator("input[type=file][name=photos]").set_input_files(png(tmp_path / "brake-pad.png"))
    post = form.locator("button[type=submit]")
    assert_tappable(post)
    post.click()
    expect(technician).to_have_url(f"{demo_site}/jobs/{job.pk}/#thread")
    expect(technician.locator("#thread-live .message-body").last).to_have_text(note)

    message = thread.locator("li").filter(has_text=note)
    expect(message).to_have_count(1, timeout=LIVE)
    expect(message).to_contain_text(TECHNICIAN_NAME)
    photo = message.locator("img.thread-photo")
    expect(photo).to_have_count(1)
    expect(photo).to_have_attribute("alt", re.compile("brake-pad.png"))
    photo.scroll_into_view_if_needed()
    sales.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    expect(bell).to_have_attribute("data-unread", str(unread + 1), timeout=LIVE)
    assert_same_document(sales)


def serious_violations(page) -> list[str]:
    """axe-core's critical and serious findings on the page, one line per element."""
    from axe_playwright_python.sync_playwright import Axe

    lines = []
    for violation in Axe().run(page).response["violations"]:
        if violation["impact"] not in {"critical", "serious"}:
            continue
        for node in violation["nodes"]:
            data = next((check["data"] for check in node["any"] if isinstance(check.get("data"), dict)), {})
            detail = (
                f"{data['fgColor']} on {data['bgColor']} = {data['contrastRatio']}:1"
                f" (needs {data['expectedContrastRatio']})"
                if "contrastRatio" in data
                else node["failureSummary"]
            )
            lines.append(f"{violation['id']} ({violation['impact']}) {' '.join(node['target'])}: {detail}")
    return lines


def test_the_job_page_and_the_job_list_have_no_serious_accessibility_violations(demo_site, new_page):
    job = advance(job_for_a_new_customer("アクセシビリティ確認"), Status.DIAGNOSING)
    services.post_message(job, by=User.objects.get(email=TECHNICIAN), body="診断を始めました。")
    page = signed_in(new_page, demo_site, SALES)
    found = {}
    for path, loaded in ((f"/jobs/{job.pk}/", "#thread-live ol.thread"), ("/jobs/my-cars/", "#job-list-live")):
        page.goto(f"{demo_site}{path}")
        expect(page.locator(loaded)).to_be_visible()
        found[path] = serious_violations(page)
    assert not any(found.values()), "\n".join(f"{path}: {line}" for path, lines in found.items() for line in lines)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_every_main_screen_has_zero_axe_violations_and_fits_a_phone(demo_site, new_page, viewport):
    job = advance(job_for_a_new_customer("画面確認"), Status.DIAGNOSING)
    services.post_message(job, by=User.objects.get(email=TECHNICIAN), body="診断を始めました。")
    pages = {
        SALES: [
            "/",
            "/jobs/my-cars/",
            "/jobs/new/",
            "/notifications/?show=all",
            "/staff/settings/",
            "/accounts/2fa/",
            "/accounts/password/change/",
        ],
        TECHNICIAN: ["/jobs/queue/", "/jobs/board/", f"/jobs/{job.pk}/"],
        "manager@example.com": ["/staff/team/", "/staff/team/invite/", "/jobs/"],
    }
    found = {}
    anonymous = new_page(viewport)
    for path in ("/accounts/login/", "/accounts/password/reset/", "/accounts/signup/"):
        anonymous.goto(f"{demo_site}{path}")
        found[path] = all_violations(anonymous)
    found.update(sweep(new_page, demo_site, pages, viewport))
    assert not any(found.values()), report(found)


def test_open_screens_survive_unchanged_refreshes_and_still_show_the_next_change(demo_site, new_page):
    """Several polls answered 304 must leave every live fragment in place (htmx
    would otherwise swap in the empty body), and the next change must still arrive."""
    job = advance(job_for_a_new_customer("ポーリング確認"), Status.DIAGNOSING)
    sales = signed_in(new_page, demo_site, SALES)
    sales.goto(f"{demo_site}/jobs/{job.pk}/")
    expect(sales.locator("#thread-live ol.thread")).to_be_visible()
    board = signed_in(new_page, demo_site, TECHNICIAN, "phone")
    board.goto(f"{demo_site}/jobs/queue/")
    mark_document(sales)
    responses: list[int] = []
    sales.on("response", lambda response: responses.append(response.status))

    sales.wait_for_timeout(11_000)  # two refresh cycles with nothing changed

    assert 304 in responses
    for selector in ("#job-live", "#thread-live", ".bell-badge"):
        expect(sales.locator(selector)).to_have_count(1)
    expect(board.locator("#queue-live")).to_have_count(1)
    services.post_message(job, by=User.objects.get(email=TECHNICIAN), body="その後の連絡です")
    expect(sales.locator("#thread-live")).to_contain_text("その後の連絡です", timeout=LIVE)
    assert_same_document(sales)


def test_a_sales_rep_opens_a_pdi_request_for_an_existing_customers_car(demo_site, new_page):
    """Searching finds the customer, picking them loads their vehicles (htmx), and an internal
    request needs its due time."""
    from customers.models import Customer

    # A customer of a colleague: not in the rep's shortlist, found with the search box.
    customer = (
        Customer.objects.filter(branch__code="tokyo-east")
        .exclude(sales_owner__email=SALES)
        .prefetch_related("vehicles")
        .first()
    )
    vehicle = customer.vehicles.first()
    page = signed_in(new_page, demo_site, SALES)
    page.goto(f"{demo_site}/jobs/new/")
    expect(page.locator(f"#id_customer option[value='{customer.pk}']")).to_have_count(0)
    page.get_by_label("お客様を検索（名前・カナ・電話番号・ナンバー）").fill(customer.name_kana)
    expect(page.locator(f"#id_customer option[value='{customer.pk}']")).to_have_count(1)
    page.locator("#id_customer").select_option(str(customer.pk))
    expect(page.locator(f"#id_vehicle option[value='{vehicle.pk}']")).to_have_count(1)
    page.locator("#id_vehicle").select_option(str(vehicle.pk))
    page.get_by_label("種別").select_option(value=JobKind.PDI)
    page.get_by_label("件名").fill("新車納車前整備")
    page.get_by_role("button", name="作業を作成").click()
    expect(page.locator("#id_promised_at")).to_have_class(re.compile("is-invalid"))  # the due time is missing
    page.get_by_label("約束時刻／期限").fill(local_input_value(timezone.now() + timedelta(days=3)))
    page.get_by_role("button", name="作業を作成").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    job = RepairJob.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    assert (job.customer, job.vehicle, job.kind) == (customer, vehicle, JobKind.PDI)
