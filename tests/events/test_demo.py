"""The demo's team life is built through the services and only once."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from events.models import RSVP, ActionItem, EventKind, EventParticipant, TeamEvent
from events.selectors import cross_department_participation, my_next_events, my_open_action_items

pytestmark = pytest.mark.django_db


def test_the_demo_has_past_and_upcoming_events_pairs_answers_and_action_items_once():
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    count = TeamEvent.objects.count()
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())

    assert TeamEvent.objects.count() == count == 16  # eight per branch
    assert set(TeamEvent.objects.values_list("kind", flat=True)) == set(EventKind.values)
    past = TeamEvent.objects.filter(ends_at__lt=timezone.now())
    assert all(event.minutes for event in past)
    assert EventParticipant.objects.filter(event__in=past, attended=True).count() > 10
    assert EventParticipant.objects.filter(host__isnull=False).count() >= 4
    assert EventParticipant.objects.filter(rsvp=RSVP.MAYBE).exists()
    assert ActionItem.objects.filter(done_at__isnull=False).exists()
    assert ActionItem.objects.filter(done_at__isnull=True).exists()

    sales = User.objects.get(email="sales@example.com")
    assert my_next_events(sales)
    assert my_open_action_items(sales)[1] >= 1
    figure = cross_department_participation(
        sales.branch, past.earliest("starts_at").starts_at.date(), past.latest("starts_at").starts_at.date()
    )
    assert 0 < figure.joined <= figure.staff
