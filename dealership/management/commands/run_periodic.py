"""The embedded mode's beat: run CELERY_BEAT_SCHEDULE's tasks in this process.

`make run` has no broker, so no Celery beat and no worker: tasks run eagerly
inside the process that enqueues them. Without this command nothing periodic
would ever happen there: no survey invitation after a hand-over, no at-risk
alert, no approval or event reminder, no KPI snapshot. It reads the one
schedule (settings.CELERY_BEAT_SCHEDULE), asks each entry's Celery schedule
whether it is due exactly as beat does (an interval entry first runs one
interval after start, a crontab entry at its time), and runs the due task
here. `scripts/run_demo.py` starts it beside runserver. With a broker
(REDIS_URL) it refuses: run `make beat` and `make worker` instead.
"""

from __future__ import annotations

import importlib
import logging
import time

from celery import Celery
from celery.beat import ScheduleEntry
from celery.schedules import crontab
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

from dealership.celery import app as celery_app

logger = logging.getLogger(__name__)

# Sleep at most this long between looks, so a changed clock is noticed soon.
MAX_SLEEP_SECONDS = 30.0


class InProcessBeat:
    """Celery's schedule entries, run in this process when due."""

    def __init__(self, app: Celery, schedule: dict[str, dict]) -> None:
        self.app = app
        self.entries: list[ScheduleEntry] = []
        for name, spec in schedule.items():
            # Importing the task's module registers it (a worker would find it
            # through autodiscovery, which also runs every system check).
            module = spec["task"].rpartition(".")[0]
            if module:
                importlib.import_module(module)
            if spec["task"] not in app.tasks:
                raise CommandError(f"CELERY_BEAT_SCHEDULE[{name!r}] names {spec['task']!r}, which is no task.")
            self.entries.append(
                ScheduleEntry(
                    name=name,
                    task=spec["task"],
                    schedule=spec["schedule"],
                    args=spec.get("args", ()),
                    kwargs=spec.get("kwargs", {}),
                    app=app,
                )
            )

    def tick(self) -> tuple[list[tuple[str, object]], float]:
        """Run every due entry once; ([(name, result)], seconds until the next look)."""
        ran: list[tuple[str, object]] = []
        wait = MAX_SLEEP_SECONDS
        for index, entry in enumerate(self.entries):
            due, next_in = entry.is_due()
            if due:
                ran.append((entry.name, self.run(entry)))
                self.entries[index] = next(entry)  # remembers now as its last run
            wait = min(wait, next_in)
        return ran, max(wait, 0.5)

    def run_all(self) -> list[tuple[str, object]]:
        return [(entry.name, self.run(entry)) for entry in self.entries]

    def run(self, entry: ScheduleEntry) -> object:
        """Run one task here; a failure is logged and the schedule goes on, as a worker would."""
        result = self.app.tasks[entry.task].apply(args=entry.args, kwargs=entry.kwargs)
        if result.failed():
            logger.error("Periodic task %s failed:\n%s", entry.name, result.traceback)
            return None
        return result.result


def describe(when: object) -> str:
    """When an entry runs: "every 60 s", or the crontab as Celery writes it."""
    if isinstance(when, crontab):
        return repr(when).strip("<>")
    return f"every {when.run_every.total_seconds():g} s"


def did_something(result: object) -> bool:
    """A count above zero, or a dict of counts with one: worth a line in the terminal."""
    if isinstance(result, dict):
        return any(did_something(value) for value in result.values())
    return bool(result) and not isinstance(result, str)


class Command(BaseCommand):
    help = "Run the periodic tasks (CELERY_BEAT_SCHEDULE) in this process, on their schedules, until stopped."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="Run every periodic task once now, then exit.")

    def handle(self, *args, **options) -> None:
        # Celery's own flag (CELERY_TASK_ALWAYS_EAGER, off whenever REDIS_URL is set).
        if not celery_app.conf.task_always_eager:
            raise CommandError(
                "Tasks go to the broker (REDIS_URL is set): run `make worker` and `make beat` instead of this."
            )
        beat = InProcessBeat(celery_app, settings.CELERY_BEAT_SCHEDULE)
        if options["once"]:
            for name, result in beat.run_all():
                self.stdout.write(f"{name}: {result}")
            return
        self.stdout.write("Periodic tasks run in this process:")
        for entry in beat.entries:
            self.stdout.write(f"  {entry.name} ({describe(entry.schedule)})")
        try:
            while True:
                # As a worker does between tasks: a connection past its age or broken is replaced.
                close_old_connections()
                ran, wait = beat.tick()
                for name, result in ran:
                    if did_something(result):
                        self.stdout.write(f"[{timezone.localtime():%H:%M:%S}] {name}: {result}")
                time.sleep(wait)
        except KeyboardInterrupt:  # Ctrl-C in `make run`'s terminal
            return
