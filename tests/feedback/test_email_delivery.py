"""The survey e-mail end to end: real worker, real broker, real SMTP server (tests/reliability fixtures).

Same promise as the staff notifications: the invitation row commits first,
the e-mail follows after commit through a worker, once per job, in the
customer's language; a broker that is down at that moment delays the
e-mail until the sweeper's next run, and it is still sent once.
"""

from __future__ import annotations

import time
from urllib.parse import urlparse

import pytest
from django.test import Client

from feedback import services, tasks
from feedback.models import SurveyInvitation
from repairs.models import JobEvent
from tests.reliability.conftest import wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def invitations_reach(status: str, count: int, timeout: float = 20.0) -> list[SurveyInvitation]:
    def check():
        rows = list(SurveyInvitation.objects.order_by("pk"))
        return rows if len(rows) == count and all(row.send_status == status for row in rows) else None

    return wait_until(check, timeout=timeout, what=f"{count} survey invitation(s) {status!r}")


def survey_link_in(text: str) -> str:
    return next(word for word in text.split() if word.startswith("http://testserver/voice/s/"))


def test_the_survey_email_goes_out_once_per_job_in_the_customers_language_and_its_link_opens(
    celery_worker, smtp_server, make_delivered_job
):
    english = make_delivered_job(language="en")
    japanese = make_delivered_job(language="ja")

    assert services.invite_delivered_jobs()["invited"] == 2

    received = {item.to: item for item in smtp_server.wait_for_delivered(2)}
    rows = invitations_reach(SurveyInvitation.SendStatus.SENT, 2)
    assert all(row.attempts == 1 for row in rows)
    for job, language in ((english, "en"), (japanese, "ja")):
        mail = received[job.customer.email]
        assert mail.message["Content-Language"] == language
        assert f'<html lang="{language}">' in mail.html
        assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = survey_link_in(mail.text)
        page = Client().get(urlparse(link).path)
        assert page.status_code == 200
        assert f'<html lang="{language}">' in page.content.decode()
        assert 'name="overall"' in page.content.decode()
        assert JobEvent.objects.filter(job=job, kind=JobEvent.Kind.SURVEY_SENT).count() == 1
    assert "Answer the survey" in received[english.customer.email].text

    assert services.invite_delivered_jobs()["invited"] == 0
    assert tasks.sweep_pending_survey_emails() == 0
    time.sleep(1)
    assert len(smtp_server.delivered) == 2


def test_with_the_broker_down_the_sweeper_sends_each_survey_later_exactly_once(
    celery_broker, celery_workers, smtp_server, make_delivered_job, settings
):
    jobs = [make_delivered_job() for _ in range(2)]
    celery_broker.redis.stop()

    started = time.monotonic()
    assert services.invite_delivered_jobs()["invited"] == 2
    assert time.monotonic() - started < 15  # publishing to a dead broker fails fast
    assert {row.send_status for row in SurveyInvitation.objects.all()} == {SurveyInvitation.SendStatus.PENDING}

    celery_broker.redis.start()
    celery_broker.reset_connections()
    celery_workers.start()
    settings.EMAIL_SWEEP_GRACE_SECONDS = 0

    assert tasks.sweep_pending_survey_emails() == 2

    delivered = smtp_server.wait_for_delivered(2)
    invitations_reach(SurveyInvitation.SendStatus.SENT, 2)
    assert sorted(item.to for item in delivered) == sorted(job.customer.email for job in jobs)
    assert tasks.sweep_pending_survey_emails() == 0
    time.sleep(2)
    assert len(smtp_server.delivered) == 2
    assert all(row.attempts == 1 for row in SurveyInvitation.objects.all())
