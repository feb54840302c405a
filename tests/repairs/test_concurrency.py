"""Two people change the same job at the same moment, against real PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from repairs import services
from repairs.models import JobEvent, RepairJob
from tests.conftest import missing

pytestmark = pytest.mark.services


@pytest.mark.django_db(transaction=True)
def test_two_threads_with_the_same_version_exactly_one_wins(job, advisor, manager):
    if connection.vendor != "postgresql":
        missing("needs PostgreSQL (set DATABASE_URL) for real concurrent transactions")
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}
    seen_version = job.version

    def act(user, target: str) -> None:
        try:
            copy = RepairJob.objects.select_related("sales_owner", "requested_by", "vehicle").get(pk=job.pk)
            barrier.wait(timeout=10)
            services.change_status(copy, to=target, by=user, expected_version=seen_version)
            outcomes[user.email] = "won"
        except services.StaleJob as conflict:
            outcomes[user.email] = f"conflict: {conflict}"
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=act, args=(advisor, "diagnosing")),
        threading.Thread(target=act, args=(manager, "in_progress")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcome.split(":")[0] for outcome in outcomes.values()) == ["conflict", "won"]
    winner = next(email for email, outcome in outcomes.items() if outcome == "won")
    loser_message = next(outcome for outcome in outcomes.values() if outcome.startswith("conflict"))
    job.refresh_from_db()
    assert job.version == seen_version + 1
    assert JobEvent.objects.filter(job=job, kind="status").count() == 1
    expected_status = "diagnosing" if winner == advisor.email else "in_progress"
    assert job.status == expected_status
    winner_name = advisor.display_name if winner == advisor.email else manager.display_name
    assert winner_name in loser_message
