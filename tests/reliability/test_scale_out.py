"""Scale-out on the portal's own engines: two web instances and two workers, one PostgreSQL and one Redis.

DESIGN.md ("How it runs"): web processes hold no state, PostgreSQL and Redis
are shared, Celery workers scale sideways. Here that is shown with real
processes: two gunicorn instances on two ports, both reading the test
database and one private Redis (cache, sessions if they live there, and the
Celery broker), and two `celery worker`s on the same broker sending to one
SMTP server. Staff sign in through the real login form of one instance and
use the other; 200 status changes go alternately through both instances as
real POSTs with the session cookie and a CSRF token; after each change a
client polling each instance, as htmx does (`HX-Request`, `If-None-Match`),
gets the change on its very next poll; every e-mail arrives exactly once.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils import translation

from dealership.models import Notification
from repairs.models import RepairJob, Status

from .conftest import BASE_DIR, _diagnose, child_environment, free_port, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

JOBS = 20
# Ten moves per job, 200 in all: forward to ready, back into work twice (confirmed
# moves), each time through the checks again. The customer-facing status changes
# on six of them, and each of those e-mails the sales rep.
ROUTE = [
    "diagnosing",
    "in_progress",
    "quality_check",
    "ready",
    "in_progress",
    "quality_check",
    "ready",
    "in_progress",
    "quality_check",
    "ready",
]
DELIVER_TASK = "dealership.tasks.deliver_notification"


class Web:
    """One gunicorn instance (one worker process) in its own process group."""

    def __init__(self, name: str, env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.port = free_port()
        self.log_path = log_path
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "dealership.wsgi:application",
                    "--workers",
                    "1",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--log-level",
                    "warning",
                ],
                cwd=BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self) -> None:
        def answers() -> bool:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn {self.name} exited:\n{self.log()}")
            with contextlib.suppress(OSError):
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/healthz")
                return connection.getresponse().status == 200
            return False

        wait_until(answers, timeout=40, interval=0.2, what=f"gunicorn {self.name} to answer /healthz")

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, 15)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def describe(self) -> tuple[str, str]:
        return f"gunicorn {self.name} on port {self.port}, last 100 log lines", "\n".join(
            self.log().splitlines()[-100:]
        )


class Client:
    """A browser's worth of HTTP: cookies, CSRF token, no redirects followed."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def request(
        self, web: Web, method: str, path: str, *, form: dict | None = None, headers: dict | None = None
    ) -> tuple[int, dict[str, str], str]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        connection = http.client.HTTPConnection("127.0.0.1", web.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
            for header in response.msg.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, {key.lower(): value for key, value in response.getheaders()}, text
        finally:
            connection.close()

    def sign_in(self, web: Web, email: str, password: str) -> None:
        status, _, _ = self.request(web, "GET", "/accounts/login/")
        assert status == 200 and "csrftoken" in self.cookies
        status, _, text = self.request(
            web,
            "POST",
            "/accounts/login/",
            form={"login": email, "password": password, "csrfmiddlewaretoken": self.cookies["csrftoken"]},
        )
        assert status == 302, f"sign-in of {email} on {web.name} answered {status}: {text[:500]}"
        assert "sessionid" in self.cookies


class Poller:
    """Polls one job's live panel on one instance exactly as htmx does."""

    def __init__(self, client: Client, web: Web) -> None:
        self.client = client
        self.web = web
        self.etags: dict[int, str] = {}

    def poll(self, job: RepairJob) -> tuple[int, str]:
        headers = {"HX-Request": "true"}
        if job.pk in self.etags:
            headers["If-None-Match"] = self.etags[job.pk]
        status, response_headers, text = self.client.request(self.web, "GET", f"/jobs/{job.pk}/", headers=headers)
        assert status in (200, 304), f"poll of job {job.pk} on {self.web.name} answered {status}"
        if status == 200:
            self.etags[job.pk] = response_headers["etag"]
        return status, text


def workshop_status(fragment: str) -> str:
    return re.search(r'data-testid="workshop-status">([^<]*)<', fragment).group(1).strip()


@pytest.fixture
def web_instances(request, worker_database_url, celery_broker, tmp_path):
    """Two gunicorn instances on the test database and the private Redis (cache and broker)."""
    env = child_environment(worker_database_url, celery_broker.url)
    env.update(
        EMAIL_URL="dummymail://",  # the web only enqueues; the workers send
        DEBUG="1",
        SITE_URL="http://testserver",
        LOG_LEVEL="WARNING",
    )
    instances = [Web(name, env, tmp_path / f"web-{name}.log") for name in ("a", "b")]
    for web in instances:
        _diagnose(request, web.describe)
    try:
        for web in instances:
            web.wait_ready()
        yield instances
    finally:
        for web in instances:
            web.stop()


def test_two_web_instances_and_two_workers_share_every_change_and_send_each_email_once(
    web_instances, celery_workers, smtp_server, make_job, sales_rep, advisor, manager, password
):
    workers = [celery_workers.start(), celery_workers.start()]
    first, second = web_instances
    # The suite hashes with MD5 for speed; gunicorn runs the real settings, which only know PBKDF2 and the like.
    hashed = PBKDF2PasswordHasher().encode(password, PBKDF2PasswordHasher().salt(), iterations=1000)
    for person in (sales_rep, advisor, manager):
        person.language = "en"
        person.password = hashed
        person.save(update_fields=["language", "password"])
    jobs = [make_job() for _ in range(JOBS)]

    # Signed in on one instance, working on both: the session lives in the shared stores.
    writer, reader = Client(), Client()
    writer.sign_in(first, advisor.email, password)
    reader.sign_in(second, manager.email, password)
    pollers = [Poller(reader, first), Poller(reader, second)]
    for job in jobs:
        for poller in pollers:
            assert poller.poll(job)[0] == 200

    changes = 0
    both = ThreadPoolExecutor(max_workers=2)

    def poll_both(job: RepairJob) -> list[tuple[int, str]]:
        """Both instances polled at the same time, as two open browsers would."""
        return list(both.map(lambda poller: poller.poll(job), pollers))

    for step, to in enumerate(ROUTE):
        for number, job in enumerate(jobs):
            web = web_instances[(step * JOBS + number) % 2]  # alternately through both instances
            version = job.version + step
            status, _, text = writer.request(
                web,
                "POST",
                f"/jobs/{job.pk}/status/",
                form={"to": to, "version": version, "note": "", "confirmed": "on"},
            )
            assert status == 302, f"change {changes + 1} on {web.name} answered {status}: {text[:300]}"
            changes += 1
            with translation.override("en"):
                label = str(Status(to).label)
            # The very next poll of each instance shows the change: no instance holds an old copy.
            for poller, (poll_status, fragment) in zip(pollers, poll_both(job), strict=True):
                assert poll_status == 200, f"{poller.web.name} answered 304 after change {changes}"
                assert workshop_status(fragment) == label
                assert f'name="version" value="{version + 1}"' in fragment
            if number == 0:
                # And once nothing changed, the next poll of each instance is a 304.
                assert [status for status, _ in poll_both(job)] == [304, 304]
    both.shutdown()
    assert changes == 200
    assert {job.status for job in RepairJob.objects.filter(pk__in=[job.pk for job in jobs])} == {Status.READY}

    def all_sent() -> list[Notification]:
        rows = list(Notification.objects.exclude(send_status=Notification.SendStatus.SKIPPED))
        return rows if rows and all(row.send_status == Notification.SendStatus.SENT for row in rows) else []

    rows = wait_until(all_sent, timeout=60, interval=0.2, what="every notification e-mail to be sent")
    assert len(rows) == JOBS * 6  # six customer-facing changes per job, each told to the sales rep
    delivered = smtp_server.wait_for_delivered(len(rows), timeout=30)
    ids = Counter(str(item.message["X-Portal-Notification"]) for item in delivered)
    assert ids == Counter(str(row.pk) for row in rows), "an e-mail went missing or arrived twice"
    assert {item.to for item in delivered} == {sales_rep.email}
    # Both workers took their share of the deliveries.
    received = [worker.received_task_count(DELIVER_TASK) for worker in workers]
    assert all(count > 0 for count in received), received
    assert sum(received) == len(rows)
