"""Polled screens cannot go stale on permissions or contact details.

Each test loads a screen, keeps its ETag as htmx does, changes something the
screen depends on, and polls again with `If-None-Match`: the answer must be
a fresh render showing the change, never a 304 of the old content.
"""

from __future__ import annotations

import pytest

from accounts.models import Department, Role

pytestmark = pytest.mark.django_db

PHONE = "090-1111-2222"


@pytest.fixture
def contact_job(job):
    job.customer.phone = PHONE
    job.customer.save()
    return job


def poll(client, url: str, etag: str | None = None):
    headers = {"HTTP_HX_REQUEST": "true"}
    if etag:
        headers["HTTP_IF_NONE_MATCH"] = etag
    return client.get(url, **headers)


def test_a_demoted_advisor_no_longer_sees_the_phone_on_the_next_request(contact_job, advisor, client):
    client.force_login(advisor)
    first = client.get(contact_job.get_absolute_url())
    assert PHONE in first.content.decode()
    advisor.role, advisor.department = Role.TECHNICIAN, Department.SERVICE
    advisor.save()
    again = client.get(contact_job.get_absolute_url(), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert PHONE not in again.content.decode()


def test_a_role_change_changes_the_etag_of_every_polled_screen(contact_job, advisor, client):
    client.force_login(advisor)
    urls = ["/jobs/", "/jobs/board/", "/jobs/queue/", contact_job.get_absolute_url()]
    etags = {url: poll(client, url)["ETag"] for url in urls}
    assert all(poll(client, url, etag).status_code == 304 for url, etag in etags.items())
    advisor.role = Role.TECHNICIAN
    advisor.save()
    assert all(poll(client, url, etag).status_code == 200 for url, etag in etags.items())


@pytest.mark.parametrize("persona", ["sales_rep", "advisor", "manager"])
def test_a_corrected_phone_reaches_every_open_job_page_on_its_next_refresh(persona, contact_job, client, request):
    viewer = request.getfixturevalue(persona)
    client.force_login(viewer)
    first = client.get(contact_job.get_absolute_url())
    assert PHONE in first.content.decode()
    customer = contact_job.customer
    customer.phone = "03-9999-0000"
    customer.save()
    again = client.get(contact_job.get_absolute_url(), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert "03-9999-0000" in again.content.decode()


def test_a_corrected_plate_reaches_the_lists_on_their_next_poll(contact_job, sales_rep, client):
    client.force_login(sales_rep)
    first = poll(client, "/jobs/my-cars/")
    assert "品川 300 あ 12-34" in first.content.decode()
    vehicle = contact_job.vehicle
    vehicle.plate_number = "品川 300 い 56-78"
    vehicle.save()
    again = poll(client, "/jobs/my-cars/", first["ETag"])
    assert again.status_code == 200
    assert "品川 300 い 56-78" in again.content.decode()
