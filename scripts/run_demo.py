"""`make run`: the demo dealership on http://127.0.0.1:$PORT, with its periodic tasks.

It applies the migrations, collects the static files, builds the demo once
(`seed_demo --if-empty`, which prints the logins), then runs `runserver` and
`manage.py run_periodic` (the embedded mode's beat: survey invitations,
reminders, at-risk alerts, KPI snapshots) side by side until Ctrl-C, which
stops both. `python scripts/run_demo.py seed` (`make seed`) only migrates and
seeds, with the same settings, so the links it prints work on the server.

The demo runs with DEBUG off, as production does: what a visitor sees are the
portal's own pages (a refused page is the friendly 404, not Django's debug page
listing every URL). Plain HTTP on 127.0.0.1 needs three things production does
not have: no HTTPS redirect, cookies without the Secure flag, and a signing key
of its own, generated once and kept in .venv/demo-secret-key (`make clean`
removes it with the database). Surveys are asked for after about a minute
instead of a day. Each of these is only a default: a variable set in the
environment or in `.env` wins (`DEBUG=1 make run` brings the debug pages back).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import environ

ROOT = Path(__file__).resolve().parent.parent
KEY_FILE = ROOT / ".venv" / "demo-secret-key"
DEFAULT_PORT = 8000
STOP_TIMEOUT_SECONDS = 10


def secret_key(path: Path) -> str:
    """The demo's signing key: generated on first use, then read back, so sessions and links survive a restart."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.touch(mode=0o600)
    path.write_text(key + "\n")
    return key


def demo_environment(environ: Mapping[str, str], *, port: int, key_file: Path = KEY_FILE) -> dict[str, str]:
    """The children's environment: `environ`, plus the demo's defaults for what it leaves unset."""
    env = dict(environ)
    defaults = {
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "SITE_URL": f"http://127.0.0.1:{port}",
        # 0.02 h is 72 s; the invitation task then looks every 18 s.
        "SURVEY_DELAY_HOURS": "0.02",
        # Output reaches the terminal as it is written, e-mails included.
        "PYTHONUNBUFFERED": "1",
    }
    for name, value in defaults.items():
        env.setdefault(name, value)
    if not env.get("SECRET_KEY"):
        env["SECRET_KEY"] = secret_key(key_file)
    return env


def read_port(environ: Mapping[str, str]) -> int:
    raw = environ.get("PORT") or str(DEFAULT_PORT)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        sys.exit(f"PORT must be a port number (1-65535), not {raw!r}.")
    return int(raw)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As runserver binds: the last run's connections in TIME_WAIT do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def say(line: str) -> None:
    print(line, flush=True)


def manage(env: Mapping[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=False)
    if done.returncode:
        sys.exit(f"`manage.py {' '.join(args)}` failed (exit {done.returncode}).")


def prepare(env: Mapping[str, str], *, seed_args: tuple[str, ...]) -> None:
    say("Applying the database migrations…")
    manage(env, "migrate", "--noinput", "-v", "0")
    say("Checking the demo data (the first run builds it: about 20 seconds)…")
    manage(env, "seed_demo", *seed_args)


def stop(processes: list[subprocess.Popen]) -> None:
    """Ask every child still running to stop, then wait; kill whatever will not."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve(env: dict[str, str], port: int) -> int:
    if not port_is_free(port):
        sys.exit(f"Port {port} on 127.0.0.1 is in use. Choose another: PORT={port + 1} make run")
    prepare(env, seed_args=("--if-empty",))
    say("Collecting the static files…")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    # SIGTERM (a `kill`, a closed session) stops the children like Ctrl-C does,
    # and so does SIGINT even where it was ignored (a shell's background job).
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    processes: list[subprocess.Popen] = []
    try:
        if env.get("REDIS_URL"):
            say("REDIS_URL is set, so tasks go to that broker: run `make worker` and `make beat` beside this.")
        else:
            processes.append(subprocess.Popen([sys.executable, "manage.py", "run_periodic"], cwd=ROOT, env=env))
        processes.append(
            subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"], cwd=ROOT, env=env)
        )
        say("")
        say(f"Dealership Portal: http://127.0.0.1:{port}")
        minutes = float(env["SURVEY_DELAY_HOURS"]) * 60
        after = f"about {max(1, round(minutes))} min" if minutes < 120 else f"{minutes / 60:g} h"
        say(f"E-mails are printed here: a customer's survey e-mail comes {after} after the car is handed over.")
        say("Ctrl-C stops the server and the periodic tasks.")
        say("")
        while True:
            for process in processes:
                code = process.poll()
                if code is not None:
                    say(f"`{' '.join(process.args[1:])}` stopped (exit {code}); stopping the rest.")
                    return code or 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    finally:
        stop(processes)


def main(argv: list[str]) -> int:
    # .env fills what the environment leaves unset, as it does for settings.py;
    # read here too so its values win over the demo's defaults.
    environ.Env.read_env(ROOT / ".env", overwrite=False)
    port = read_port(os.environ)
    env = demo_environment(os.environ, port=port)
    if argv[1:] == ["seed"]:
        prepare(env, seed_args=())
        return 0
    if argv[1:]:
        sys.exit("Usage: run_demo.py [seed]")
    return serve(env, port)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except KeyboardInterrupt:  # Ctrl-C while migrating or seeding
        sys.exit(130)
