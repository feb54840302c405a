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
from django.db import connection, transaction

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
    if connection.vendor != "postgresql":
        # Django's live server answers a page's parallel requests from several
        # threads, and they all share the one in-memory SQLite connection of
        # the test database: two queries at once hang the run. Seeding the demo
        # for every journey (no snapshot on SQLite) would also add half a minute
        # to each test.
        suite.missing(
            "browser journeys need PostgreSQL (DATABASE_URL=postgres://…): the live server's threads "
            "cannot share SQLite's in-memory test database",
            browser=True,
        )
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
    brings `transactional_db`), so every test needs the demo again. Seeding it
    through the services takes tens of seconds, so on PostgreSQL the first test
    seeds and copies every table into a snapshot schema, and each later test
    copies the rows back (a fraction of a second). Elsewhere it seeds each time.
    """
    if connection.vendor == "postgresql" and _snapshot_exists():
        _restore_snapshot()
    else:
        # seed_demo prints the demo logins whatever the verbosity.
        call_command("seed_demo", verbosity=0, stdout=io.StringIO())
        if connection.vendor == "postgresql":
            _take_snapshot()
    return live_server.url


SNAPSHOT = "e2e_demo_snapshot"


def _demo_tables() -> list[str]:
    return sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))


def _snapshot_exists() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [SNAPSHOT])
        return cursor.fetchone() is not None


def _take_snapshot() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {SNAPSHOT}")
        for table in _demo_tables():
            cursor.execute(f'CREATE TABLE {SNAPSHOT}."{table}" AS TABLE public."{table}"')


def _restore_snapshot() -> None:
    """Copy the seeded rows back; foreign keys are checked at commit (Django makes them deferrable)."""
    from django.apps import apps
    from django.core.management.color import no_style

    tables = _demo_tables()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("TRUNCATE " + ", ".join(f'public."{table}"' for table in tables) + " CASCADE")
        for table in tables:
            # Table names come from Django's own introspection, not from input.
            cursor.execute(f'INSERT INTO public."{table}" SELECT * FROM {SNAPSHOT}."{table}"')  # noqa: S608
        for statement in connection.ops.sequence_reset_sql(no_style(), apps.get_models(include_auto_created=True)):
            cursor.execute(statement)
