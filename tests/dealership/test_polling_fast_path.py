"""An unchanged refresh costs no database query (issue 13).

The middleware answers `304` from the session and the version tokens in the
cache; anything it cannot vouch for goes on to the view.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from repairs import services, status_links
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
    url = reverse("repairs:job_approvals_leads", args=[job.pk])
    etag = client.get(url, **HTMX)["ETag"]
    with django_assert_num_queries(0):
        assert client.get(url, HTTP_IF_NONE_MATCH=etag, **HTMX).status_code == 304
    services.change_status(job, to="diagnosing", by=advisor, expected_version=job.version)
    assert client.get(url, HTTP_IF_NONE_MATCH=etag, **HTMX).status_code == 200


@pytest.mark.parametrize("name", ["repairs:approvals", "repairs:my_requests"])
def test_the_loop_screens_take_the_same_fast_path(
    name, job, sales_rep, client, django_assert_num_queries, time_machine
):
    # The approvals list shows running minutes and renders again at each minute: start just after one.
    time_machine.move_to(timezone.now().replace(second=1, microsecond=0) + timedelta(minutes=1))
    client.force_login(sales_rep)
    url = reverse(name)
    etag = client.get(url, **HTMX)["ETag"]
    with django_assert_num_queries(0):
        response = client.get(url, HTTP_IF_NONE_MATCH=etag, **HTMX)
    assert response.status_code == 304
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("sent", ["W/{etag}", '"elsewhere.0", {etag}', '{etag}, W/"x.0"'])
def test_weak_and_listed_etags_are_read_the_same_way_by_the_middleware_and_the_view(sent, job, technician, client):
    client.force_login(technician)
    url = reverse("repairs:board")
    etag = client.get(url, **HTMX)["ETag"]
    header = sent.format(etag=etag)
    assert client.get(url, HTTP_IF_NONE_MATCH=header, **HTMX).status_code == 304  # the middleware
    assert client.get(url, HTTP_IF_NONE_MATCH=header).status_code == 304  # the view (no htmx header)


def test_the_customers_status_page_answers_304_until_its_job_changes(job, sales_rep, advisor, client):
    link = status_links.create_status_link(job, by=sales_rep)
    etag = client.get(link.public_url, **HTMX)["ETag"]
    assert client.get(link.public_url, HTTP_IF_NONE_MATCH=f"W/{etag}", **HTMX).status_code == 304
    services.change_promised_time(job, promised_at=timezone.now() + timedelta(days=3), reason="部品待ち", by=advisor)
    assert client.get(link.public_url, HTTP_IF_NONE_MATCH=etag, **HTMX).status_code == 200
