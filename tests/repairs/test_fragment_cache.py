"""Cached live fragments must carry each session's own CSRF token."""

from __future__ import annotations

import pytest
from django.test import Client

from repairs.views import CSRF_PLACEHOLDER

pytestmark = pytest.mark.django_db


def test_a_cached_job_fragment_posts_with_the_second_users_own_csrf_token(job, technician, other_technician):
    first = Client(enforce_csrf_checks=True)
    first.force_login(technician)
    first.get(job.get_absolute_url())
    second = Client(enforce_csrf_checks=True)
    second.force_login(other_technician)
    page = second.get(job.get_absolute_url()).content.decode()
    assert CSRF_PLACEHOLDER not in page
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    response = second.post(f"/jobs/{job.pk}/claim/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.technician == other_technician


def test_a_cached_board_shows_a_change_at_once(client_for, advisor, technician, job):
    client = client_for(technician)
    before = client.get("/jobs/board/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="diagnosing"' in before
    diagnosing_column = before.split('data-status="diagnosing"', 1)[1].split("</section>", 1)[0]
    assert job.number not in diagnosing_column
    client_for(advisor).post(f"/jobs/{job.pk}/status/", {"to": "diagnosing", "version": job.version})
    client.force_login(technician)
    after = client.get("/jobs/board/", HTTP_HX_REQUEST="true").content.decode()
    assert job.number in after.split('data-status="diagnosing"', 1)[1].split("</section>", 1)[0]


def test_an_admin_edit_of_a_job_reaches_the_cached_list(client_for, advisor, job):
    client = client_for(advisor)
    assert "新しい件名" not in client.get("/jobs/").content.decode()
    job.title = "新しい件名"
    job.save()
    assert "新しい件名" in client.get("/jobs/").content.decode()


def test_my_cars_and_all_jobs_never_share_a_cached_list(client_for, sales_rep, job, make_job, other_technician):
    colleague_job = make_job(sales_owner=None, requested_by=other_technician)
    client = client_for(sales_rep)
    all_jobs = client.get("/jobs/").content.decode()
    mine = client.get("/jobs/my-cars/").content.decode()
    assert colleague_job.number in all_jobs
    assert colleague_job.number not in mine
    assert job.number in mine
