"""`make screenshots`: the README's pictures of the main screens, taken from the demo as it is today.

Seeds a fresh demo into a throwaway SQLite database, serves it with gunicorn
on a free port (embedded mode: no services needed), signs in as each demo
persona in Debian's Chromium (Playwright, never its own browser download) and
writes docs/screenshots/*.png: the sales rep's home and list, the board and
the manager's dashboard on a desktop, the technician's queue and a job on a
phone (360×740). PNGs at device scale 1, reduced to a 256-colour palette, so
the set stays a few hundred KB. Everything it starts it stops.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import PYTHON, ROOT, free_port  # scripts/bench.py, beside this file

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
OUT = ROOT / "docs" / "screenshots"
PASSWORD = "dealership-demo"  # noqa: S105 — the public demo password (README)
LANGUAGE = os.environ.get("SCREENSHOT_LANGUAGE", "ja")
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1}
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}

# (file, who, device, path or "first job of the queue", what it shows)
SHOTS = [
    ("sales-home", "sales@example.com", DESKTOP, "/", "The sales rep's home page"),
    ("sales-list", "sales@example.com", DESKTOP, "/jobs/my-cars/", "My customers' cars"),
    ("technician-queue", "technician@example.com", PHONE, "/jobs/queue/", "The technician's queue on a phone"),
    ("technician-job", "technician@example.com", PHONE, "job", "A job on a phone"),
    ("board", "advisor@example.com", DESKTOP, "/jobs/board/", "The workshop board"),
    ("manager-dashboard", "manager@example.com", DESKTOP, "/team/kpis/", "The manager's KPI dashboard"),
]


def serve(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "dealership.wsgi:application", "--workers", "2", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2)
            return server, base
        except Exception:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the demo server did not start") from None
            time.sleep(0.2)


def shrink(path: Path) -> None:
    """A 256-colour palette: screen captures lose nothing visible and a third to a half of their size."""
    from PIL import Image

    with Image.open(path) as image:
        reduced = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    reduced.save(path, optimize=True)


def take(base: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            for name, email, device, path, _caption in SHOTS:
                context = browser.new_context(**device, locale=LANGUAGE)
                page = context.new_page()
                page.goto(f"{base}/accounts/login/?lang={LANGUAGE}")
                page.locator("input[name=login]").fill(email)
                page.locator("input[name=password]").fill(PASSWORD)
                page.locator("form[action$='/accounts/login/'] [type=submit]").click()
                page.wait_for_url(re.compile(r"^(?!.*/accounts/login/)"))
                if path == "job":
                    page.goto(f"{base}/jobs/queue/")
                    link = page.locator("main a[href]").filter(has_text=re.compile(r"R-\d{4}-\d+")).first
                    path = link.get_attribute("href")
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                page.wait_for_timeout(800)  # charts finish their entry animation
                target = OUT / f"{name}.png"
                page.screenshot(path=str(target))
                shrink(target)
                written.append(target)
                context.close()
        finally:
            browser.close()
    return written


def main() -> int:
    if not Path(CHROMIUM).exists():
        sys.exit(f"Chromium not found at {CHROMIUM} (Debian package `chromium`; set CHROMIUM to another path).")
    workdir = Path(tempfile.mkdtemp(prefix="dealership-screenshots-"))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "EMAIL_URL"}
    }
    env.update(
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{workdir / 'demo.sqlite3'}",
        MEDIA_ROOT=str(workdir / "media"),
        EMAIL_URL="dummymail://",
        LOG_LEVEL="WARNING",
    )
    server = None
    try:
        print("Seeding a fresh demo into a throwaway SQLite database…")
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run(
            [PYTHON, "manage.py", "seed_demo", "-v0"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
        )
        server, base = serve(env)
        written = take(base)
        total = sum(path.stat().st_size for path in written)
        for path in written:
            print(f"  {path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")
        print(f"{len(written)} screenshots, {total // 1024} KB in all.")
        return 0
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
