"""Real moving parts for the e-mail reliability tests.

Everything here is a real process or a real socket: an aiosmtpd server in a
thread of the test process, a private `redis-server` per test (never the
shared one: stopping it is part of the tests, and a private broker cannot be
fed stale messages by another run), and `celery worker` subprocesses with a
prefork child that read and write the *test* database. Because the worker is
another process, the tests need PostgreSQL and committed rows
(`django_db(transaction=True)`); the in-memory SQLite database cannot be
shared.

SMTP delivery semantics of `smtp_server` (the kill-mid-send test relies on
them): a message counts as *delivered* only when `handle_DATA` answers 250 to
a client that is still connected. aiosmtpd calls `handle_DATA` only after the
whole DATA section arrived; in "stall" mode the handler waits there. If the
client disappears meanwhile (aiosmtpd cancels the handler on EOF or lost
connection) or is gone when the stall is released, the message is recorded as
*abandoned*, never as delivered: the sender never learnt that it was accepted,
so a real MTA would treat the transaction as aborted.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

import kombu.pools
import pytest

from dealership.celery import app as celery_app
from tests.conftest import missing, port_open
from tests.factories import CustomerFactory, RepairJobFactory, VehicleFactory

BASE_DIR = Path(__file__).resolve().parents[2]
WORKER_READY_TIMEOUT = 40.0
_DIAGNOSTICS = pytest.StashKey[list[Callable[[], tuple[str, str]]]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach the worker logs and the SMTP server's view to the report."""
    report = yield
    if report.failed:
        for describe in item.stash.get(_DIAGNOSTICS, []):
            try:
                report.sections.append(describe())
            except Exception as exc:  # a broken diagnostic must not hide the failure
                report.sections.append(("diagnostics", f"could not describe: {exc!r}"))
    return report


def _diagnose(request: pytest.FixtureRequest, describe: Callable[[], tuple[str, str]]) -> None:
    request.node.stash.setdefault(_DIAGNOSTICS, []).append(describe)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], object], *, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# --- SMTP -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def subject(self) -> str:
        # Django's (compat32) serialisation folds a long encoded subject right
        # after "Subject:"; unfolding leaves whitespace that clients ignore.
        return " ".join(str(self.message["Subject"]).split())

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()


class SMTPServer:
    """aiosmtpd handler plus what it saw. Modes: "normal", "refuse", "stall".

    `delivered` holds messages answered 250 to a live client, `refused` the
    ones answered 451 (mode "refuse"), `abandoned` the ones whose client went
    away during a stall (see the module docstring).
    """

    REFUSAL = "451 4.3.0 try later"

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.mode = "normal"
        self.data_started = threading.Event()
        self.release = threading.Event()
        self._changed = threading.Condition()
        self._delivered: list[Received] = []
        self._refused: list[Received] = []
        self._abandoned: list[Received] = []

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @property
    def delivered(self) -> list[Received]:
        with self._changed:
            return list(self._delivered)

    @property
    def refused(self) -> list[Received]:
        with self._changed:
            return list(self._refused)

    @property
    def abandoned(self) -> list[Received]:
        with self._changed:
            return list(self._abandoned)

    def _store(self, box: list[Received], received: Received) -> None:
        with self._changed:
            box.append(received)
            self._changed.notify_all()

    def _wait(self, box: list[Received], count: int, timeout: float, what: str) -> list[Received]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(box) >= count, timeout=timeout):
                pytest.fail(f"timed out after {timeout:.0f} s waiting for {count} {what} e-mail(s); got {len(box)}")
            return list(box)

    def wait_for_delivered(self, count: int, timeout: float = 20.0) -> list[Received]:
        return self._wait(self._delivered, count, timeout, "delivered")

    def wait_for_abandoned(self, count: int, timeout: float = 10.0) -> list[Received]:
        return self._wait(self._abandoned, count, timeout, "abandoned")

    async def handle_DATA(self, server, session, envelope) -> str:
        received = Received(
            mail_from=envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            message=email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default),
        )
        if self.mode == "refuse":
            self._store(self._refused, received)
            return self.REFUSAL
        if self.mode == "stall":
            self.data_started.set()
            try:
                # Never block the event loop: other sessions must go on.
                while not self.release.is_set():
                    await asyncio.sleep(0.02)
            except asyncio.CancelledError:  # aiosmtpd cancels the handler when the client hangs up
                self._store(self._abandoned, received)
                raise
            if server.transport is None or server.transport.is_closing():
                self._store(self._abandoned, received)
                return "421 4.4.2 client went away"
        self._store(self._delivered, received)
        return "250 Message accepted for delivery"

    def describe(self) -> tuple[str, str]:
        lines = [f"mode={self.mode} port={self.port}"]
        for name, box in (("delivered", self.delivered), ("refused", self.refused), ("abandoned", self.abandoned)):
            lines.append(f"{name}: {len(box)}")
            lines.extend(f"  to={item.to} subject={item.subject}" for item in box)
        return "SMTP server", "\n".join(lines)


@pytest.fixture
def smtp_server(request) -> Iterator[SMTPServer]:
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        missing("aiosmtpd is not installed (requirements-dev.txt)")
    server = SMTPServer()
    server.port = free_port()
    controller = Controller(server, hostname=server.host, port=server.port, ready_timeout=10)
    controller.start()
    _diagnose(request, server.describe)
    yield server
    server.release.set()  # a stalled handler must not outlive the test
    controller.stop()


# --- Redis ------------------------------------------------------------------------------------------------------


class PrivateRedis:
    """A throwaway redis-server on its own port; `stop()` and `start()` keep the port."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.process is None, "already running"
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self._answers_ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"private redis-server on port {self.port} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        deadline = time.monotonic() + 5
        while port_open("127.0.0.1", self.port) and time.monotonic() < deadline:
            time.sleep(0.02)

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@pytest.fixture
def private_redis(redis_server_binary, tmp_path) -> Iterator[PrivateRedis]:
    workdir = tmp_path / "redis"
    workdir.mkdir()
    redis = PrivateRedis(redis_server_binary, workdir)
    redis.start()
    yield redis
    redis.stop()


def _reset_producers() -> None:
    """Forget pooled broker connections so none to a dead or other broker is reused.

    kombu keeps its pools in process-wide registries keyed by the broker URL:
    closing the app's pools alone would leave closed pools registered for the
    same URL (a Redis restarted on its port), so the registries are reset too.
    """
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    kombu.pools.reset()


class CeleryBroker:
    def __init__(self, redis: PrivateRedis) -> None:
        self.redis = redis

    @property
    def url(self) -> str:
        return self.redis.url

    def reset_connections(self) -> None:
        _reset_producers()


@pytest.fixture
def celery_broker(private_redis, monkeypatch) -> Iterator[CeleryBroker]:
    """Point this process's Celery at the private Redis, for real (not eager).

    Django's CELERY_* settings were read once when the app was configured,
    so the app's conf is changed directly; the environment variables would
    win over it, so they go for the duration of the test.
    """
    for name in ("CELERY_BROKER_URL", "CELERY_BROKER_READ_URL", "CELERY_BROKER_WRITE_URL"):
        monkeypatch.delenv(name, raising=False)
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager
    _reset_producers()
    conf.broker_url = private_redis.url
    conf.task_always_eager = False
    yield CeleryBroker(private_redis)
    _reset_producers()
    conf.broker_url, conf.task_always_eager = saved


# --- Database and workers ---------------------------------------------------------------------------------------


@pytest.fixture
def worker_database_url(transactional_db) -> str:
    """A URL of the test database for a worker process (PostgreSQL only)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        missing(
            "needs PostgreSQL (set DATABASE_URL): a Celery worker is another process "
            "and cannot share the test run's SQLite database"
        )
    data = connection.settings_dict
    user = quote(data.get("USER") or "", safe="")
    password = quote(data.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = quote(data.get("HOST") or "", safe="")
    port = f":{data['PORT']}" if data.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(data['NAME'], safe='')}"


class Worker:
    """One `celery worker` (prefork, one child) in its own process group."""

    def __init__(self, name: str, env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        celery = Path(sys.executable).with_name("celery")
        command = [str(celery)] if celery.exists() else [sys.executable, "-m", "celery"]
        command += [
            "-A",
            "dealership",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-Q",
            "celery",
            "-n",
            f"{self.name}@%h",
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the prefork child dies with it
            )

    def wait_ready(self, timeout: float = WORKER_READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while " ready." not in self.log():
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"celery worker {self.name} exited during startup:\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"celery worker {self.name} not ready after {timeout:.0f} s:\n{self.log()}")
            time.sleep(0.05)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group (main process and prefork child) at once."""
        self._signal_group(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL whatever is left of the group."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=10)

    def _signal_group(self, signum: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)  # pgid == pid: start_new_session

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def received_task_count(self, task_name: str) -> int:
        return sum(1 for line in self.log().splitlines() if f"{task_name}[" in line and " received" in line)

    def describe(self) -> tuple[str, str]:
        lines = self.log().splitlines()
        state = "running" if self.alive else f"exited {self.process.returncode if self.process else '-'}"
        return f"celery worker {self.name} ({state}), last 200 log lines", "\n".join(lines[-200:])


class Workers:
    """Starts workers on demand (`start()`); all are stopped at teardown."""

    def __init__(self, env: dict[str, str], log_dir: Path, request: pytest.FixtureRequest) -> None:
        self.env = env
        self.log_dir = log_dir
        self.request = request
        self.started: list[Worker] = []

    def start(self, **extra_env: str) -> Worker:
        name = f"reliability-{len(self.started) + 1}-{uuid.uuid4().hex[:6]}"
        worker = Worker(name, {**self.env, **extra_env}, self.log_dir / f"{name}.log")
        self.started.append(worker)
        _diagnose(self.request, worker.describe)
        worker.start()
        worker.wait_ready()
        return worker

    def stop_all(self) -> None:
        for worker in self.started:
            worker.stop()


def child_environment(database_url: str, redis_url: str) -> dict[str, str]:
    """The environment of a server or worker process the test starts: this one's, but on the
    test database and the private Redis (cache and broker), keeping no connection open after
    its work (the test database is flushed afterwards) and nothing of pytest's or Celery's."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CELERY_", "PYTEST_")) and key not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="dealership.settings",
        DATABASE_URL=database_url,
        CONN_MAX_AGE="0",
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
    )
    return env


@pytest.fixture
def celery_workers(request, worker_database_url, celery_broker, smtp_server, tmp_path) -> Iterator[Workers]:
    """Factory of real workers bound to the test database, the private broker and `smtp_server`."""
    env = child_environment(worker_database_url, celery_broker.url)
    env.update(
        EMAIL_URL=smtp_server.url,
        EMAIL_TIMEOUT="10",
        EMAIL_RETRY_BASE_SECONDS="0",
        DEBUG="1",
        SITE_URL="http://testserver",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    log_dir = tmp_path / "workers"
    log_dir.mkdir()
    workers = Workers(env, log_dir, request)
    yield workers
    workers.stop_all()


@pytest.fixture
def celery_worker(celery_workers) -> Worker:
    """One running worker."""
    return celery_workers.start()


# --- Jobs -------------------------------------------------------------------------------------------------------


@pytest.fixture
def make_job(branch, sales_rep, advisor):
    """A received job of the branch: sales_rep owns the customer, advisor requested it."""

    def make(**fields):
        customer = CustomerFactory(branch=branch, sales_owner=sales_rep)
        fields.setdefault("sales_owner", sales_rep)
        fields.setdefault("requested_by", advisor)
        fields.setdefault("service_advisor", advisor)
        return RepairJobFactory(vehicle=VehicleFactory(customer=customer), **fields)

    return make
