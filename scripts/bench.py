"""`make bench`: throughput and latency of the portal's hot screens.

Builds a throwaway database (a new PostgreSQL database next to DATABASE_URL
when it is set, else a temporary SQLite file) holding 10,000 jobs with their
histories, serves the portal with gunicorn (2 workers, production settings),
drives each screen with wrk on loopback as a signed-in sales rep and prints
requests/s and latency, each also as a ratio to the floor — a signed-in view
that runs `SELECT 1` — measured in the same run.

Everything it starts it stops; everything it creates it drops.
"""

from __future__ import annotations

import email
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
JOBS = int(os.environ.get("BENCH_JOBS", "10000"))
DURATION = os.environ.get("BENCH_DURATION", "8s")
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "8")

BUILD = r"""
import random
from datetime import timedelta
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.utils import timezone
from accounts.models import User
from dealership.models import Branch, Customer
from repairs.models import JobEvent, JobKind, RepairJob, Status

call_command("seed_demo", verbosity=0)
rng = random.Random(7)
branches = list(Branch.objects.all())
kinds = JobKind.values
active = [s for s in Status.values if s not in ("delivered", "cancelled")]
now = timezone.now()
existing = RepairJob.objects.count()
for branch in branches:
    customers = list(Customer.objects.filter(branch=branch).prefetch_related("vehicles"))
    staff = list(User.objects.filter(branch=branch, role="technician"))
    owner = User.objects.filter(branch=branch, role="sales_rep").first()
    jobs = []
    for i in range(({jobs} - existing) // len(branches)):
        customer = customers[i % len(customers)]
        vehicle = customer.vehicles.all()[0]
        received = now - timedelta(hours=rng.uniform(1, 24 * 365))
        status = rng.choice(active) if i % 10 == 0 else "delivered"
        jobs.append(RepairJob(branch=branch, customer=customer, vehicle=vehicle, kind=kinds[i % len(kinds)],
            title="bench job", sales_owner=owner, requested_by=owner, technician=staff[i % len(staff)],
            status=status, promised_at=received + timedelta(hours=24), received_at=received, created_at=received,
            updated_at=received, ready_at=received + timedelta(hours=20) if status == "delivered" else None,
            delivered_at=received + timedelta(hours=26) if status == "delivered" else None))
    created = RepairJob.objects.bulk_create(jobs, batch_size=1000)
    history = []
    for job in created:
        job.number = f"R-B-{{job.pk:06d}}"
        steps = ["received", "diagnosing", "in_progress", "quality_check", job.status][: 2 + job.pk % 4]
        for step, status in enumerate(steps):
            history.append(JobEvent(job=job, kind="status" if step else "created", to_status=status, by=owner,
                at=job.received_at + timedelta(hours=step)))
    RepairJob.objects.bulk_update(created, ["number"], batch_size=1000)
    JobEvent.objects.bulk_create(history, batch_size=2000)
user = User.objects.get(email="sales@example.com")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "accounts.backends.BranchAwareModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
job = RepairJob.objects.filter(branch=user.branch).exclude(status="delivered").order_by("pk").first()
from repairs.services import post_message
job_for_thread = RepairJob.objects.filter(branch=user.branch).exclude(status="delivered").order_by("pk")[1]
poster = User.objects.filter(branch=user.branch, role="technician").first()
post_message(job_for_thread, by=poster, body="bench thread message")
print("THREAD", job_for_thread.pk)
print("SESSION", session.session_key)
print("JOB", job.pk)
print("COUNT", RepairJob.objects.count(), JobEvent.objects.count())
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    print("wrk is missing; installing it from Debian's packages…")
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    return shutil.which("wrk") or sys.exit("could not install wrk")


def throwaway_database(workdir: Path) -> tuple[str, callable]:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg2

        name = f"dealership_bench_{os.getpid()}"
        parsed = urlparse(url)
        admin = psycopg2.connect(
            dbname="postgres",
            user=parsed.username or "postgres",
            password=parsed.password or None,
            host=parsed.hostname,
            port=parsed.port or 5432,
        )
        admin.autocommit = True
        admin.cursor().execute(f'CREATE DATABASE "{name}"')

        def drop() -> None:
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()

        return parsed._replace(path=f"/{name}").geturl(), drop
    return f"sqlite:///{workdir / 'bench.sqlite3'}", lambda: None


def wrk(binary: str, url: str, headers: dict[str, str]) -> dict[str, float]:
    args = [binary, "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", url]
    for name, value in headers.items():
        args[1:1] = ["-H", f"{name}: {value}"]
    output = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return {
        "rps": rps,
        "p50": _ms(re.search(r"50%\s+([\d.]+\w+)", output).group(1)),
        "p99": _ms(re.search(r"99%\s+([\d.]+\w+)", output).group(1)),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
    }


def current_etag(url: str, cookie: dict[str, str]) -> str:
    """The screen's ETag for a window that does not cross a minute (the ETag has the minute in it)."""
    seconds = int(re.match(r"(\d+)", DURATION).group(1))
    now = time.localtime().tm_sec
    if now > 58 - seconds:
        time.sleep(61 - now)
    request = urllib.request.Request(url, headers={**cookie, "HX-Request": "true"})
    return urllib.request.urlopen(request).headers["ETag"]


DRIVE = r"""
import json, time
from accounts.models import User
from dealership.models import Notification
from repairs.models import RepairJob
from repairs.services import change_status
advisor = User.objects.filter(role="service_advisor").order_by("pk").first()
movable = ["received", "diagnosing", "awaiting_approval", "awaiting_parts", "in_progress"]
jobs = list(RepairJob.objects.filter(branch=advisor.branch, status__in=movable).select_related(
    "vehicle", "sales_owner", "requested_by")[:{changes}])
committed = {}
for job in jobs:
    change_status(job, to="on_hold", by=advisor, expected_version=job.version)
    done = time.time()
    mailed = Notification.objects.filter(target_id=job.pk).exclude(email_status="skipped")
    for pk in mailed.values_list("pk", flat=True):
        committed[str(pk)] = done
    time.sleep(0.02)
print("COMMITTED", json.dumps(committed))
"""


def email_latency(env: dict[str, str], workdir: Path) -> None:
    """Committed status change → e-mail at a local SMTP server, through a real worker."""
    redis_server = shutil.which("redis-server")
    if not redis_server:
        print("\nE-mail latency: skipped (redis-server is not installed).")
        return
    from aiosmtpd.controller import Controller

    arrivals: dict[str, float] = {}

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            notification = email.message_from_bytes(envelope.content).get("X-Portal-Notification")
            if notification:
                arrivals.setdefault(notification, time.time())
            return "250 OK"

    smtp_port, redis_port = free_port(), free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    redis = subprocess.Popen(
        [redis_server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    worker_env = {
        **env,
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
    }
    worker = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "dealership",
            "worker",
            "--concurrency=2",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=worker_env,
        stdout=(workdir / "worker.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        time.sleep(4)  # the worker connects and is ready
        changes = int(os.environ.get("BENCH_EMAIL_CHANGES", "200"))
        driven = subprocess.run(
            [PYTHON, "manage.py", "shell", "-c", DRIVE.replace("{changes}", str(changes))],
            cwd=ROOT,
            env=worker_env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        committed = json.loads(re.search(r"COMMITTED (.+)", driven).group(1))
        deadline = time.time() + 60
        while len(arrivals) < len(committed) and time.time() < deadline:
            time.sleep(0.2)
        latencies = sorted(arrivals[key] - at for key, at in committed.items() if key in arrivals)
        if not latencies:
            print("\nE-mail latency: no e-mail arrived.")
            return
        p50 = latencies[len(latencies) // 2]
        p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
        print(
            f"\nE-mail latency over {len(committed)} e-mails of {changes} status changes "
            "(real worker, Redis, SMTP on loopback): "
            f"{len(latencies)} arrived, p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms (target p95 ≤ 1500 ms)."
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        redis.terminate()
        redis.wait(timeout=10)
        controller.stop()


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def main() -> int:
    started = time.monotonic()
    binary = ensure_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="dealership-bench-"))
    database_url, drop_database = throwaway_database(workdir)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + os.urandom(16).hex(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "BENCHMARK_VIEWS": "1",
        "STATIC_ROOT": str(workdir / "static"),
        "LOG_LEVEL": "WARNING",
        "EMAIL_URL": "dummymail://",
    }
    env.pop("REDIS_URL", None) if os.environ.get("BENCH_USE_REDIS") != "1" else None
    server = None
    try:
        print(f"Building a throwaway database with {JOBS} jobs ({database_url.split('@')[-1]})…")
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        built = subprocess.run(
            [
                PYTHON,
                "manage.py",
                "shell",
                "-c",
                BUILD.replace("{jobs}", str(JOBS)).replace("{{", "{").replace("}}", "}"),
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        session = re.search(r"SESSION (\w+)", built).group(1)
        job_id = re.search(r"JOB (\d+)", built).group(1)
        thread_id = re.search(r"THREAD (\d+)", built).group(1)
        print("Rows:", re.search(r"COUNT (.+)", built).group(1), "(jobs, status changes)")
        port = free_port()
        server = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "dealership.wsgi:application",
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        cookie = {"Cookie": f"sessionid={session}"}
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except Exception:
                time.sleep(0.2)
        screens = [
            ("floor (SELECT 1)", "/jobs/bench-floor/", {}),
            ("sales list", "/jobs/my-cars/?scope=branch", {}),
            ("board", "/jobs/board/", {}),
            ("job page", f"/jobs/{job_id}/", {}),
            ("board refresh, unchanged (304)", "/jobs/board/", {"HX-Request": "true", "If-None-Match": "…"}),
            ("bell refresh, unchanged (304)", "/notifications/badge/", {"HX-Request": "true", "If-None-Match": "…"}),
            (
                "thread refresh, unchanged (304)",
                f"/jobs/{thread_id}/thread/",
                {"HX-Request": "true", "If-None-Match": "…"},
            ),
        ]
        # Warm up: first requests compile templates and open connections.
        subprocess.run(
            [binary, "-t1", "-c2", "-d2s", base + "/jobs/bench-floor/", "-H", f"Cookie: {cookie['Cookie']}"],
            capture_output=True,
            check=False,
        )
        results = []
        for label, path, headers in screens:
            if "If-None-Match" in headers:
                headers["If-None-Match"] = current_etag(base + path, cookie)
            stats = wrk(binary, base + path, {**cookie, **headers})
            results.append((label, stats))
            print(f"  measured {label}: {stats['rps']:.0f} req/s")
        floor = results[0][1]["rps"]
        print()
        print(f"{'screen':34} {'req/s':>8} {'× floor':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx/3xx':>11}")
        for label, stats in results:
            ratio = stats["rps"] / floor
            latency = f"{stats['p50']:8.1f} {stats['p99']:8.1f}"
            print(f"{label:34} {stats['rps']:8.0f} {ratio:8.2f} {latency} {stats['errors']:11d}")
        print("\nTargets: list, board, job page ≥ 0.25 × floor; unchanged refreshes ≥ 0.6 × floor.")
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
        server = None
        email_latency(env, workdir)
        print(f"Finished in {time.monotonic() - started:.0f} s.")
        return 0
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
        drop_database()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
