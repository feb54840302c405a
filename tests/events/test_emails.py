"""The team-event kinds have their own e-mails (subject prefix, intro, call to action)."""

from __future__ import annotations

import pytest

from dealership.emails import send_notification_email
from dealership.models import Notification
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
Kind = Notification.Kind

EXPECTED = {
    Kind.EVENT_INVITED: (
        "[Team event] ",
        "You are invited to a team event. Answer with one click on its page; it can go straight into your calendar.",
        "Answer and add it to your calendar:",
    ),
    Kind.EVENT_CHANGED: (
        "[Event changed] ",
        "A team event you are invited to has changed or was cancelled.",
        "See the event:",
    ),
    Kind.EVENT_REMINDER: ("[Reminder] ", "A reminder of a team event coming up.", "See the agenda and materials:"),
    Kind.ACTION_ITEM: (
        "[Action item] ",
        "A team meeting gave you an action item. It stays on your home page until it is done.",
        "Open the action item:",
    ),
}


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_each_event_kind_sends_its_own_e_mail(kind, mailoutbox, settings):
    settings.SITE_URL = "http://testserver"
    recipient = UserFactory(language="en", display_name="Emily Carter")
    notification = Notification.objects.create(
        recipient=recipient, kind=kind, template="Study session “Brakes”, 2026-12-01 18:00–19:00", url="/team/events/7/"
    )

    send_notification_email(notification)

    prefix, intro, action = EXPECTED[kind]
    (message,) = mailoutbox
    assert message.subject == f"[Dealership Portal] {prefix}Study session “Brakes”, 2026-12-01 18:00–19:00"
    assert intro in message.body
    assert f"{action}\nhttp://testserver/team/events/7/" in message.body
    html, _mimetype = message.alternatives[0]
    assert '<a href="http://testserver/team/events/7/">' in html
    assert intro in html
