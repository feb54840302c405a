"""Two submissions of one survey, and two invitation runs, at the same moment on real PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test import Client

from feedback import services
from feedback.models import SurveyInvitation, SurveyResponse
from repairs.models import JobEvent
from tests.conftest import missing

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ANSWER = {"overall": "2", "nps": "3", "comment": "待ち時間が長かった"}


def needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        missing("needs PostgreSQL (set DATABASE_URL) for real concurrent transactions")


def run_together(*targets) -> None:
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)


def test_two_concurrent_posts_store_exactly_one_response(invitation, survey_url):
    needs_postgresql()
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def post(comment: str) -> None:
        try:
            client = Client()
            barrier.wait(timeout=10)
            statuses.append(client.post(survey_url(invitation), {**ANSWER, "comment": comment}).status_code)
        finally:
            connections.close_all()

    run_together(lambda: post("first"), lambda: post("second"))

    assert sorted(statuses) == [302, 409]
    assert SurveyResponse.objects.count() == 1
    assert JobEvent.objects.filter(job=invitation.job, kind=JobEvent.Kind.SURVEY_ANSWERED).count() == 1
    # The low score opened one recovery item, not two.
    assert invitation.job.voice_items.count() == 1


def test_two_services_racing_past_the_answered_check_store_one(invitation):
    needs_postgresql()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit(overall: int) -> None:
        try:
            copy = SurveyInvitation.objects.select_related("job", "job__customer").get(pk=invitation.pk)
            barrier.wait(timeout=10)
            services.submit_survey(copy, answers=services.Answers(overall=overall, nps=9))
            outcomes.append("stored")
        except services.AlreadyAnswered:
            outcomes.append("already answered")
        finally:
            connections.close_all()

    run_together(lambda: submit(5), lambda: submit(4))

    assert sorted(outcomes) == ["already answered", "stored"]
    assert SurveyResponse.objects.count() == 1


def test_two_invitation_runs_at_the_same_time_invite_each_job_once(make_delivered_job):
    needs_postgresql()
    jobs = [make_delivered_job() for _ in range(5)]
    barrier = threading.Barrier(2)
    results: list[dict] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(services.invite_delivered_jobs())
        finally:
            connections.close_all()

    run_together(run, run)

    assert SurveyInvitation.objects.count() == len(jobs)
    assert sum(result["invited"] for result in results) == len(jobs)
    assert JobEvent.objects.filter(kind=JobEvent.Kind.SURVEY_SENT).count() == len(jobs)
