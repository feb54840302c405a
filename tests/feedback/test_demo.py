"""The demo's customer voice: ~150 answers over 90 days, recovery items and voice items in every status."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import Avg, Count
from django.utils import timezone

from dealership.models import Notification
from feedback.models import CustomerVoice, SurveyInvitation, SurveyResponse, VoiceStatus
from repairs.models import JobEvent

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_believable_survey_history_and_voice_items_in_every_status():
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())

    responses = SurveyResponse.objects.all()
    assert 120 <= responses.count() <= 190
    now = timezone.now()
    oldest = responses.order_by("submitted_at").first().submitted_at
    assert now - timedelta(days=95) < oldest < now - timedelta(days=60)
    assert responses.filter(submitted_at__gt=now).count() == 0
    average = responses.aggregate(avg=Avg("overall"))["avg"]
    assert 3.6 < average < 4.6
    overall = dict(responses.values_list("overall").annotate(n=Count("id")))
    assert set(overall) == {1, 2, 3, 4, 5} and overall[5] > overall[1]
    languages = set(responses.exclude(comment="").values_list("language", flat=True))
    assert languages == {"ja", "en"}

    statuses = set(CustomerVoice.objects.values_list("status", flat=True))
    assert statuses == set(VoiceStatus.values)
    recovery = CustomerVoice.objects.filter(is_recovery=True)
    low = responses.filter(overall__lte=2).count() + responses.filter(overall__gte=3, nps__lte=6).count()
    assert recovery.count() == low > 0
    assert set(recovery.values_list("status", flat=True)) >= {VoiceStatus.OPEN, VoiceStatus.CLOSED}
    assert SurveyInvitation.objects.filter(send_status="sent").count() > responses.count()
    assert JobEvent.objects.filter(kind=JobEvent.Kind.SURVEY_ANSWERED).count() == responses.count()
    assert not Notification.objects.filter(send_status=Notification.SendStatus.PENDING).exists()


def test_seeding_twice_adds_no_second_survey_history():
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    counts = (SurveyInvitation.objects.count(), SurveyResponse.objects.count(), CustomerVoice.objects.count())

    call_command("seed_demo", verbosity=0, stdout=io.StringIO())

    assert (SurveyInvitation.objects.count(), SurveyResponse.objects.count(), CustomerVoice.objects.count()) == counts
