"""iCalendar (RFC 5545) output of team events, built with the `icalendar` library.

Times are written in the site's time zone (settings.TIME_ZONE, the branch's:
Asia/Tokyo) with its VTIMEZONE, so calendar apps show 18:00 as 18:00 whatever
zone the phone is in. Each event keeps one UID for its whole life and counts
its revisions in SEQUENCE, so a re-download or the feed updates the entry
instead of adding a second one; a cancelled event is sent as CANCELLED.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from .models import RSVP, EventKind, TeamEvent

PRODID = "-//Dealership Portal//Team events//JA"
PARTSTAT = {RSVP.YES: "ACCEPTED", RSVP.NO: "DECLINED", RSVP.MAYBE: "TENTATIVE", RSVP.NONE: "NEEDS-ACTION"}
# Control characters RFC 5545 allows in no text value (tab is allowed; line breaks are handled apart).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def _text(value: str, *, one_line: bool = False) -> vText:
    """Typed text as an iCalendar value.

    Every kind of line break becomes one newline, which vText writes escaped
    (\\n); a name or a title gets a space instead. An unescaped CR or LF ended
    the content line (icalendar refuses to write it: the .ics answered 500),
    and other control characters are not allowed in a calendar file at all.
    """
    text = (" " if one_line else "\n").join(value.splitlines())
    return vText(CONTROL_CHARACTERS.sub("", text))


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _text(name, one_line=True))
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    return cal


def _vevent(event: TeamEvent) -> Event:
    tz = ZoneInfo(settings.TIME_ZONE)
    entry = Event()
    entry.add("uid", f"{event.uid}@dealership-portal")
    entry.add("sequence", event.sequence)
    entry.add("dtstamp", event.updated_at.astimezone(ZoneInfo("UTC")))
    entry.add("last-modified", event.updated_at.astimezone(ZoneInfo("UTC")))
    entry.add("created", event.created_at.astimezone(ZoneInfo("UTC")))
    entry.add("dtstart", event.starts_at.astimezone(tz))
    entry.add("dtend", event.ends_at.astimezone(tz))
    entry.add("summary", _text(f"{EventKind(event.kind).label}: {event.title}", one_line=True))
    if event.place:
        entry.add("location", _text(event.place, one_line=True))
    description = event.agenda
    if event.is_cancelled and event.cancel_reason:
        description = f"{_('Cancelled')}: {event.cancel_reason}\n\n{description}".strip()
    url = f"{settings.SITE_URL.rstrip('/')}{event.get_absolute_url()}"
    entry.add("description", _text(f"{description}\n\n{url}".strip()))
    entry.add("url", url)
    entry.add("categories", [str(EventKind(event.kind).label)])
    entry.add("status", "CANCELLED" if event.is_cancelled else "CONFIRMED")
    if event.organizer is not None and event.organizer.email:
        organizer = vCalAddress(f"mailto:{event.organizer.email}")
        organizer.params["cn"] = _text(event.organizer.display_name, one_line=True)
        entry.add("organizer", organizer)
    my_rsvp = getattr(event, "my_rsvp", None)
    viewer = getattr(event, "viewer_email", "")
    if my_rsvp and viewer:
        attendee = vCalAddress(f"mailto:{viewer}")
        attendee.params["partstat"] = PARTSTAT.get(my_rsvp, "NEEDS-ACTION")
        entry.add("attendee", attendee)
    return entry


def event_calendar(event: TeamEvent) -> bytes:
    """One event as an .ics file."""
    cal = _calendar(event.title)
    cal.add_component(_vevent(event))
    cal.add_missing_timezones()
    return cal.to_ical()


def feed_calendar(events: Iterable[TeamEvent], *, name: str) -> bytes:
    """A person's subscription feed."""
    cal = _calendar(name)
    for event in events:
        cal.add_component(_vevent(event))
    cal.add_missing_timezones()
    return cal.to_ical()
