"""iCalendar output: one event's .ics and the personal feed behind a secret URL."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from icalendar import Calendar

from events import services
from events.models import CalendarFeed
from events.views import FEED_REQUESTS_PER_10_MINUTES, feed_token

from .conftest import tomorrow_at

pytestmark = pytest.mark.django_db
TOKYO = ZoneInfo("Asia/Tokyo")


def parse(response) -> Calendar:
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


def feed_path(user) -> str:
    feed = services.calendar_feed_for(user)
    return reverse("events:calendar_feed", args=[user.pk, feed_token(feed)])


def test_an_events_ics_parses_back_with_its_times_in_tokyo_and_a_stable_uid(client_for, plan, sales_rep):
    event = plan()
    client = client_for(sales_rep)

    first = parse(client.get(reverse("events:event_ics", args=[event.pk])))
    again = parse(client.get(reverse("events:event_ics", args=[event.pk])))

    (entry,) = first.walk("VEVENT")
    start, end = entry.decoded("DTSTART"), entry.decoded("DTEND")
    assert start == event.starts_at and end == event.ends_at
    assert start.tzinfo.key == "Asia/Tokyo"
    assert (start.hour, end.hour, end.minute) == (18, 19, 30)
    assert str(entry["DTSTART"].params["TZID"]) == "Asia/Tokyo"
    assert [str(tz["TZID"]) for tz in first.walk("VTIMEZONE")] == ["Asia/Tokyo"]
    assert str(entry["UID"]) == str(next(iter(again.walk("VEVENT")))["UID"]) == f"{event.uid}@dealership-portal"
    assert str(entry["SUMMARY"]).endswith("ハイブリッド車の基礎 勉強会")
    assert str(entry["LOCATION"]) == "2階 会議室"
    assert str(entry["STATUS"]) == "CONFIRMED"
    assert str(first["VERSION"]) == "2.0" and first["PRODID"]


def test_the_ics_of_a_changed_then_cancelled_event_keeps_its_uid_and_raises_its_sequence(
    client_for, plan, manager, sales_rep
):
    event = plan()
    url = reverse("events:event_ics", args=[event.pk])
    before = next(iter(parse(client_for(sales_rep).get(url)).walk("VEVENT")))
    services.update_event(
        event,
        by=manager,
        kind=event.kind,
        title=event.title,
        starts_at=tomorrow_at(10),
        ends_at=tomorrow_at(11),
        invited_departments=event.invited_departments,
    )
    services.cancel_event(event, by=manager, reason="延期")

    after = next(iter(parse(client_for(sales_rep).get(url)).walk("VEVENT")))

    assert str(after["UID"]) == str(before["UID"])
    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 2
    assert str(after["STATUS"]) == "CANCELLED"
    assert after.decoded("DTSTART").astimezone(TOKYO).hour == 10


def test_the_ics_is_written_in_tokyo_time_even_when_the_server_stores_utc(plan):
    """The stored value is UTC; 18:00 in Tokyo must not come out as 09:00."""
    from events import ical

    utc = ZoneInfo("UTC")
    event = plan(starts_at=datetime(2027, 1, 15, 9, 0, tzinfo=utc), ends_at=datetime(2027, 1, 15, 10, 0, tzinfo=utc))
    text = ical.event_calendar(event).decode()
    assert "DTSTART;TZID=Asia/Tokyo:20270115T180000" in text
    assert "DTEND;TZID=Asia/Tokyo:20270115T190000" in text


def test_the_feed_works_without_login_only_with_its_secret(client, plan, sales_rep):
    event = plan()
    path = feed_path(sales_rep)

    response = client.get(path)

    calendar = parse(response)
    assert [str(entry["UID"]) for entry in calendar.walk("VEVENT")] == [f"{event.uid}@dealership-portal"]
    assert response["Cache-Control"] == "private, no-store"
    assert client.get(path[:-8] + "0000.ics").status_code == 404
    assert client.get(reverse("events:calendar_feed", args=[sales_rep.pk + 999, "a" * 40])).status_code == 404


def test_the_feed_shows_only_the_owners_events_and_their_answer(client, plan, manager, sales_rep, technician):
    from accounts.models import Department

    ours = plan(invited_departments=[Department.SALES])
    plan(title="整備士だけの会", invited_departments=[Department.SERVICE])
    services.rsvp(ours, by=sales_rep, answer="maybe")

    (entry,) = parse(client.get(feed_path(sales_rep))).walk("VEVENT")

    assert str(entry["SUMMARY"]).endswith(ours.title)
    assert entry["ATTENDEE"].params["PARTSTAT"] == "TENTATIVE"


def test_another_persons_token_does_not_open_my_feed(client, plan, sales_rep, technician):
    plan()
    theirs = services.calendar_feed_for(technician)
    assert client.get(reverse("events:calendar_feed", args=[sales_rep.pk, feed_token(theirs)])).status_code == 404


def test_a_reset_secret_stops_the_old_url(client_for, client, plan, sales_rep):
    plan()
    old = feed_path(sales_rep)
    assert client.get(old).status_code == 200

    response = client_for(sales_rep).post(reverse("events:calendar_reset"))
    client.logout()

    assert response.status_code == 302
    new = feed_path(sales_rep)
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_the_reset_is_post_only(client_for, sales_rep):
    services.calendar_feed_for(sales_rep)
    before = CalendarFeed.objects.get(user=sales_rep).salt
    assert client_for(sales_rep).get(reverse("events:calendar_reset")).status_code == 405
    assert CalendarFeed.objects.get(user=sales_rep).salt == before


def test_the_calendar_page_shows_the_personal_address(client_for, sales_rep):
    response = client_for(sales_rep).get(reverse("events:calendar"))
    assert response.status_code == 200
    assert response.context["feed_url"].endswith(feed_path(sales_rep))


def test_a_deactivated_persons_feed_stops(client, plan, sales_rep):
    plan()
    path = feed_path(sales_rep)
    sales_rep.is_active = False
    sales_rep.save()
    assert client.get(path).status_code == 404


def test_the_feed_is_rate_limited_per_address(client, sales_rep):
    path = feed_path(sales_rep)
    for _ in range(FEED_REQUESTS_PER_10_MINUTES):
        assert client.get(path).status_code == 200
    limited = client.get(path)
    assert limited.status_code == 429
    assert limited["Retry-After"]
