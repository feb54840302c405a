"""Core and staff pages cost the same number of queries whatever their length."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dealership.models import Notification
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_notification_centre_is_constant_in_the_number_of_notifications(client_for, sales_rep, technician):
    client = client_for(sales_rep)

    def add(count: int) -> None:
        Notification.objects.bulk_create(
            Notification(recipient=sales_rep, actor=technician, kind="message", template=f"#{index}", url="/")
            for index in range(count)
        )

    add(2)
    few = queries(client, reverse("notifications") + "?show=all")
    add(28)
    assert queries(client, reverse("notifications") + "?show=all") == few


def test_the_team_page_is_constant_in_the_number_of_staff(client_for, manager, branch):
    client = client_for(manager)
    UserFactory.create_batch(2, branch=branch)
    few = queries(client, reverse("accounts:team"))
    UserFactory.create_batch(20, branch=branch)
    assert queries(client, reverse("accounts:team")) == few
