"""`manage.py run_periodic`: the embedded mode's beat, which `make run` starts beside runserver."""

from __future__ import annotations

import io
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.schedules import crontab
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from dealership.celery import app as celery_app
from dealership.management.commands.run_periodic import InProcessBeat, did_something
from feedback.models import SurveyInvitation
from feedback.services import survey_path
from repairs.models import Status
from repairs.services import change_status
from tests.factories import CustomerFactory, RepairJobFactory, VehicleFactory

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def counted(monkeypatch):
    """Calls of the at-risk and approval-reminder services, instead of running them."""
    calls: list[str] = []
    monkeypatch.setattr("repairs.services.alert_jobs_at_risk", lambda: calls.append("at-risk") or 2)
    monkeypatch.setattr("repairs.approvals.remind_undecided_approvals", lambda: calls.append("reminders") or 0)
    return calls


def test_every_entry_of_the_beat_schedule_names_a_task_it_can_run(settings):
    beat = InProcessBeat(celery_app, settings.CELERY_BEAT_SCHEDULE)

    assert [entry.name for entry in beat.entries] == list(settings.CELERY_BEAT_SCHEDULE)
    assert all(entry.task in celery_app.tasks for entry in beat.entries)


def test_a_schedule_naming_no_task_is_refused():
    with pytest.raises(CommandError, match="no task"):
        InProcessBeat(celery_app, {"typo": {"task": "repairs.tasks.alert_jobs_at_risks", "schedule": 60.0}})


def test_an_interval_task_runs_one_interval_after_start_and_then_once_per_interval(counted):
    with time_machine.travel(datetime(2026, 11, 27, 9, 0, tzinfo=TOKYO), tick=False) as clock:
        beat = InProcessBeat(celery_app, {"at-risk": {"task": "repairs.tasks.alert_jobs_at_risk", "schedule": 300.0}})
        assert beat.tick()[0] == []

        clock.shift(timedelta(seconds=299))
        ran, wait = beat.tick()
        assert ran == [] and wait == pytest.approx(1, abs=0.01)

        clock.shift(timedelta(seconds=2))
        assert beat.tick()[0] == [("at-risk", 2)]
        assert beat.tick()[0] == []

        clock.shift(timedelta(seconds=301))
        assert beat.tick()[0] == [("at-risk", 2)]
    assert counted == ["at-risk", "at-risk"]


def test_a_crontab_task_runs_at_its_time_of_day(monkeypatch):
    runs: list[int] = []
    monkeypatch.setattr("goals.services.take_daily_snapshots", lambda: runs.append(1) or 12)
    schedule = {"snapshots": {"task": "goals.tasks.take_kpi_snapshots", "schedule": crontab(hour=0, minute=20)}}
    with time_machine.travel(datetime(2026, 11, 27, 23, 0, tzinfo=TOKYO), tick=False) as clock:
        beat = InProcessBeat(celery_app, schedule)
        clock.move_to(datetime(2026, 11, 28, 0, 19, tzinfo=TOKYO))
        assert beat.tick()[0] == []

        clock.move_to(datetime(2026, 11, 28, 0, 21, tzinfo=TOKYO))
        assert beat.tick()[0] == [("snapshots", 12)]
        clock.move_to(datetime(2026, 11, 28, 12, 0, tzinfo=TOKYO))
        assert beat.tick()[0] == []
    assert runs == [1]


def test_a_failing_task_is_logged_and_the_other_tasks_still_run(monkeypatch, counted, caplog):
    def broken() -> int:
        raise RuntimeError("the database went away")

    monkeypatch.setattr("repairs.services.alert_jobs_at_risk", broken)
    schedule = {
        "at-risk": {"task": "repairs.tasks.alert_jobs_at_risk", "schedule": 60.0},
        "reminders": {"task": "repairs.tasks.remind_undecided_approvals", "schedule": 60.0},
    }
    with time_machine.travel(datetime(2026, 11, 27, 9, 0, tzinfo=TOKYO), tick=False) as clock:
        beat = InProcessBeat(celery_app, schedule)
        clock.shift(timedelta(seconds=61))
        with caplog.at_level(logging.ERROR, logger="dealership.management.commands.run_periodic"):
            ran, _wait = beat.tick()

    assert ran == [("at-risk", None), ("reminders", 0)]
    assert counted == ["reminders"]
    assert "Periodic task at-risk failed" in caplog.text and "the database went away" in caplog.text


def test_once_runs_every_periodic_task_now(settings, counted):
    out = io.StringIO()
    call_command("run_periodic", "--once", stdout=out)

    assert sorted(counted) == ["at-risk", "reminders"]
    for name in settings.CELERY_BEAT_SCHEDULE:
        assert f"{name}: " in out.getvalue()


def test_a_car_handed_over_gets_its_survey_email_with_the_link_from_the_periodic_run(
    settings, sales_rep, branch, django_capture_on_commit_callbacks
):
    """The loop `make run` shows: hand-over, the demo's short delay, the survey e-mail on the console."""
    settings.SURVEY_DELAY_HOURS = 0.02
    customer = CustomerFactory(branch=branch, sales_owner=sales_rep, email="kenichi@example.jp")
    job = RepairJobFactory(vehicle=VehicleFactory(customer=customer), sales_owner=sales_rep, status=Status.READY)
    change_status(
        job, to=Status.DELIVERED, by=sales_rep, expected_version=None, at=timezone.now() - timedelta(minutes=2)
    )

    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_periodic", "--once", stdout=io.StringIO())

    invitation = SurveyInvitation.objects.get(job=job)
    assert invitation.send_status == SurveyInvitation.SendStatus.SENT
    survey_mails = [message for message in mail.outbox if message.to == ["kenichi@example.jp"]]
    assert len(survey_mails) == 1
    assert f"{settings.SITE_URL}{survey_path(invitation)}" in survey_mails[0].body


def test_it_refuses_to_run_when_tasks_go_to_a_broker():
    celery_app.conf.task_always_eager = False  # the autouse fixture restores it

    with pytest.raises(CommandError, match="make beat"):
        call_command("run_periodic", "--once", stdout=io.StringIO())


@pytest.mark.parametrize(
    ("result", "worth_a_line"),
    [(0, False), (3, True), ({"invited": 0, "no_email": 0}, False), ({"invited": 1}, True), ("sent", False)],
)
def test_only_a_run_that_did_something_prints_a_line(result, worth_a_line):
    assert did_something(result) is worth_a_line
