"""The admin changes events only through the services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dealership.models import Notification
from events import services
from events.models import ActionItem, Organiser, TeamEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, branch):
    superuser = UserFactory(email="root@example.com", branch=branch, is_staff=True, is_superuser=True, role="manager")
    client.force_login(superuser)
    return client


def test_every_events_admin_page_opens(admin_client, plan, manager, sales_rep):
    event = plan()
    services.add_action_item(event, by=manager, text="資料作成", assignee=sales_rep)
    for name in ("teamevent", "actionitem", "organiser", "calendarfeed"):
        assert admin_client.get(reverse(f"admin:events_{name}_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:events_teamevent_change", args=[event.pk])).status_code == 200


def test_cancelling_in_the_admin_goes_through_the_service_and_tells_the_invitees(admin_client, plan, sales_rep):
    event = plan()
    Notification.objects.all().delete()

    response = admin_client.post(
        reverse("admin:events_teamevent_changelist"), {"action": "cancel_events", "_selected_action": [event.pk]}
    )

    assert response.status_code == 302
    assert TeamEvent.objects.get(pk=event.pk).is_cancelled
    assert Notification.objects.filter(recipient=sales_rep, kind=Notification.Kind.EVENT_CHANGED).exists()


def test_the_admin_marks_action_items_done_and_names_organisers(admin_client, plan, manager, sales_rep, technician):
    item = services.add_action_item(plan(), by=manager, text="資料作成", assignee=sales_rep)
    admin_client.post(
        reverse("admin:events_actionitem_changelist"), {"action": "mark_done", "_selected_action": [item.pk]}
    )
    assert ActionItem.objects.get(pk=item.pk).is_done

    response = admin_client.post(reverse("admin:events_organiser_add"), {"user": technician.pk})
    assert response.status_code == 302
    assert Organiser.objects.get().user == technician
