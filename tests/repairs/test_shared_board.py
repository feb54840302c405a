"""The board's cards are rendered once per change and shared by everyone watching the branch
(repairs.board); each viewer still gets their own unread badges, their own branch and
language, and never a card older than the last change or the last promised time crossed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from dealership import versions
from repairs import services
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def card_of(body: str, number: str) -> str:
    return body.split(f'data-job="{number}"', 1)[1].split("</article>", 1)[0]


def job_loads(queries) -> list[str]:
    """The queries that load jobs themselves (not the viewer's unread counts)."""
    return [
        q["sql"]
        for q in queries.captured_queries
        if 'FROM "repairs_repairjob"' in q["sql"] and "unread" not in q["sql"]
    ]


def board(client, user) -> str:
    client.force_login(user)
    return client.get(reverse("repairs:board")).content.decode()


@pytest.fixture
def second_advisor(branch):
    return UserFactory(branch=branch, role="service_advisor", department="service", display_name="二人目 アドバイザー")


def test_a_second_viewer_reads_the_cards_without_loading_the_jobs(client, advisor, second_advisor, job):
    board(client, advisor)
    client.force_login(second_advisor)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(reverse("repairs:board")).content.decode()
    assert f'data-job="{job.number}"' in body
    assert not job_loads(queries)


def test_the_same_board_shows_each_viewer_their_own_unread_messages(client, advisor, second_advisor, technician, job):
    services.post_message(job, by=technician, body="部品の確認をお願いします")
    services.mark_thread_read(job, by=second_advisor)
    assert 'data-testid="unread"' in card_of(board(client, advisor), job.number)
    assert 'data-testid="unread"' not in card_of(board(client, second_advisor), job.number)
    assert 'data-testid="unread"' in card_of(board(client, advisor), job.number)


def test_a_status_change_is_on_the_next_board_of_every_viewer(client, advisor, second_advisor, job):
    def column(body: str, status: str) -> str:
        return body.split(f'data-status="{status}"', 1)[1].split("</section>", 1)[0]

    assert f'data-job="{job.number}"' in column(board(client, advisor), "received")
    assert f'data-job="{job.number}"' in column(board(client, second_advisor), "received")
    services.change_status(job, to="diagnosing", by=advisor, expected_version=job.version)
    body = board(client, second_advisor)
    assert f'data-job="{job.number}"' in column(body, "diagnosing")
    assert f'data-job="{job.number}"' not in column(body, "received")


def test_a_corrected_plate_reaches_the_shared_cards(client, advisor, second_advisor, job):
    board(client, advisor)
    job.vehicle.plate_number = "横浜 500 さ 99-99"
    job.vehicle.save()
    versions.vehicle_changed(job.vehicle, ["plate_number"])  # as every path that edits a vehicle does
    assert "横浜 500 さ 99-99" in card_of(board(client, second_advisor), job.number)


def test_each_branch_watches_its_own_board(client, advisor, job, other_branch_job, other_branch_user):
    other_advisor = UserFactory(branch=other_branch_user.branch, role="service_advisor", department="service")
    assert f'data-job="{job.number}"' in board(client, advisor)
    body = board(client, other_advisor)
    assert f'data-job="{job.number}"' not in body
    assert f'data-job="{other_branch_job.number}"' in body


def test_each_language_gets_its_own_cards(client, advisor, second_advisor, job):
    advisor.language = "ja"
    advisor.save()
    second_advisor.language = "en"
    second_advisor.save()
    with translation.override("ja"):
        japanese = gettext("Unassigned")
    assert japanese != "Unassigned"
    assert japanese in card_of(board(client, advisor), job.number)
    assert "Unassigned" in card_of(board(client, second_advisor), job.number)
    assert japanese in card_of(board(client, advisor), job.number)


def test_a_card_turns_overdue_when_its_promised_time_passes_without_any_write(
    client, advisor, second_advisor, make_job, time_machine
):
    late = make_job(promised_at=timezone.now() + timedelta(minutes=10))
    assert "overdue" not in card_of(board(client, advisor), late.number)
    time_machine.move_to(timezone.now() + timedelta(minutes=11))
    assert 'class="card job-card mb-2 overdue"' in board(client, second_advisor)


def test_without_the_shared_board_every_render_loads_the_jobs(client, advisor, second_advisor, job, settings):
    settings.SHARED_BOARD = False
    board(client, advisor)
    client.force_login(second_advisor)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(reverse("repairs:board")).content.decode()
    assert f'data-job="{job.number}"' in body
    assert job_loads(queries)


def test_a_group_manager_and_a_branch_advisor_never_share_a_copy(client, advisor, job, other_branch_job, branch):
    group_manager = UserFactory(branch=branch, role="manager", department="management", all_branches=True)
    assert group_manager.sees_all_branches
    body = board(client, group_manager)
    assert f'data-job="{job.number}"' in body
    assert f'data-job="{other_branch_job.number}"' in body
    assert f'data-job="{other_branch_job.number}"' not in board(client, advisor)
    assert f'data-job="{other_branch_job.number}"' in board(client, group_manager)
