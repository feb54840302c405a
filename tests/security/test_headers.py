"""Personal pages stay out of caches; /healthz tells the public only ok or error."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from dealership import views as core_views

from ..factories import CustomerFactory, RepairJobFactory, VehicleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(branch, sales_rep):
    vehicle = VehicleFactory(customer=CustomerFactory(branch=branch, sales_owner=sales_rep))
    return RepairJobFactory(vehicle=vehicle)


@pytest.mark.parametrize(
    "url_name",
    ["home", "notifications", "accounts:preferences", "accounts:team"],
)
def test_a_signed_in_page_is_marked_private_and_not_stored(client_for, manager, url_name):
    response = client_for(manager).get(reverse(url_name))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("url_name", ["repairs:job_list", "repairs:board"])
def test_a_polled_list_keeps_its_own_no_store_and_etag(client_for, manager, url_name):
    response = client_for(manager).get(reverse(url_name))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response["ETag"]


def test_the_job_page_is_not_stored(client_for, sales_rep, job):
    # The job page is polled, so its own view already sends no-store with its ETag.
    response = client_for(sales_rep).get(reverse("repairs:job_detail", args=[job.pk]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_the_redirect_right_after_sign_in_is_not_stored_either(client, sales_rep, password):
    response = client.post(reverse("account_login"), {"login": sales_rep.email, "password": password})
    assert response.status_code == 302
    assert "no-store" in response["Cache-Control"]


def test_a_polled_screen_keeps_its_own_header_and_still_answers_304(client_for, sales_rep):
    client = client_for(sales_rep)
    first = client.get(reverse("notifications_badge"))
    assert first["Cache-Control"] == "no-store"
    again = client.get(reverse("notifications_badge"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]


def test_an_anonymous_page_is_left_to_its_view(client):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    assert response.get("Cache-Control") != "private, no-store"


def test_healthz_names_the_failing_component_but_not_the_error(client, settings, monkeypatch, caplog):
    settings.CELERY_TASK_ALWAYS_EAGER = True

    def broken_cache() -> str:
        raise ConnectionRefusedError("redis at 10.0.0.5:6379 refused the connection")

    monkeypatch.setattr(core_views, "_check_cache", broken_cache)
    with caplog.at_level(logging.ERROR, logger="dealership.views"):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "cache": "error", "broker": "eager"}
    body = response.content.decode()
    assert "ConnectionRefusedError" not in body
    assert "10.0.0.5" not in body
    # The operator still finds the cause in the log.
    assert any("ConnectionRefusedError" in (record.exc_text or "") for record in caplog.records)
