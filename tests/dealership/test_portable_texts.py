"""Stored texts stay translatable: what portable() stores, what it refuses, and
that rows stored before dealership.i18n existed still read in each language."""

from __future__ import annotations

import gc

import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy as django_gettext_lazy

from dealership import i18n
from dealership.i18n import gettext_lazy, pgettext_lazy
from dealership.models import Notification
from dealership.notifications import notify, portable
from repairs.models import JobEvent, JobKind
from tests.factories import RepairJobFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_texts_and_choice_labels_are_stored_as_their_message_ids():
    assert portable(gettext_lazy("Home")) == {"t": ["Home"]}
    assert portable(pgettext_lazy("technician", "nobody")) == {"t": ["technician", "nobody"]}
    assert portable({"kind": JobKind.SHAKEN.label, "n": 3}) == {"kind": {"t": ["Shaken inspection"]}, "n": 3}


def test_a_lazy_text_that_cannot_say_what_it_translates_is_refused_not_stored_in_one_language(branch):
    with pytest.raises(TypeError, match=r"dealership\.i18n"):
        portable(django_gettext_lazy("Home"))
    with pytest.raises(TypeError):
        notify([UserFactory(branch=branch)], "message", actor=None, target=None, text=django_gettext_lazy("Home"))
    assert not Notification.objects.exists()


def test_a_notification_stored_before_the_change_still_reads_in_each_language(branch):
    # The stored form of every notification written so far: {"t": [msgid]} / {"t": [context, msgid]}.
    row = Notification.objects.create(
        recipient=UserFactory(branch=branch),
        kind="status_changed",
        template={"t": ["{number} {vehicle}: {status}"]},
        args={"number": "R-1", "vehicle": "Prius", "status": {"t": ["customer-facing status", "Ready for pickup"]}},
    )
    row.refresh_from_db()
    with translation.override("ja"):
        assert row.text == "R-1 Prius：お引き取り可能"
    with translation.override("en"):
        assert row.text == "R-1 Prius: Ready for pickup"


def test_a_timeline_row_stored_before_the_change_still_reads_in_each_language():
    event = JobEvent.objects.create(
        job=RepairJobFactory(), kind=JobEvent.Kind.ASSIGNED, data={"technician": {"t": ["technician", "nobody"]}}
    )
    event.refresh_from_db()
    with translation.override("ja"):
        assert event.summary == "担当なし さんに割り当てました"
    with translation.override("en"):
        assert event.summary == "Assigned to nobody"


def test_a_text_made_in_a_function_is_forgotten_when_it_is_gone():
    gc.collect()
    before = len(i18n._MESSAGES)
    for number in range(1000):
        assert portable(gettext_lazy(f"text {number}")) == {"t": [f"text {number}"]}
    gc.collect()
    assert len(i18n._MESSAGES) <= before + 1
