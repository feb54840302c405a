"""The one outbox (dealership.outbox) as every kind of message uses it.

The staff e-mail's own bookkeeping is in test_delivery.py, the survey e-mail's
in tests/feedback/test_invitations.py, the real worker and SMTP server in
tests/reliability.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.utils.module_loading import import_string

from dealership import outbox
from dealership.celery import app
from dealership.models import Notification, OutboxMessage
from dealership.tasks import deliver_notification, sweep_pending_notifications

pytestmark = pytest.mark.django_db


def pending(recipient) -> Notification:
    return Notification.objects.create(
        recipient=recipient, kind="message", template="テスト", send_status=Notification.SendStatus.PENDING
    )


def test_every_outbox_model_names_a_delivery_task_the_worker_registers():
    models = [model for model in apps.get_models() if issubclass(model, OutboxMessage)]
    assert {model._meta.label for model in models} >= {"dealership.Notification", "feedback.SurveyInvitation"}
    app.loader.import_default_modules()
    for model in models:
        task = import_string(model.delivery_task)
        assert task.name == model.delivery_task in app.tasks, model


def test_the_tasks_modules_are_imported_by_no_module_so_tasks_and_services_never_import_each_other():
    """Tasks are adapters on top: services reach them through `outbox.enqueue` and the model's task name."""
    base = Path(settings.BASE_DIR)
    apps_dirs = [Path(config.path) for config in apps.get_app_configs() if Path(config.path).parent == base]
    assert {directory.name for directory in apps_dirs} >= {"dealership", "feedback"}
    offenders = []
    for directory in apps_dirs:
        for path in directory.rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom):
                    names = [f"{node.module or ''}.{alias.name}" for alias in node.names] + [node.module or ""]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                else:
                    continue
                if any(name == "tasks" or name.endswith(".tasks") for name in names):
                    offenders.append(str(path.relative_to(base)))
    assert offenders == []


def test_a_notification_sent_after_a_transient_failure_keeps_no_error(sales_rep):
    notification = pending(sales_rep)

    def refuse(row):
        raise OSError("connection refused")

    with pytest.raises(outbox.RetryLater):
        outbox.deliver(Notification, notification.pk, refuse)
    notification.refresh_from_db()
    assert notification.last_error == "OSError: connection refused"
    assert notification.next_attempt_at is not None

    assert outbox.deliver(Notification, notification.pk, lambda row: None) == "sent"
    notification.refresh_from_db()
    assert notification.send_status == Notification.SendStatus.SENT
    assert (notification.attempts, notification.last_error, notification.next_attempt_at) == (2, "", None)


def test_a_send_that_finishes_after_the_sweeper_gave_up_on_its_worker_counts_as_sent_once(sales_rep):
    notification = pending(sales_rep)
    sent_hooks = []

    def send_while_the_sweeper_gives_up(row):
        Notification.objects.filter(pk=row.pk).update(send_status=Notification.SendStatus.FAILED)

    result = outbox.deliver(
        Notification, notification.pk, send_while_the_sweeper_gives_up, on_sent=lambda row: sent_hooks.append(row.pk)
    )

    assert result == "sent"
    assert Notification.objects.get(pk=notification.pk).send_status == Notification.SendStatus.SENT
    assert outbox.mark_sent(Notification.objects.get(pk=notification.pk)) is False
    assert sent_hooks == [notification.pk]


def test_a_skipped_row_is_never_claimed_nor_marked_sent(sales_rep):
    skipped = Notification.objects.create(recipient=sales_rep, kind="message", template="x")

    assert skipped.send_status == Notification.SendStatus.SKIPPED
    assert outbox.claim(Notification, skipped.pk) is False
    assert outbox.mark_sent(skipped) is False
    assert Notification.objects.get(pk=skipped.pk).send_status == Notification.SendStatus.SKIPPED


def test_with_the_broker_down_the_sweeper_leaves_the_rows_pending_for_its_next_run(sales_rep, settings, monkeypatch):
    settings.EMAIL_SWEEP_GRACE_SECONDS = 0
    notification = pending(sales_rep)

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(deliver_notification, "delay", broker_down)

    assert sweep_pending_notifications() == 1
    assert Notification.objects.get(pk=notification.pk).send_status == Notification.SendStatus.PENDING


def test_retrying_failed_rows_gives_them_a_fresh_allowance_and_sends_them(
    sales_rep, mailoutbox, django_capture_on_commit_callbacks
):
    failed = pending(sales_rep)
    Notification.objects.filter(pk=failed.pk).update(send_status=Notification.SendStatus.FAILED, attempts=5)
    sent = pending(sales_rep)
    Notification.objects.filter(pk=sent.pk).update(send_status=Notification.SendStatus.SENT)

    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.retry_failed(Notification, [failed.pk, sent.pk]) == 1

    failed.refresh_from_db()
    assert (failed.send_status, failed.attempts) == (Notification.SendStatus.SENT, 1)
    assert len(mailoutbox) == 1
