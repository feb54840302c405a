"""Browser fixtures: Debian's Chromium driven by Playwright's sync API.

Playwright's own browser download is never used: every launch points at the
system Chromium (`CHROMIUM`, default /usr/bin/chromium). Without it the tests
skip, or fail when REQUIRE_BROWSER=1 (CI), exactly like `chromium_path`.

Every page records its console errors and uncaught exceptions; the test fails
in teardown when a page broke the Content-Security-Policy or threw, so a CSP
regression cannot hide behind otherwise green assertions.
"""

from __future__ import annotations

import os

# Playwright's sync API runs an asyncio loop in the test thread, and Django
# then refuses ORM calls from that thread (seeding, checks on the database)
# with SynchronousOnlyOperation. Nothing here is really async: allow it.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import contextlib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command

from tests import conftest as suite

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
VIEWPORTS: dict[str, dict] = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
}


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item: `new_page` reads it in teardown
    # to take screenshots of failed tests only.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run (`chromium_path` is per test)."""
    if not os.path.exists(suite.CHROMIUM):
        suite.missing(f"Chromium not found at {suite.CHROMIUM}", browser=True)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=suite.CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@dataclass
class PageProblems:
    """What went wrong inside one page while a test drove it."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def on_console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def on_page_error(self, error) -> None:
        self.page_errors.append(str(error))

    @property
    def csp_violations(self) -> list[str]:
        return [text for text in self.console_errors if "Content Security Policy" in text]

    def fatal(self) -> list[str]:
        return [f"CSP violation: {text}" for text in self.csp_violations] + [
            f"uncaught page error: {text}" for text in self.page_errors
        ]


@pytest.fixture
def new_page(browser, request) -> Iterator[Callable]:
    """`new_page("phone")`: a page in a fresh context (own cookies), locale ja-JP.

    Viewports: "desktop" (1280x800) and "phone" (360x740, mobile, touch). The
    page's `problems` attribute holds what it reported. Teardown fails the test
    on CSP violations or uncaught script errors and, when the test failed,
    saves a screenshot of each page into test-artifacts/.
    """
    opened = []

    def open_page(viewport: str = "desktop"):
        context = browser.new_context(locale="ja-JP", **VIEWPORTS[viewport])
        context.set_default_timeout(10_000)
        page = context.new_page()
        problems = PageProblems()
        page.on("console", problems.on_console)
        page.on("pageerror", problems.on_page_error)
        page.problems = problems
        opened.append((context, page, problems))
        return page

    yield open_page

    report = getattr(request.node, "rep_call", None)
    failed = report is not None and report.failed
    fatal: list[str] = []
    for index, (context, page, problems) in enumerate(opened):
        fatal += problems.fatal()
        if failed or problems.fatal():
            ARTIFACTS.mkdir(exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
            # A crashed page must not hide the real failure behind its own.
            with contextlib.suppress(Exception):
                page.screenshot(path=str(ARTIFACTS / f"{name}-{index}.png"), full_page=True)
        context.close()
    if fatal:
        pytest.fail("the page reported problems:\n" + "\n".join(fatal), pytrace=False)


@pytest.fixture
def page_factory(new_page) -> Callable:
    """Another name for `new_page`, for tests that read better with it."""
    return new_page


@pytest.fixture
def demo_site(transactional_db, live_server) -> str:
    """The live server's URL, over a freshly seeded demo dealership.

    pytest-django's `live_server` empties every table after each test (it
    brings `transactional_db`), so every test seeds again. That is cheap
    (well under 0.1 s) because tests/conftest.py switches password hashing to
    MD5; with PBKDF2 the demo's thirteen passwords cost about 2.5 s a test.
    """
    # seed_demo prints the demo logins whatever the verbosity.
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    return live_server.url
