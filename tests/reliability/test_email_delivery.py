"""Notification e-mail end to end: real worker, real broker, real SMTP server.

The outbox promise under test (DESIGN.md, "Notifications: nothing is lost"):
a change commits together with its notification rows; e-mail is delivered
after commit by a separate worker, exactly once in the cases below, and a
broker outage, a dead worker or a refusing SMTP server delays or fails an
e-mail visibly but never loses or doubles it.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from dealership.models import Notification
from dealership.outbox import MAX_ATTEMPTS
from dealership.tasks import sweep_pending_notifications
from repairs import services
from repairs.models import RepairJob
from tests.factories import UserFactory

from .conftest import wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

SITE_URL = "http://testserver"
DELIVER_TASK = "dealership.tasks.deliver_notification"


def job_link(job: RepairJob) -> str:
    return f"{SITE_URL}/jobs/{job.pk}/"


def rows_reach(status: str, count: int, *, timeout: float = 20.0) -> list[Notification]:
    """Wait until `count` notifications exist and all of them have e-mail status `status`."""

    def check():
        rows = list(Notification.objects.order_by("pk"))
        return rows if len(rows) == count and all(row.send_status == status for row in rows) else None

    return wait_until(check, timeout=timeout, what=f"{count} notification(s) with e-mail status {status!r}")


def test_a_status_change_reaches_a_real_smtp_server_through_a_real_worker(
    celery_worker, smtp_server, make_job, sales_rep, advisor, manager
):
    sales_rep.language = "en"
    sales_rep.save(update_fields=["language"])
    job = make_job()

    services.change_status(job, to="diagnosing", by=manager, expected_version=job.version)

    received = {item.to: item for item in smtp_server.wait_for_delivered(2)}
    assert set(received) == {sales_rep.email, advisor.email}

    english = received[sales_rep.email]
    assert english.subject.startswith("[Dealership Portal] ")
    assert job.number in english.subject and "Work in progress" in english.subject
    assert "Open it in the portal:" in english.text
    assert job_link(job) in english.text
    assert f'href="{job_link(job)}"' in english.html

    japanese = received[advisor.email]
    assert japanese.subject.startswith("[ディーラー連携ポータル] ")
    assert job.number in japanese.subject and "作業中" in japanese.subject
    assert "ポータルで開く：" in japanese.text
    assert "Open it in the portal" not in japanese.text
    assert job_link(job) in japanese.text

    rows = rows_reach(Notification.SendStatus.SENT, 2)
    assert {row.recipient_id for row in rows} == {sales_rep.pk, advisor.pk}
    assert all(row.attempts == 1 and row.last_error == "" and row.sent_at for row in rows)
    assert len(smtp_server.delivered) == 2


def test_with_the_broker_down_changes_succeed_and_the_sweeper_delivers_each_exactly_once(
    celery_broker, celery_workers, smtp_server, make_job, manager, settings
):
    jobs = [make_job() for _ in range(3)]
    celery_broker.redis.stop()

    for job in jobs:
        started = time.monotonic()
        services.change_status(job, to="diagnosing", by=manager, expected_version=job.version)
        # Publishing to a dead broker fails fast (CELERY_TASK_PUBLISH_RETRY_POLICY).
        assert time.monotonic() - started < 10
        assert RepairJob.objects.get(pk=job.pk).status == "diagnosing"
    rows = list(Notification.objects.select_related("recipient"))
    assert len(rows) == 6  # sales owner and requester of each job
    assert {row.send_status for row in rows} == {Notification.SendStatus.PENDING}

    celery_broker.redis.start()  # same port, empty: the lost enqueues are really lost
    celery_broker.reset_connections()
    celery_workers.start()
    settings.EMAIL_SWEEP_GRACE_SECONDS = 0

    assert sweep_pending_notifications() == len(rows)

    delivered = smtp_server.wait_for_delivered(len(rows))
    rows_reach(Notification.SendStatus.SENT, len(rows))
    per_notification = Counter(
        (row.recipient.email, row.url)
        for row in rows
        for item in delivered
        if item.to == row.recipient.email and f"{SITE_URL}{row.url}" in item.text
    )
    assert per_notification == Counter({(row.recipient.email, row.url): 1 for row in rows})
    assert len(delivered) == len(rows)

    assert sweep_pending_notifications() == 0
    time.sleep(2)
    assert len(smtp_server.delivered) == len(rows)
    assert all(row.attempts == 1 for row in Notification.objects.all())


def test_a_worker_killed_mid_send_does_not_send_twice(
    celery_broker, celery_workers, smtp_server, make_job, sales_rep, advisor, settings
):
    # The advisor requested the job and acts on it, so only the sales owner is notified.
    job = make_job(requested_by=advisor)
    smtp_server.mode = "stall"
    first = celery_workers.start()

    services.change_status(job, to="diagnosing", by=advisor, expected_version=job.version)
    notification = Notification.objects.get()
    assert notification.recipient_id == sales_rep.pk

    assert smtp_server.data_started.wait(20), "the worker never reached DATA"
    notification.refresh_from_db()
    assert notification.send_status == Notification.SendStatus.SENDING

    first.kill()  # main process and prefork child, mid-send
    # The server has the whole DATA section, but the sender hung up before the
    # reply: the stalled session ends abandoned (see conftest), never delivered.
    smtp_server.wait_for_abandoned(1)
    smtp_server.mode = "normal"
    smtp_server.release.set()
    assert smtp_server.delivered == []
    notification.refresh_from_db()
    assert notification.send_status == Notification.SendStatus.SENDING

    settings.EMAIL_CLAIM_TIMEOUT_SECONDS = 1
    settings.EMAIL_SWEEP_GRACE_SECONDS = 0
    stale_from = notification.claimed_at + timedelta(seconds=1.2)
    time.sleep(max(0.0, (stale_from - timezone.now()).total_seconds()))
    celery_workers.start()

    assert sweep_pending_notifications() == 1

    delivered = smtp_server.wait_for_delivered(1)
    rows_reach(Notification.SendStatus.SENT, 1)
    time.sleep(1)
    assert len(smtp_server.delivered) == 1
    assert delivered[0].to == sales_rep.email
    assert job_link(job) in delivered[0].text
    assert [item.to for item in smtp_server.abandoned] == [sales_rep.email]


def test_a_transaction_that_rolls_back_leaves_no_notification_and_sends_nothing(
    celery_worker, smtp_server, make_job, manager
):
    job = make_job()

    with pytest.raises(RuntimeError, match="roll back"), transaction.atomic():
        services.change_status(job, to="diagnosing", by=manager, expected_version=job.version)
        assert Notification.objects.count() == 2  # written inside the transaction
        raise RuntimeError("roll back")

    assert not Notification.objects.exists()
    assert RepairJob.objects.get(pk=job.pk).status == "received"

    # A committed change after it: once its two e-mails are out, the worker
    # (one process, FIFO queue) has also handled anything enqueued before.
    control = make_job()
    services.change_status(control, to="diagnosing", by=manager, expected_version=control.version)
    delivered = smtp_server.wait_for_delivered(2)
    time.sleep(1)
    assert len(smtp_server.delivered) == 2
    assert all(job_link(control) in item.text for item in delivered)
    assert not any(job_link(job) in item.text for item in delivered)
    assert celery_worker.received_task_count(DELIVER_TASK) == 2


def test_smtp_refusing_ends_failed_after_retries_with_the_error_shown_in_admin(
    celery_worker, smtp_server, make_job, branch, manager, sales_rep, advisor, client, password
):
    smtp_server.mode = "refuse"
    job = make_job()

    services.change_status(job, to="diagnosing", by=manager, expected_version=job.version)

    rows = rows_reach(Notification.SendStatus.FAILED, 2, timeout=30)
    for row in rows:
        assert row.attempts == MAX_ATTEMPTS == 5
        assert "451" in row.last_error and "4.3.0 try later" in row.last_error
        assert row.sent_at is None
    attempts = Counter(item.to for item in smtp_server.refused)
    assert attempts == {sales_rep.email: MAX_ATTEMPTS, advisor.email: MAX_ATTEMPTS}
    assert smtp_server.delivered == []

    admin = UserFactory(email="admin@example.com", branch=branch, is_staff=True, is_superuser=True)
    assert client.login(email=admin.email, password=password)
    response = client.get(f"/admin/dealership/notification/{rows[0].pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "SMTPDataError" in page
    assert "451" in page and "4.3.0 try later" in page
