"""Personas and service switches shared by the whole suite.

Tests that need a real Redis, a Celery worker, an SMTP server or Chromium ask
for them through the fixtures below. Without the service they skip with a
reason, unless REQUIRE_SERVICES=1 / REQUIRE_BROWSER=1 (as CI sets), in which
case a missing service is a failure, never a silent skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from urllib.parse import urlparse

import pytest
from django.core.cache import cache

from accounts.models import Department, Role
from dealership.celery import app as celery_app

from .factories import PASSWORD, BranchFactory, UserFactory

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def missing(reason: str, *, browser: bool = False) -> None:
    """Skip, or fail when CI demands the service."""
    if REQUIRE_BROWSER if browser else REQUIRE_SERVICES:
        pytest.fail(f"required but unavailable: {reason}")
    pytest.skip(reason)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def pytest_configure(config) -> None:
    # Real password hashing costs ~0.3 s per user; the suite creates hundreds.
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Uploaded photos of the whole run go to a temporary folder, never media/.
    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="dealership-test-media-")


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        missing("REDIS_URL is not set: no real Redis for this test")
    parsed = urlparse(url)
    if not port_open(parsed.hostname or "127.0.0.1", parsed.port or 6379):
        missing(f"Redis at {url} is not reachable")
    return url


@pytest.fixture
def redis_server_binary() -> str:
    binary = shutil.which("redis-server")
    if not binary:
        missing("redis-server is not installed")
    return binary


@pytest.fixture
def chromium_path() -> str:
    if not os.path.exists(CHROMIUM):
        missing(f"Chromium not found at {CHROMIUM}", browser=True)
    return CHROMIUM


@pytest.fixture(autouse=True)
def _isolated_cache_and_eager_celery():
    """Each test starts with an empty cache (rate-limit counters!) and eager tasks.

    Tests that exercise a real worker switch eagerness off themselves.
    """
    cache.clear()
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = eager
    cache.clear()


@pytest.fixture
def in_english():
    """Run the test with English active (messages matched in English; staff default to Japanese)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def branch(db):
    return BranchFactory(code="tokyo-east", name="東京東店")


@pytest.fixture
def other_branch(db):
    return BranchFactory(code="yokohama", name="横浜港北店")


@pytest.fixture
def sales_rep(branch):
    return UserFactory(
        email="sales@example.com",
        display_name="営業 花子",
        role=Role.SALES_REP,
        department=Department.SALES,
        branch=branch,
    )


@pytest.fixture
def technician(branch):
    return UserFactory(
        email="technician@example.com",
        display_name="整備 太郎",
        role=Role.TECHNICIAN,
        department=Department.SERVICE,
        branch=branch,
    )


@pytest.fixture
def other_technician(branch):
    return UserFactory(
        email="technician2@example.com",
        display_name="整備 健",
        role=Role.TECHNICIAN,
        department=Department.SERVICE,
        branch=branch,
    )


@pytest.fixture
def advisor(branch):
    return UserFactory(
        email="advisor@example.com",
        display_name="受付 次郎",
        role=Role.SERVICE_ADVISOR,
        department=Department.SERVICE,
        branch=branch,
    )


@pytest.fixture
def manager(branch):
    return UserFactory(
        email="manager@example.com",
        display_name="店長 一郎",
        role=Role.MANAGER,
        department=Department.MANAGEMENT,
        branch=branch,
    )


@pytest.fixture
def other_branch_user(other_branch):
    return UserFactory(
        email="yokohama.advisor@example.com",
        display_name="横浜 受付",
        role=Role.SERVICE_ADVISOR,
        department=Department.SERVICE,
        branch=other_branch,
    )


@pytest.fixture
def other_branch_manager(other_branch):
    return UserFactory(
        email="yokohama.manager@example.com",
        display_name="横浜 店長",
        role=Role.MANAGER,
        department=Department.MANAGEMENT,
        branch=other_branch,
    )


@pytest.fixture
def client_for(client):
    """Log a persona in: `client_for(sales_rep).get(...)`."""

    def login(user):
        client.force_login(user)
        return client

    return login
