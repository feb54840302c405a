"""An unchanged refresh costs no database query (issue 13).

The middleware answers `304` from the session and the version tokens in the
cache; anything it cannot vouch for goes on to the view.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from repairs import services
from tests.factories import CustomerFactory, RepairJobFactory, VehicleFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def job(branch, sales_rep, advisor, technician):
    customer = CustomerFactory(branch=branch, sales_owner=sales_rep)
    return RepairJobFactory(
        vehicle=VehicleFactory(customer=customer), sales_owner=sales_rep, requested_by=advisor, technician=technician
    )


SCREENS = ["repairs:my_cars", "repairs:job_list", "repairs:board", "repairs:my_queue", "notifications_badge"]


@pytest.mark.parametrize("name", SCREENS)
def test_an_unchanged_refresh_answers_304_without_touching_the_database(
    name, job, technician, client, django_assert_num_queries
):
    client.force_login(technician)
    url = reverse(name)
    etag = client.get(url, **HTMX)["ETag"]
    with django_assert_num_queries(0):
        response = client.get(url, HTTP_IF_NONE_MATCH=etag, **HTMX)
    assert response.status_code == 304
    assert response["ETag"] == etag


def test_the_job_page_and_its_thread_refresh_without_queries_too(job, technician, client, django_assert_num_queries):
    client.force_login(technician)
    for url in (job.get_absolute_url(), reverse("repairs:job_thread", args=[job.pk])):
        etag = client.get(url, **HTMX)["ETag"]
        with django_assert_num_queries(0):
            assert client.get(url, HTTP_IF_NONE_MATCH=etag, **HTMX).status_code == 304


def test_a_change_reaches_the_next_refresh(job, technician, advisor, client):
    client.force_login(technician)
    url = job.get_absolute_url()
    etag = client.get(url, **HTMX)["ETag"]
    services.change_status(job, to="diagnosing", by=advisor, expected_version=job.version)
    response = client.get(url, HTTP_IF_NONE_MATCH=etag, **HTMX)
    assert response.status_code == 200
    assert response["ETag"] != etag


def test_a_signed_out_session_never_gets_a_304(job, technician, client):
    client.force_login(technician)
    url = reverse("repairs:board")
    etag = client.get(url, **HTMX)["ETag"]
    client.logout()
    response = client.get(url, HTTP_IF_NONE_MATCH=etag, **HTMX)
    assert response.status_code == 302  # to the login page


def test_a_changed_password_ends_the_fast_path_for_old_sessions(job, technician, client):
    client.force_login(technician)
    url = reverse("repairs:board")
    etag = client.get(url, **HTMX)["ETag"]
    technician.set_password("a-new-secret-2026")
    technician.save()
    assert client.get(url, HTTP_IF_NONE_MATCH=etag, **HTMX).status_code == 302


def test_a_forged_etag_is_not_current(job, technician, client):
    client.force_login(technician)
    url = reverse("repairs:board")
    client.get(url, **HTMX)
    for forged in ('"0000.0"', '"abc"', '"x.y"', "*"):
        assert client.get(url, HTTP_IF_NONE_MATCH=forged, **HTMX).status_code == 200


def test_reading_a_thread_re_renders_only_the_readers_lists_not_their_job_page_or_thread(
    job, technician, sales_rep, client
):
    services.post_message(job, by=technician, body="見積もりが出ました")
    client.force_login(sales_rep)
    thread_url = reverse("repairs:job_thread", args=[job.pk])
    screens = [job.get_absolute_url(), thread_url, reverse("repairs:my_cars"), reverse("notifications_badge")]
    etags = {url: client.get(url, **HTMX)["ETag"] for url in screens}
    client.post(reverse("repairs:job_thread_read", args=[job.pk]))
    status = {url: client.get(url, HTTP_IF_NONE_MATCH=etag, **HTMX).status_code for url, etag in etags.items()}
    assert status == {
        job.get_absolute_url(): 304,
        thread_url: 304,  # else the re-rendered thread would mark itself read again, forever
        reverse("repairs:my_cars"): 200,  # its unread badge went away
        reverse("notifications_badge"): 304,
    }


def test_the_job_pages_loops_section_refreshes_without_queries_and_follows_its_job(
    job, technician, advisor, client, django_assert_num_queries
):
    client.force_login(technician)
    url = reverse("repairs:job_loops", args=[job.pk])
    etag = client.get(url, **HTMX)["ETag"]
    with django_assert_num_queries(0):
        assert client.get(url, HTTP_IF_NONE_MATCH=etag, **HTMX).status_code == 304
    services.change_status(job, to="diagnosing", by=advisor, expected_version=job.version)
    assert client.get(url, HTTP_IF_NONE_MATCH=etag, **HTMX).status_code == 200
