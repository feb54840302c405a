"""`make bench`: what each polled screen costs when it must render, and when it need not.

Needs PostgreSQL and Redis (DATABASE_URL=postgres://…, REDIS_URL=redis://…)
and refuses SQLite or the local-memory cache: their figures say nothing about
the server the portal runs on. In a throwaway database beside DATABASE_URL
(BENCH_DATABASE names it; dropped at the end) it builds a busy dealership in
bulk — 10,000 jobs over two branches of 60 staff, a third of the jobs active,
threads of 5–30 messages with photos and mentions on the active ones,
histories, read markers and notifications — serves it with gunicorn (2 sync
workers, production settings, Redis as the cache) and drives it with wrk on
loopback:

- two floors: a bare one (anonymous, no session, `SELECT 1`) and a signed-in
  one (the session and user every screen pays, then `SELECT 1`), measured
  first and last and averaged;
- every polled screen FRESH: no `If-None-Match`, and a query parameter that
  changes on every request (`?fresh=<thread>-<n>`, ignored by the views), so
  neither an ETag nor any cache keyed on the URL can answer (the views keep
  no server-side copies of their own: DESIGN.md, "Everyday quality");
- every unchanged refresh: `HX-Request` and the `If-None-Match` the screen
  just gave, as htmx polls; the share of 304s is printed, not assumed.

Each figure is also a ratio to the floors of the same run, compared with the
targets of issue 13; a missed target prints MISSED, and only an error (a
failed request, a wrong status) makes the exit status non-zero. Then the
latency from a committed status change to its e-mail at a local SMTP server,
through a real Celery worker.

`python scripts/bench.py build` is the data builder (run inside the throwaway
database's environment); scripts/capacity.py reuses this module.
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
from collections.abc import Callable
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
JOBS = int(os.environ.get("BENCH_JOBS", "10000"))
STAFF_PER_BRANCH = int(os.environ.get("BENCH_STAFF", "60"))
DURATION = int(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
WORKERS = 2  # the benchmark server of issue 13

# (share of the branch's staff, role, department)
STAFF_MIX = [
    (20 / 60, "sales_rep", "sales"),
    (24 / 60, "technician", "service"),
    (10 / 60, "service_advisor", "service"),
    (6 / 60, "manager", "management"),
]
ACTIVE_MIX = {
    "received": 15,
    "diagnosing": 15,
    "awaiting_approval": 10,
    "awaiting_parts": 10,
    "in_progress": 25,
    "quality_check": 10,
    "ready": 10,
    "on_hold": 5,
}
# The statuses a job passed through on its way to each status (its timeline).
PATHS = {
    "received": ["received"],
    "diagnosing": ["received", "diagnosing"],
    "awaiting_approval": ["received", "diagnosing", "awaiting_approval"],
    "awaiting_parts": ["received", "diagnosing", "awaiting_parts"],
    "in_progress": ["received", "diagnosing", "in_progress"],
    "quality_check": ["received", "diagnosing", "in_progress", "quality_check"],
    "ready": ["received", "diagnosing", "in_progress", "quality_check", "ready"],
    "on_hold": ["received", "diagnosing", "on_hold"],
    "delivered": ["received", "diagnosing", "in_progress", "quality_check", "ready", "delivered"],
    "cancelled": ["received", "diagnosing", "cancelled"],
}
FAMILY = "佐藤 鈴木 高橋 田中 伊藤 渡辺 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 林 斎藤 清水".split()  # noqa: SIM905
GIVEN = "翔太 美咲 大輝 陽菜 蓮 結衣 悠斗 さくら 健 花子 誠 愛 拓海 葵 直樹 彩 亮 真央 剛 舞".split()  # noqa: SIM905
MODELS = [("Toyota", "Prius"), ("Toyota", "Aqua"), ("Toyota", "Alphard"), ("Honda", "N-BOX"), ("Mazda", "CX-5")]
MESSAGES = [
    "ブレーキパッドの残量が2mmです。交換をおすすめします。",
    "お客様から夕方の引き取り希望の連絡がありました。",
    "部品は明日の午前に入荷予定です。",
    "The customer asked whether the wipers can be replaced too.",
    "下回りの写真を添付します。サビが進んでいます。",
    "Oil leak found at the rear main seal; photo attached.",
    "代車の返却は来週月曜日です。",
    "試運転で異音なし。完成検査に回します。",
]


# --- Refusals and small tools -----------------------------------------------------------------------------------


def require_services() -> tuple[str, str]:
    """DATABASE_URL and REDIS_URL of real services, or exit saying why not."""
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    problems = []
    if not database_url.startswith(("postgres://", "postgresql://")):
        problems.append(
            "DATABASE_URL must point at PostgreSQL (postgres://…): on SQLite every write locks the whole "
            "file and the two gunicorn workers queue behind each other, so its figures describe neither the "
            "portal's database nor its server."
        )
    if not redis_url.startswith(("redis://", "rediss://")):
        problems.append(
            "REDIS_URL must point at Redis: without it the cache is each process's local memory (and "
            "sessions, rate limits and ETag markers would not be shared between workers), which is not "
            "what a deployed portal runs on."
        )
    if problems:
        sys.exit("The benchmark refuses to run:\n- " + "\n- ".join(problems))
    return database_url, redis_url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    sys.exit("wrk is missing: install Debian's `wrk` package (.ci/run does).")


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time these processes have used so far, from /proc (0 for any that is gone)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


# --- The stack: throwaway database, data, gunicorn --------------------------------------------------------------


class Stack:
    """A throwaway database with the bench data, a private cache namespace and a 2-worker gunicorn."""

    def __init__(self, *, staff_per_branch: int = STAFF_PER_BRANCH, jobs: int = JOBS) -> None:
        self.database_url, self.redis_url = require_services()
        self.staff_per_branch = staff_per_branch
        self.jobs = jobs
        self.workdir = Path(tempfile.mkdtemp(prefix="dealership-bench-"))
        self.name = os.environ.get("BENCH_DATABASE") or f"dealership_bench_{os.getpid()}"
        self.prefix = f"bench{os.getpid()}"
        self.server: subprocess.Popen | None = None
        self.base = ""
        self.data: dict = {}
        parsed = urlparse(self.database_url)
        self._admin_args = {
            "dbname": "postgres",
            "user": parsed.username or "postgres",
            "password": parsed.password or None,
            "host": parsed.hostname,
            "port": parsed.port or 5432,
        }
        self.env = {
            **os.environ,
            "DATABASE_URL": parsed._replace(path=f"/{self.name}").geturl(),
            "REDIS_URL": self.redis_url,
            # A namespace of its own in the given Redis database: nothing of
            # anyone else's is read, and everything is deleted at the end.
            "CACHE_KEY_PREFIX": self.prefix,
            # The server enqueues e-mail tasks; no worker runs here, so they
            # go to an in-process queue instead of piling up in Redis.
            "CELERY_BROKER_URL": "memory://",
            "DEBUG": "0",
            "SECRET_KEY": "bench-" + os.urandom(16).hex(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "BENCHMARK_VIEWS": "1",
            "STATIC_ROOT": str(self.workdir / "static"),
            "MEDIA_ROOT": str(self.workdir / "media"),
            "LOG_LEVEL": "WARNING",
            "EMAIL_URL": "dummymail://",
            "CONN_MAX_AGE": "600",
            # Hundreds of simulated people share a few addresses.
            "LOGIN_FAILURES_PER_IP_PER_MINUTE": "100000",
        }

    def _admin(self):
        import psycopg2

        connection = psycopg2.connect(**self._admin_args)
        connection.autocommit = True
        return connection

    def manage(self, *args: str, capture: bool = False) -> str:
        done = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, check=True, capture_output=capture, text=True
        )
        return done.stdout if capture else ""

    def build(self) -> dict:
        started = time.monotonic()
        with closing(self._admin()) as admin, admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{self.name}"')
        self.manage("migrate", "-v0")
        self.manage("collectstatic", "--noinput", "-v0")
        output = subprocess.run(
            [PYTHON, __file__, "build", str(self.jobs), str(self.staff_per_branch)],
            cwd=ROOT,
            env=self.env,
            check=False,
            capture_output=True,
            text=True,
        )
        if output.returncode:
            sys.exit(f"Building the bench data failed:\n{output.stderr[-4000:]}")
        output = output.stdout
        self.data = json.loads(output.strip().splitlines()[-1])
        counts = self.data["counts"]
        print(
            f"Built {self.name} in {time.monotonic() - started:.0f} s: "
            + ", ".join(f"{value:,} {key}" for key, value in counts.items())
        )
        return self.data

    def serve(self, *, workers: int = WORKERS) -> str:
        port = free_port()
        self.server = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "dealership.wsgi:application",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--backlog",
                "4096",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
        )
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=2)
                break
            except Exception:
                if self.server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        return self.base

    def server_pids(self) -> list[int]:
        """gunicorn's master and its workers (for CPU accounting)."""
        import psutil

        master = psutil.Process(self.server.pid)
        return [master.pid, *(child.pid for child in master.children(recursive=True))]

    def database_pids(self) -> list[int]:
        """The PostgreSQL backends serving the throwaway database (gunicorn's persistent connections)."""
        with closing(self._admin()) as admin, admin.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.name])
            return [row[0] for row in cursor.fetchall()]

    def stop_server(self) -> None:
        server, self.server = self.server, None
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)

    def close(self) -> None:
        self.stop_server()
        try:
            with closing(self._admin()) as admin, admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            self.delete_cache_keys()
            shutil.rmtree(self.workdir, ignore_errors=True)

    def delete_cache_keys(self) -> None:
        import redis

        client = redis.Redis.from_url(self.redis_url)
        try:
            keys = list(client.scan_iter(match=f"{self.prefix}:*", count=1000))
            for start in range(0, len(keys), 1000):
                client.delete(*keys[start : start + 1000])
        finally:
            client.close()


@contextmanager
def stack(**options) -> Stack:
    built = Stack(**options)
    try:
        yield built
    finally:
        built.close()


# --- The data builder (runs in the throwaway database's environment) ---------------------------------------------


def copy_rows(model: type, rows: list[dict]) -> None:
    """Write `rows` (attribute name → value, ids included) with PostgreSQL's COPY, then move the id sequence on.

    Fields a row leaves out take the model's default, so a field someone adds
    later with a default needs no change here.
    """
    import datetime as dt
    import io

    from django.db import connection
    from django.db.models import JSONField

    if not rows:
        return
    fields = list(model._meta.concrete_fields)
    defaults = {field.attname: field.get_default() for field in fields if field.attname not in rows[0]}

    def text(field, value) -> str:
        if isinstance(field, JSONField):
            return json.dumps(value, ensure_ascii=False).replace("\\", "\\\\")
        if value is None:
            return "\\N"
        if isinstance(value, bool):
            return "t" if value else "f"
        if isinstance(value, dt.datetime | dt.date):
            return value.isoformat()
        return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")

    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(text(f, row[f.attname] if f.attname in row else defaults[f.attname]) for f in fields))
        buffer.write("\n")
    buffer.seek(0)
    table = model._meta.db_table
    columns = ", ".join(f'"{field.column}"' for field in fields)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f'COPY "{table}" ({columns}) FROM STDIN', buffer)
        # Names from the model's own metadata, not from input.
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT max(id) FROM \"{table}\"))"  # noqa: S608
        )


def build_data(jobs_total: int, staff_per_branch: int) -> dict:
    """A busy two-branch dealership, written in bulk (the services are measured, not used, here)."""
    import io
    import random
    from datetime import timedelta
    from importlib import import_module

    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dealership.settings")
    django.setup()

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.contenttypes.models import ContentType
    from django.core.files.storage import default_storage
    from django.db import connection
    from django.db.models import F, Max
    from django.utils import timezone
    from PIL import Image

    from accounts.models import User
    from customers.models import Customer, Vehicle
    from dealership.i18n import gettext_lazy as _
    from dealership.models import Branch, Notification
    from dealership.notifications import portable
    from repairs.models import Attachment, JobEvent, JobKind, JobMessage, JobReadMarker, RepairJob, Status

    rng = random.Random(13)
    now = timezone.now()
    password = make_password("dealership-bench")
    branches = [
        Branch.objects.create(code="bench-tokyo", name="東京東店"),
        Branch.objects.create(code="bench-yokohama", name="横浜港北店"),
    ]

    # Staff: 60 per branch by default, in a dealership's proportions.
    staff: dict[int, dict[str, list[User]]] = {}
    for branch in branches:
        rows = []
        for share, role, department in STAFF_MIX:
            for index in range(max(1, round(staff_per_branch * share))):
                name = f"{FAMILY[(index + len(rows)) % len(FAMILY)]} {GIVEN[index % len(GIVEN)]}{index}"
                rows.append(
                    User(
                        email=f"{role}{index}.{branch.code}@bench.example.com",
                        display_name=name,
                        role=role,
                        department=department,
                        branch=branch,
                        password=password,
                        language="ja",
                    )
                )
        created = User.objects.bulk_create(rows, batch_size=2000)
        staff[branch.pk] = {role: [user for user in created if user.role == role] for _, role, _ in STAFF_MIX}

    # Small generated photos, shared by many attachments (rows differ, files need not).
    photos = []
    for index in range(6):
        image = Image.new("RGB", (640, 480), (40 * index, 90, 160 - 20 * index))
        for band in range(0, 480, 40):
            image.paste((200, 200 - 10 * index, 60 + band // 4), (0, band, 640, band + 20))
        names, sizes = [], []
        for size, kind in (((640, 480), "photo"), ((200, 150), "thumb")):
            buffer = io.BytesIO()
            image.resize(size).save(buffer, "JPEG", quality=70)
            sizes.append(len(buffer.getvalue()))
            names.append(default_storage.save(f"jobs/bench/{kind}-{index}.jpg", io.BytesIO(buffer.getvalue())))
        photos.append((*names, sizes[0]))

    statuses_active = list(ACTIVE_MIX)
    weights_active = list(ACTIVE_MIX.values())
    kinds = JobKind.values
    job_type = ContentType.objects.get_for_model(RepairJob)
    summary = {"branches": len(branches), "staff": 0, "jobs": 0, "events": 0, "messages": 0, "photos": 0}
    summary.update(mentions=0, notifications=0)
    # The big tables are written with COPY and ids given here (the database is
    # new): Django's bulk_create would spend a minute compiling the rows.
    tables: dict[type, list[dict]] = {
        RepairJob: [],
        JobEvent: [],
        JobMessage: [],
        JobMessage.mentions.through: [],
        Attachment: [],
        JobReadMarker: [],
        Notification: [],
    }
    ids = dict.fromkeys(tables, 0)

    def add(model: type, **values) -> int:
        ids[model] += 1
        tables[model].append({"id": ids[model], **values})
        return ids[model]

    for branch in branches:
        people = staff[branch.pk]
        reps, technicians, advisors = people["sales_rep"], people["technician"], people["service_advisor"]
        everyone = [user for group in people.values() for user in group]
        summary["staff"] += len(everyone)
        customers = Customer.objects.bulk_create(
            [
                Customer(
                    branch=branch,
                    name=f"{FAMILY[i % len(FAMILY)]} {GIVEN[(i // len(FAMILY)) % len(GIVEN)]}",
                    name_kana="カスタマー",
                    phone=f"090-{i // 10000:04d}-{i % 10000:04d}",
                    email=f"customer{i}.{branch.code}@example.jp",
                    sales_owner=reps[i % len(reps)],
                )
                for i in range(jobs_total // 5)
            ],
            batch_size=2000,
        )
        vehicles = Vehicle.objects.bulk_create(
            [
                Vehicle(
                    customer=customer,
                    make=MODELS[i % len(MODELS)][0],
                    model=MODELS[i % len(MODELS)][1],
                    year=2012 + i % 12,
                    plate_number=f"品川 {300 + i % 200} あ {i % 100:02d}-{i % 97:02d}",
                )
                for i, customer in enumerate(customers)
            ],
            batch_size=2000,
        )
        for i in range(jobs_total // len(branches)):
            vehicle, customer = vehicles[i % len(vehicles)], customers[i % len(customers)]
            if i % 3 == 0:  # a third of the jobs are in the shop
                status = rng.choices(statuses_active, weights_active)[0]
                received = now - timedelta(hours=rng.uniform(0.5, 240))
                promised = received + timedelta(hours=rng.uniform(24, 120))
            else:
                status = "cancelled" if i % 40 == 1 else "delivered"
                received = now - timedelta(hours=rng.uniform(24 * 11, 24 * 730))
                promised = received + timedelta(hours=rng.uniform(24, 72))
            technician = None if status == "received" and i % 2 else technicians[i % len(technicians)]
            advisor = advisors[i % len(advisors)]
            path = PATHS[status]
            job_id = ids[RepairJob] + 1
            number = f"R-{received.year}-{job_id:05d}"
            on_job = [user for user in (customer.sales_owner, technician, advisor) if user]
            last_message_at = None
            if status in ACTIVE_MIX:
                count = rng.randint(5, 30)
                span = (now - received).total_seconds()
                for index in range(count):
                    author = rng.choice(on_job) if index % 3 else rng.choice(everyone)
                    mention = rng.choice(everyone) if index % 5 == 2 else None
                    body = MESSAGES[(job_id + index) % len(MESSAGES)]
                    if mention is not None:
                        body = f"@{mention.email.split('@')[0]} {body}"
                    last_message_at = received + timedelta(seconds=span * (index + 1) / (count + 1))
                    message_id = add(
                        JobMessage,
                        job_id=job_id,
                        author_id=author.pk,
                        kind="customer_request" if index % 10 == 4 else "note",
                        body=body,
                        created_at=last_message_at,
                    )
                    if mention is not None:
                        add(JobMessage.mentions.through, jobmessage_id=message_id, user_id=mention.pk)
                    if index % 4 == 1:
                        image, thumbnail, size = photos[index % len(photos)]
                        add(
                            Attachment,
                            message_id=message_id,
                            image=image,
                            thumbnail=thumbnail,
                            width=640,
                            height=480,
                            size=size,
                            original_name="IMG_0001.jpg",
                        )
                # Half of the people on the job have read the thread, half are behind.
                for number_on_job, user in enumerate(on_job):
                    read_at = last_message_at if (job_id + number_on_job) % 2 else received
                    add(JobReadMarker, job_id=job_id, user_id=user.pk, read_at=read_at)
                    add(
                        Notification,
                        recipient_id=user.pk,
                        actor_id=advisor.pk,
                        kind="status_changed",
                        template=portable(_("{number} {vehicle}: {status}")),
                        args={
                            "number": number,
                            "vehicle": str(vehicle),
                            "status": portable(Status(status).label),
                        },
                        url=f"/jobs/{job_id}/",
                        target_type_id=job_type.pk,
                        target_id=job_id,
                        created_at=received + timedelta(hours=len(path)),
                        read_at=None if (job_id + number_on_job) % 4 == 0 else now,
                        send_status="skipped",
                    )
            for step, step_status in enumerate(path):
                add(
                    JobEvent,
                    job_id=job_id,
                    kind="status" if step else "created",
                    by_id=advisor.pk,
                    at=received + timedelta(hours=step),
                    from_status=path[step - 1] if step else "",
                    to_status=step_status,
                )
            add(
                RepairJob,
                number=number,
                branch_id=branch.pk,
                customer_id=customer.pk,
                vehicle_id=vehicle.pk,
                kind=kinds[i % len(kinds)],
                title=f"{JobKind(kinds[i % len(kinds)]).label} {vehicle.model}",
                customer_request="異音がする。点検してほしい。",
                sales_owner_id=customer.sales_owner_id,
                requested_by_id=advisor.pk,
                technician_id=technician.pk if technician else None,
                service_advisor_id=advisor.pk,
                priority=rng.choices([1, 2, 3, 4], [3, 12, 75, 10])[0],
                status=status,
                promised_at=promised,
                received_at=received,
                created_at=received,
                updated_at=received + timedelta(hours=len(path)),
                ready_at=received + timedelta(hours=20) if status in ("ready", "delivered") else None,
                delivered_at=received + timedelta(hours=26) if status == "delivered" else None,
                version=len(path),
            )
    for model, rows in tables.items():
        copy_rows(model, rows)
    summary.update(
        jobs=len(tables[RepairJob]),
        events=len(tables[JobEvent]),
        messages=len(tables[JobMessage]),
        mentions=len(tables[JobMessage.mentions.through]),
        photos=len(tables[Attachment]),
        notifications=len(tables[Notification]),
    )
    # Statistics for the planner, and the vacuum autovacuum would otherwise run
    # on these fresh tables in the middle of the measurements.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")

    # Signed-in sessions, made in bulk through the configured session engine
    # (a form login per simulated person would take minutes).
    store = import_module(settings.SESSION_ENGINE).SessionStore

    def session_for(user: User) -> str:
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "accounts.backends.BranchAwareModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        return session.session_key

    home = branches[0]
    # The measured job: in the workshop, with a technician and the latest thread.
    job = (
        RepairJob.objects.filter(branch=home, technician__isnull=False, status="in_progress")
        .select_related("technician")
        .annotate(last_message=Max("messages__created_at"))
        .order_by(F("last_message").desc(nulls_last=True))
        .first()
    )
    technician = job.technician
    people = []
    for branch in branches:
        for role, users in staff[branch.pk].items():
            for user in users:
                people.append({"id": user.pk, "role": role, "branch": branch.pk, "session": session_for(user)})
    # Jobs for the capacity run's status writer: received and already assigned, as
    # most workshop moves are a technician's own jobs (an unassigned job moving
    # would change every technician's queue, which is rare in a real workshop).
    active_jobs = {
        str(branch.pk): list(
            RepairJob.objects.filter(branch=branch, status="received", technician__isnull=False)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for branch in branches
    }
    my_jobs = {
        str(user_id): job_id
        for job_id, user_id in RepairJob.objects.filter(status__in=ACTIVE_MIX, technician__isnull=False)
        .order_by("pk")
        .values_list("pk", "technician_id")
    }
    first = {role: next(p for p in people if p["role"] == role and p["branch"] == home.pk) for _, role, _ in STAFF_MIX}
    first["technician"] = next(p for p in people if p["id"] == technician.pk)
    return {
        "counts": summary,
        "people": people,
        "first": first,
        "job": job.pk,
        "received_jobs": active_jobs,
        "technician_job": my_jobs,
    }


# --- wrk --------------------------------------------------------------------------------------------------------

# Counts every status wrk saw; for a fresh run, also makes every URL unique.
WRK_LUA = r"""
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
function init(args)
  counts = {}
  n = 0
  fresh = args[1] == "fresh"
end
function request()
  if fresh then
    n = n + 1
    local sep = string.find(wrk.path, "?", 1, true) and "&" or "?"
    return wrk.format(nil, wrk.path .. sep .. "fresh=" .. tid .. "-" .. n)
  end
  return wrk.format(nil, wrk.path)
end
function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("counts")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("STATUS %d %d\n", status, count))
  end
  io.write(string.format("LATENCY %f %f %f\n", latency:percentile(50), latency:percentile(95),
    latency:percentile(99)))
  io.write(string.format("ERRORS %d %d %d %d\n", summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout))
end
"""


def wrk(binary: str, script: Path, url: str, headers: dict[str, str], *, fresh: bool) -> dict:
    # A slow answer is measured as slow (up to 10 s), not counted as an error.
    args = [binary, "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--timeout", "10s", "-s", str(script)]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    args += [url, "--", "fresh" if fresh else "same"]
    output = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    statuses = {int(code): int(count) for code, count in re.findall(r"STATUS (\d+) (\d+)", output)}
    p50, p95, p99 = (float(value) / 1000 for value in re.search(r"LATENCY (\S+) (\S+) (\S+)", output).groups())
    socket_errors = sum(int(value) for value in re.search(r"ERRORS (\d+) (\d+) (\d+) (\d+)", output).groups())
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": p50,
        "p95": p95,
        "p99": p99,
        "statuses": statuses,
        "requests": sum(statuses.values()),
        "socket_errors": socket_errors,
    }


def probe(base: str, path: str, headers: dict[str, str]) -> tuple[int, str]:
    """One GET: (status, ETag)."""
    request = urllib.request.Request(base + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("ETag", "")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("ETag", "")


# --- The run ----------------------------------------------------------------------------------------------------


def screens(data: dict) -> list[dict]:
    """What is measured, as whom, and what it is compared with."""
    first = data["first"]
    sales, technician, advisor = first["sales_rep"], first["technician"], first["service_advisor"]
    job = data["job"]
    hx = {"HX-Request": "true"}
    fresh = [
        ("sales list, page", "/jobs/my-cars/", sales, {}, 0.20),
        ("technician queue, page", "/jobs/queue/", technician, {}, 0.20),
        ("board, page", "/jobs/board/", advisor, {}, 0.15),
        ("job page", f"/jobs/{job}/", technician, {}, 0.20),
        ("sales list, live fragment", "/jobs/my-cars/", sales, hx, 0.20),
        ("technician queue, live fragment", "/jobs/queue/", technician, hx, 0.20),
        ("board, live fragment", "/jobs/board/", advisor, hx, 0.15),
        ("job panel, live fragment", f"/jobs/{job}/", technician, hx, 0.20),
        ("thread, live fragment", f"/jobs/{job}/thread/", technician, hx, None),
        ("bell, live fragment", "/notifications/badge/", sales, hx, None),
    ]
    unchanged = [
        ("sales list", "/jobs/my-cars/", sales),
        ("technician queue", "/jobs/queue/", technician),
        ("board", "/jobs/board/", advisor),
        ("job panel", f"/jobs/{job}/", technician),
        ("thread", f"/jobs/{job}/thread/", technician),
        ("bell", "/notifications/badge/", sales),
    ]
    measured = [
        {"label": label, "path": path, "who": who, "headers": headers, "fresh": True, "target": target}
        for label, path, who, headers, target in fresh
    ]
    measured += [
        {"label": f"{label}, unchanged (304)", "path": path, "who": who, "headers": hx, "fresh": False, "target": 0.8}
        for label, path, who in unchanged
    ]
    return measured


def cookie(person: dict | None) -> dict[str, str]:
    return {"Cookie": f"sessionid={person['session']}"} if person else {}


def main() -> int:
    require_services()
    binary = ensure_wrk()
    started = time.monotonic()
    failures: list[str] = []
    with stack() as bench:
        data = bench.build()
        # Fresh means rendered from the database: the board's shared cards
        # (repairs/board.py) would answer every request after the first.
        # `make bench-capacity` measures them as production runs them.
        bench.env["SHARED_BOARD"] = "0"
        base = bench.serve()
        script = bench.workdir / "count.lua"
        script.write_text(WRK_LUA)
        sales = data["first"]["sales_rep"]

        def run(label: str, path: str, headers: dict[str, str], *, fresh: bool, expect: int) -> dict:
            # CPU per request of gunicorn and its PostgreSQL backends: unlike req/s, it hardly
            # moves when other work shares the machine.
            pids = bench.server_pids() + bench.database_pids()
            before = cpu_seconds(pids)
            stats = wrk(binary, script, base + path, headers, fresh=fresh)
            stats["cpu_ms"] = (cpu_seconds(pids) - before) * 1000 / max(1, stats["requests"])
            if not stats["requests"]:
                # Nothing came back within the run: no figure can be given.
                failures.append(f"{label}: no answer within {DURATION} s")
            wrong = {code: count for code, count in stats["statuses"].items() if code != expect}
            stats["share_expected"] = stats["statuses"].get(expect, 0) / max(1, stats["requests"])
            if stats["socket_errors"] or any(code >= 400 for code in wrong):
                failures.append(f"{label}: statuses {stats['statuses']}, socket errors {stats['socket_errors']}")
            print(f"  {label:44} {stats['rps']:7.0f} req/s  {stats['statuses']}")
            return stats

        # Warm-up: the first requests compile templates and open connections.
        for item in screens(data):
            probe(base, item["path"], {**cookie(item["who"]), **item["headers"]})
        # Then both floors at full load for a while: a cold first floor would flatter every ratio.
        for path, headers in (("/bench/bare-floor/", []), ("/bench/floor/", ["-H", cookie(sales)["Cookie"]])):
            subprocess.run(
                [binary, "-t2", f"-c{CONNECTIONS}", "-d3s", base + path, *headers], capture_output=True, check=False
            )
        print(f"\nwrk: {CONNECTIONS} connections, {DURATION} s per screen, gunicorn with {WORKERS} sync workers")
        floors = {"bare": [], "signed": []}

        def measure_floors() -> None:
            floors["bare"].append(
                run("floor, bare (anonymous, SELECT 1)", "/bench/bare-floor/", {}, fresh=False, expect=200)
            )
            floors["signed"].append(
                run("floor, signed in (SELECT 1)", "/bench/floor/", cookie(sales), fresh=False, expect=200)
            )

        measure_floors()
        results = []
        for item in screens(data):
            if not item["fresh"] and len(floors["bare"]) == 1:
                measure_floors()  # again between the fresh screens and the refreshes
            headers = {**cookie(item["who"]), **item["headers"]}
            if item["fresh"]:
                stats = run(item["label"], item["path"], headers, fresh=True, expect=200)
            else:
                status, etag = probe(base, item["path"], headers)
                if status != 200 or not etag:
                    failures.append(f"{item['label']}: the fresh GET answered {status} with ETag {etag!r}")
                    continue
                stats = run(item["label"], item["path"], {**headers, "If-None-Match": etag}, fresh=False, expect=304)
            results.append((item, stats))
        measure_floors()
        bench.stop_server()

        bare = sum(s["rps"] for s in floors["bare"]) / len(floors["bare"])
        signed = sum(s["rps"] for s in floors["signed"]) / len(floors["signed"])
        report(bare, signed, floors, results)

        if os.environ.get("BENCH_EMAIL", "1") != "0":
            email_latency(bench.env, bench.workdir)
        if os.environ.get("BENCH_KPI", "1") != "0":
            kpi_dashboard(bench, binary, script)
    print(f"\nFinished in {time.monotonic() - started:.0f} s.")
    if failures:
        print("\nERRORS:\n- " + "\n- ".join(failures))
        return 1
    return 0


def report(bare: float, signed: float, floors: dict, results: list) -> None:
    first, last = floors["signed"][0]["rps"], floors["signed"][-1]["rps"]
    print(
        f"\nFloors (mean of {len(floors['signed'])} runs: first, middle, last): bare {bare:.0f} req/s, "
        f"signed in {signed:.0f} req/s (signed in went {first:.0f} → {last:.0f} during the run)."
    )
    floor_cpu = sum(s["cpu_ms"] for s in floors["signed"]) / len(floors["signed"])
    bare_cpu = sum(s["cpu_ms"] for s in floors["bare"]) / len(floors["bare"])
    print(
        f"CPU per request (gunicorn and PostgreSQL): bare floor {bare_cpu:.2f} ms, signed-in floor {floor_cpu:.2f} ms."
    )
    header = f"{'screen (10,000 jobs)':44} {'req/s':>7} {'p50':>6} {'p95':>6} {'× signed':>8} {'× bare':>7}"
    print(f"\n{header} {'expected':>9} {'CPU ms':>7} {'CPU × signed':>12}  target")
    missed = []
    for item, stats in results:
        ratio_signed, ratio_bare = stats["rps"] / signed, stats["rps"] / bare
        target, verdict = item["target"], ""
        if item["fresh"] and target is not None:
            verdict = f"≥ {target:.2f} × signed in floor " + ("met" if ratio_signed >= target else "MISSED")
        elif not item["fresh"]:
            ok = ratio_signed >= 0.8 and ratio_bare >= 0.5
            verdict = "≥ 0.80 × signed in and ≥ 0.50 × bare " + ("met" if ok else "MISSED")
        if verdict.endswith("MISSED"):
            missed.append(item["label"])
        expected = f"{stats['share_expected'] * 100:.1f} %"
        latency = f"{stats['p50']:6.1f} {stats['p95']:6.1f}" if stats["requests"] else f"{'—':>6} {'—':>6}"
        print(
            f"{item['label']:44} {stats['rps']:7.0f} {latency} "
            f"{ratio_signed:8.2f} {ratio_bare:7.2f} {expected:>9} {stats['cpu_ms']:7.2f} "
            f"{floor_cpu / max(stats['cpu_ms'], 0.001):12.2f}  {verdict}"
        )
    print(
        "\nLatencies in ms. `expected`: the share of answers with the status the run expects (200 fresh, "
        "304 unchanged). `× signed`, `× bare`: req/s as a share of the floors' (the targets). `CPU ms`: CPU "
        "time of gunicorn and its PostgreSQL backends per request; `CPU × signed`: the signed-in floor's CPU "
        "per request divided by the screen's, the same ratio by cost, which hardly moves when other work "
        "shares the machine."
    )
    load = os.getloadavg()
    print(f"Machine load average at the end: {load[0]:.1f} (1 min), {load[1]:.1f} (5 min) on {os.cpu_count()} CPUs.")
    if missed:
        print("\nMISSED targets: " + "; ".join(missed))
    else:
        print("\nEvery target met.")


# --- E-mail latency (real worker, private Redis, SMTP on loopback) -----------------------------------------------

DRIVE = r"""
import json, time
from accounts.models import User
from dealership.models import Notification
from repairs.models import RepairJob
from repairs.services import change_status
advisor = User.objects.filter(role="service_advisor").order_by("pk").first()
jobs = list(RepairJob.objects.filter(branch=advisor.branch, status="received").select_related(
    "vehicle", "sales_owner", "requested_by")[:{changes}])
committed = {}
for job in jobs:
    change_status(job, to="on_hold", by=advisor, expected_version=job.version)
    done = time.time()
    mailed = Notification.objects.filter(target_id=job.pk).exclude(send_status="skipped")
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
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
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
        latencies = [arrivals[key] - at for key, at in committed.items() if key in arrivals]
        if not latencies:
            print("\nE-mail latency: no e-mail arrived.")
            return
        print(
            f"\nE-mail latency over {len(committed)} e-mails of {changes} status changes "
            "(real worker, Redis, SMTP on loopback): "
            f"{len(latencies)} arrived, p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
            f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms (target p95 ≤ 1500 ms)."
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


def run_builder(argv: list[str], builder: Callable[[int, int], dict] = build_data) -> None:
    jobs, staff = int(argv[0]), int(argv[1])
    print(json.dumps(builder(jobs, staff)))


# --- KPI dashboard (issue 12) -----------------------------------------------------------------------------------
# Kept apart from the screens above: its own data size and one connection.
# `python scripts/bench.py kpi` runs only this part; `make bench` runs it last
# (BENCH_KPI=0 skips it). Target: the dashboard's median latency at one
# connection ≤ 100 × the signed-in floor's.

KPI_JOBS = int(os.environ.get("BENCH_KPI_JOBS", "100000"))
KPI_RESPONSES = int(os.environ.get("BENCH_KPI_RESPONSES", "30000"))
KPI_SECONDS = int(os.environ.get("BENCH_KPI_SECONDS", "10"))
KPI_TARGET_RATIO = 100


def build_kpi_data(jobs_total: int, responses: int) -> dict:
    """Delivered jobs up to `jobs_total` over the last year, `responses` survey answers, 90 days of snapshots."""
    import random
    import secrets
    from datetime import timedelta

    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dealership.settings")
    django.setup()

    from django.db.models import Max
    from django.utils import timezone

    from customers.models import Customer, Vehicle
    from dealership.models import Branch
    from feedback.models import SurveyInvitation, SurveyResponse
    from goals import services as kpi_services
    from repairs.models import JobKind, RepairJob

    started = time.monotonic()
    rng = random.Random(12)
    now = timezone.now()
    kinds = JobKind.values
    branches = list(Branch.objects.order_by("pk"))
    cars = {
        branch.pk: list(Vehicle.objects.filter(customer__branch=branch).values_list("pk", "customer_id"))
        for branch in branches
    }
    if not all(cars.values()):
        sys.exit("build the bench dealership first (customers and vehicles are missing)")
    next_id = (RepairJob.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    jobs, delivered = [], []
    for index in range(max(0, jobs_total - RepairJob.objects.count())):
        branch = branches[index % len(branches)]
        vehicle, customer = cars[branch.pk][rng.randrange(len(cars[branch.pk]))]
        received = now - timedelta(hours=rng.uniform(30, 24 * 365))
        ready = received + timedelta(hours=rng.uniform(1, 72))
        status = "cancelled" if index % 50 == 0 else "delivered"
        job_id = next_id + index
        jobs.append(
            {
                "id": job_id,
                "number": f"K-{job_id:07d}",
                "branch_id": branch.pk,
                "customer_id": customer,
                "vehicle_id": vehicle,
                "kind": kinds[index % len(kinds)],
                "title": "KPI bench job",
                "status": status,
                "promised_at": received + timedelta(hours=rng.uniform(4, 72)),
                "received_at": received,
                "created_at": received,
                "updated_at": received,
                "ready_at": ready if status == "delivered" else None,
                "delivered_at": ready + timedelta(hours=2) if status == "delivered" else None,
            }
        )
        if status == "delivered":
            delivered.append((job_id, customer, ready + timedelta(hours=2)))
    copy_rows(RepairJob, jobs)
    first_invitation = (SurveyInvitation.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    first_response = (SurveyResponse.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    invitations, answers = [], []
    for offset, (job_id, customer, handed_over) in enumerate(delivered[:responses]):
        asked = handed_over + timedelta(hours=24)
        answered = asked + timedelta(hours=rng.uniform(1, 72))
        invitations.append(
            {
                "id": first_invitation + offset,
                "job_id": job_id,
                "customer_id": customer,
                "token": secrets.token_hex(16),
                "language": "ja",
                "created_at": asked,
                "expires_at": asked + timedelta(days=30),
                "send_status": "sent",
                "sent_at": asked,
                "answered_at": answered,
            }
        )
        answers.append(
            {
                "id": first_response + offset,
                "invitation_id": first_invitation + offset,
                "job_id": job_id,
                "overall": rng.choice([2, 3, 4, 4, 5, 5]),
                "nps": rng.randint(3, 10),
                "language": "ja",
                "submitted_at": answered,
            }
        )
    copy_rows(SurveyInvitation, invitations)
    copy_rows(SurveyResponse, answers)
    today = timezone.localdate()
    kpi_services.backfill(today - timedelta(days=89), today)
    return {
        "jobs": RepairJob.objects.count(),
        "responses": SurveyResponse.objects.count(),
        "customers": Customer.objects.count(),
        "seconds": round(time.monotonic() - started),
    }


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def kpi_dashboard(bench: Stack, binary: str, script: Path) -> bool:
    """The KPI dashboard over KPI_JOBS jobs and KPI_RESPONSES answers at one connection, against the floor."""
    bench.stop_server()
    print(f"\nKPI dashboard: adding jobs up to {KPI_JOBS:,} and {KPI_RESPONSES:,} survey answers…")
    output = subprocess.run(
        [PYTHON, __file__, "build-kpi", str(KPI_JOBS), str(KPI_RESPONSES)],
        cwd=ROOT,
        env=bench.env,
        check=False,
        capture_output=True,
        text=True,
    )
    if output.returncode:
        print(f"Building the KPI data failed:\n{output.stderr[-4000:]}")
        return False
    built = json.loads(output.stdout.strip().splitlines()[-1])
    print(
        f"Built in {built['seconds']} s: {built['jobs']:,} jobs, {built['responses']:,} survey answers, "
        "90 days of snapshots."
    )
    base = bench.serve()
    manager = cookie(bench.data["first"]["manager"])
    for path in ("/bench/floor/", "/team/kpis/"):
        request = urllib.request.Request(base + path, headers=manager)
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=60) as answer:
                status, where = answer.status, ""
        except urllib.error.HTTPError as error:
            status, where = error.code, error.headers.get("Location", "")
        if status != 200:
            print(f"KPI dashboard: {path} answered {status} {where} for the manager; not measured.")
            bench.stop_server()
            return False
    one = [binary, "-t1", "-c1", f"-d{KPI_SECONDS}s", "--timeout", "30s", "-s", str(script)]
    for path in ("/bench/floor/", "/team/kpis/"):  # warm-up: templates, connections, the database's caches
        subprocess.run(
            [*one[:3], "-d2s", "-H", f"Cookie: {manager['Cookie']}", base + path], capture_output=True, check=False
        )
    results = {}
    for label, path in (("floor, signed in (SELECT 1)", "/bench/floor/"), ("KPI dashboard", "/team/kpis/")):
        text = subprocess.run(
            [*one, "-H", f"Cookie: {manager['Cookie']}", base + path, "--", "same"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        p50, _p95, p99 = (float(value) / 1000 for value in re.search(r"LATENCY (\S+) (\S+) (\S+)", text).groups())
        statuses = {int(code): int(count) for code, count in re.findall(r"STATUS (\d+) (\d+)", text)}
        results[label] = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)), "p50": p50}
        results[label] |= {"p99": p99, "statuses": statuses}
    bench.stop_server()
    floor = results["floor, signed in (SELECT 1)"]["p50"]
    print(f"\n{'screen, 1 connection':34} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'× floor p50':>11}  statuses")
    for label, stats in results.items():
        print(
            f"{label:34} {stats['rps']:7.1f} {stats['p50']:7.1f} {stats['p99']:7.1f} "
            f"{stats['p50'] / floor:11.1f}  {stats['statuses']}"
        )
    dashboard = results["KPI dashboard"]
    ratio = dashboard["p50"] / floor
    ok = ratio <= KPI_TARGET_RATIO and set(dashboard["statuses"]) == {200}
    verdict = "met" if ok else "MISSED"
    print(f"Target: the dashboard's median ≤ {KPI_TARGET_RATIO} × the signed-in floor's: {verdict} ({ratio:.1f} ×).")
    return ok


def kpi_main() -> int:
    """`python scripts/bench.py kpi`: only the KPI dashboard, on a dealership of its own."""
    require_services()
    binary = ensure_wrk()
    with stack() as bench:
        bench.build()
        script = bench.workdir / "count.lua"
        script.write_text(WRK_LUA)
        return 0 if kpi_dashboard(bench, binary, script) else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["build"]:
        run_builder(sys.argv[2:])
        sys.exit(0)
    if sys.argv[1:2] == ["build-kpi"]:
        print(json.dumps(build_kpi_data(int(sys.argv[2]), int(sys.argv[3]))))
        sys.exit(0)
    if sys.argv[1:2] == ["kpi"]:
        sys.exit(kpi_main())
    sys.exit(main())
