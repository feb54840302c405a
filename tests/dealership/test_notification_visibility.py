"""Nobody is told about what they cannot see, not even by an old notification.

A staff member who moves branch keeps their notifications, but the ones
about the old branch's jobs and events stop showing titles and places: the
same permission function that guards the target's page decides.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import services as staff
from dealership.i18n import gettext_lazy
from dealership.models import Notification
from dealership.notifications import notify
from events.models import TeamEvent
from repairs.models import JobMessage
from tests.factories import CustomerFactory, RepairJobFactory, UserFactory, VehicleFactory

pytestmark = pytest.mark.django_db

HIDDEN = 'data-testid="notification-hidden"'


@pytest.fixture
def chief(branch):
    return UserFactory(role="manager", department="management", branch=branch, all_branches=True)


@pytest.fixture
def told(branch, sales_rep, advisor):
    """The sales rep heard of a team event (title, place) and of a message on a job of their branch."""
    start = timezone.now() + timedelta(days=3)
    event = TeamEvent.objects.create(
        branch=branch, title="新型車勉強会", place="2階会議室", starts_at=start, ends_at=start + timedelta(hours=1)
    )
    notify(
        [sales_rep],
        Notification.Kind.EVENT_INVITED,
        actor=advisor,
        target=event,
        text=gettext_lazy("You are invited: {title}, {place}"),
        args={"title": event.title, "place": event.place},
    )
    job = RepairJobFactory(vehicle=VehicleFactory(customer=CustomerFactory(branch=branch)), requested_by=advisor)
    message = JobMessage.objects.create(job=job, author=advisor, body="見積もり")
    notify(
        [sales_rep],
        "message",
        actor=advisor,
        target=message,
        text=gettext_lazy("{number}: 見積もり"),
        args={"number": job.number},
    )
    return event, job


def centre(client) -> str:
    return client.get(reverse("notifications") + "?show=all").content.decode()


def test_a_staff_member_sees_their_notifications_while_they_may_see_the_targets(client_for, sales_rep, told):
    body = centre(client_for(sales_rep))
    assert "新型車勉強会" in body
    assert "2階会議室" in body
    assert told[1].number in body
    assert HIDDEN not in body


def test_after_moving_branch_the_old_branchs_titles_and_places_are_no_longer_shown(
    client_for, sales_rep, chief, other_branch, told
):
    staff.change_staff(
        member=sales_rep, by=chief, role="sales_rep", department="sales", branch=other_branch, all_branches=False
    )
    body = centre(client_for(sales_rep))
    assert "新型車勉強会" not in body
    assert "2階会議室" not in body
    assert told[1].number not in body
    assert body.count(HIDDEN) == 2


def test_an_all_branch_manager_keeps_seeing_what_they_were_told(client_for, chief, advisor, told):
    event, _job = told
    notify(
        [chief], "event_invited", actor=advisor, target=event, text=gettext_lazy("{title}"), args={"title": "勉強会A"}
    )
    assert "勉強会A" in centre(client_for(chief))


def test_opening_a_notification_about_what_they_can_no_longer_see_goes_back_to_the_list(
    client_for, sales_rep, chief, other_branch, told
):
    staff.change_staff(
        member=sales_rep, by=chief, role="sales_rep", department="sales", branch=other_branch, all_branches=False
    )
    notification = Notification.objects.filter(recipient=sales_rep, kind="event_invited").get()
    response = client_for(sales_rep).get(reverse("notification_open", args=[notification.pk]))
    assert response["Location"] == reverse("notifications")
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_a_notification_whose_target_is_still_visible_opens_it(client_for, sales_rep, told):
    notification = Notification.objects.filter(recipient=sales_rep, kind="event_invited").get()
    response = client_for(sales_rep).get(reverse("notification_open", args=[notification.pk]))
    assert response["Location"] == told[0].get_absolute_url()


def test_the_centre_checks_the_targets_in_a_constant_number_of_queries(client_for, sales_rep, advisor, branch):
    job = RepairJobFactory(vehicle=VehicleFactory(customer=CustomerFactory(branch=branch)), requested_by=advisor)
    client = client_for(sales_rep)

    def tell(count: int) -> int:
        for index in range(count):
            message = JobMessage.objects.create(job=job, author=advisor, body=f"#{index}")
            notify([sales_rep], "message", actor=advisor, target=message, text=gettext_lazy("{n}"), args={"n": index})
        with CaptureQueriesContext(connection) as captured:
            assert HIDDEN not in centre(client)
        return len(captured)

    assert tell(2) == tell(20)
