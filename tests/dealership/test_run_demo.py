"""`make run` (scripts/run_demo.py): the demo's settings, and the demo itself, run as a newcomer runs it."""

from __future__ import annotations

import contextlib
import http.cookiejar
import importlib.util
import json
import os
import re
import secrets
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("run_demo", ROOT / "scripts" / "run_demo.py")
run_demo = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(run_demo)

# What the test process sets for itself (tests/pytest_env.py, a developer's
# shell) and the demo must not inherit.
INHERITED = {
    "DEBUG",
    "SITE_URL",
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "EMAIL_URL",
    "PORT",
    "SURVEY_DELAY_HOURS",
    "SECURE_SSL_REDIRECT",
    "SECURE_COOKIES",
    "STATIC_ROOT",
    "MEDIA_ROOT",
    "DJANGO_SETTINGS_MODULE",
}


def clean_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name not in INHERITED}


def settings_under(env: dict[str, str]) -> dict:
    """The settings a process started with `env` reads, and what its broker connection logs."""
    code = """
import json, django
django.setup()
from django.conf import settings as s
from kombu import Connection
Connection(s.CELERY_BROKER_URL)._info()
print(json.dumps({
    "DEBUG": s.DEBUG,
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": s.CSRF_COOKIE_SECURE,
    "SECURE_SSL_REDIRECT": s.SECURE_SSL_REDIRECT,
    "SITE_URL": s.SITE_URL,
    "SURVEY_DELAY_HOURS": s.SURVEY_DELAY_HOURS,
    "invite_every": s.CELERY_BEAT_SCHEDULE["invite-delivered-jobs-to-survey"]["schedule"],
    "eager": s.CELERY_TASK_ALWAYS_EAGER,
}))
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean_environment(), **env, "DJANGO_SETTINGS_MODULE": "dealership.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout) | {"stderr": done.stderr}


def test_the_demo_runs_with_debug_off_on_plain_http_with_a_survey_after_a_minute(tmp_path):
    env = run_demo.demo_environment({}, port=8123, key_file=tmp_path / "key")

    demo = settings_under(env)

    assert demo["DEBUG"] is False  # so a refused page is the portal's 404, not Django's debug page
    assert demo["SESSION_COOKIE_SECURE"] is False and demo["CSRF_COOKIE_SECURE"] is False
    assert demo["SECURE_SSL_REDIRECT"] is False
    assert demo["SITE_URL"] == "http://127.0.0.1:8123"
    assert demo["SURVEY_DELAY_HOURS"] == 0.02
    assert demo["invite_every"] == pytest.approx(18.0)
    assert demo["eager"] is True
    assert "No hostname was supplied" not in demo["stderr"]


def test_production_keeps_secure_cookies_and_asks_for_the_survey_after_a_day():
    production = settings_under({"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50)})

    assert production["SESSION_COOKIE_SECURE"] is True and production["CSRF_COOKIE_SECURE"] is True
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SURVEY_DELAY_HOURS"] == 24
    assert production["invite_every"] == 900


def test_the_demo_key_is_generated_once_private_and_kept(tmp_path):
    key_file = tmp_path / "venv" / "demo-secret-key"

    first = run_demo.demo_environment({}, port=8000, key_file=key_file)["SECRET_KEY"]
    second = run_demo.demo_environment({}, port=8000, key_file=key_file)["SECRET_KEY"]

    assert first == second and len(first) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_what_the_environment_sets_wins_over_the_demo_defaults(tmp_path):
    key_file = tmp_path / "key"
    env = run_demo.demo_environment(
        {"DEBUG": "1", "SECRET_KEY": "mine", "SURVEY_DELAY_HOURS": "24"}, port=8000, key_file=key_file
    )

    assert (env["DEBUG"], env["SECRET_KEY"], env["SURVEY_DELAY_HOURS"]) == ("1", "mine", "24")
    assert not key_file.exists()


def test_the_port_comes_from_port_and_must_be_a_port_number():
    assert run_demo.read_port({}) == 8000
    assert run_demo.read_port({"PORT": "8123"}) == 8123
    for wrong in ("80a", "0", "70000"):
        with pytest.raises(SystemExit, match="PORT must be a port number"):
            run_demo.read_port({"PORT": wrong})


# --- The demo itself ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], object], *, seconds: float, what: str, log: Path) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.5)
    pytest.fail(f"{what} did not happen within {seconds:g} s. The demo printed:\n{log.read_text()[-6000:]}")


class Browser:
    """Just enough of a browser: cookies (sent over plain HTTP only when not Secure), forms with CSRF."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str, str]:
        request = urllib.request.Request(
            self.base + path,
            data=urllib.parse.urlencode(data).encode(),
            headers={"Origin": self.base, "Referer": self.base + path},
        )
        with self.opener.open(request, timeout=30) as response:
            return response.status, response.read().decode(), response.url

    def sign_in(self, email: str) -> str:
        _status, page = self.get("/accounts/login/")
        _status, _page, landed = self.post(
            "/accounts/login/", {"csrfmiddlewaretoken": csrf(page), "login": email, "password": "dealership-demo"}
        )
        return landed


def csrf(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_the_demo_serves_every_loop_on_its_port_and_stops_on_ctrl_c(tmp_path):
    """Seed, sign in over plain HTTP, a refused page, a hand-over whose survey e-mail the terminal shows, Ctrl-C."""
    port = free_port()
    database = tmp_path / "demo.sqlite3"
    log = tmp_path / "make-run.log"
    env = clean_environment() | {
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{database}",
        "STATIC_ROOT": str(tmp_path / "static"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "SECRET_KEY": secrets.token_urlsafe(50),  # the developer's .venv/demo-secret-key stays untouched
        "SURVEY_DELAY_HOURS": "0.001",  # a few seconds; the invitation task still looks every 15 s
    }
    base = f"http://127.0.0.1:{port}"
    with log.open("w") as output:
        launcher = subprocess.Popen(
            [sys.executable, "scripts/run_demo.py"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:

        def healthy() -> bool:
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                return response.status == 200
            return False

        wait_for(healthy, seconds=300, what="The server answering /healthz", log=log)
        started = log.read_text()
        assert f"Dealership Portal: {base}" in started
        assert started.count("Demo logins (password: dealership-demo):") == 1
        assert "No hostname was supplied" not in started
        assert f"A customer's survey link (no login): {base}/voice/s/" in started

        with sqlite3.connect(database) as db:
            ((ready_job,),) = db.execute(
                "SELECT j.id FROM repairs_repairjob j JOIN dealership_branch b ON b.id = j.branch_id"
                " WHERE j.status = 'ready' AND b.code = 'tokyo-east' ORDER BY j.id LIMIT 1"
            ).fetchall()
            ((other_branch_customer,),) = db.execute(
                "SELECT c.id FROM dealership_customer c JOIN dealership_branch b ON b.id = c.branch_id"
                " WHERE b.code = 'yokohama' ORDER BY c.id LIMIT 1"
            ).fetchall()

        advisor = Browser(base)
        assert advisor.sign_in("advisor@example.com") == f"{base}/"

        status, page = advisor.get(f"/customers/{other_branch_customer}/")
        assert status == 404
        assert "このページは存在しません" in page and "ホームに戻る" in page  # templates/404.html
        assert "URLconf" not in page and "DEBUG = True" not in page

        _status, page = advisor.get(f"/jobs/{ready_job}/")
        version = re.search(r'name="version" value="(\d+)"', page).group(1)
        handed_over_at = len(log.read_text())
        advisor.post(
            f"/jobs/{ready_job}/status/", {"csrfmiddlewaretoken": csrf(page), "version": version, "to": "delivered"}
        )

        def survey_link() -> str:
            printed = log.read_text()[handed_over_at:]
            if "X-Portal-Survey:" not in printed:
                return ""
            return re.search(rf"{re.escape(base)}/voice/s/[^/\s]+/(?=\s)", printed).group(0)

        link = wait_for(survey_link, seconds=90, what="The survey e-mail after the hand-over", log=log)
        status, page = Browser(base).get(link.removeprefix(base))
        assert status == 200 and 'name="overall"' in page
    finally:
        launcher.send_signal(signal.SIGINT)
        try:
            code = launcher.wait(timeout=30)
        except subprocess.TimeoutExpired:
            launcher.kill()
            raise
    assert code == 0
    assert demo_processes(port) == [], "the server or the periodic tasks outlived the launcher"


def demo_processes(port: int) -> list[str]:
    """The command lines of the processes still running with this demo's PORT (Linux /proc)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            if f"PORT={port}".encode() in (proc / "environ").read_bytes().split(b"\0"):
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
    return found
