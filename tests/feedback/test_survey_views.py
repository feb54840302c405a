"""The public survey pages: no login, phone first, one answer per link, friendly refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.utils import timezone

from feedback import services
from feedback.models import CustomerVoice, SurveyInvitation, SurveyOptOut, SurveyResponse
from repairs.models import JobEvent

pytestmark = pytest.mark.django_db

VALID = {
    "overall": "5",
    "explanation": "4",
    "quality": "5",
    "timeliness": "4",
    "nps": "9",
    "comment": "丁寧な説明でした。",
    "may_contact": "on",
}


def test_opening_the_link_shows_the_form_records_the_first_opening_and_uses_nothing_up(client, invitation, survey_url):
    first = client.get(survey_url(invitation))
    invitation.refresh_from_db()
    opened = invitation.opened_at
    second = client.get(survey_url(invitation))
    invitation.refresh_from_db()

    assert first.status_code == second.status_code == 200
    assert 'name="overall"' in first.content.decode() and 'name="nps"' in first.content.decode()
    assert opened is not None and invitation.opened_at == opened
    assert invitation.answered_at is None
    assert not SurveyResponse.objects.exists()
    assert first["Cache-Control"] == "private, no-store"
    assert "noindex" in first["X-Robots-Tag"]


def test_the_survey_is_in_the_customers_language_whatever_the_browser_says(client, make_delivered_job, survey_url):
    job = make_delivered_job(language="en")
    invitation, _ = services.create_invitation(job, deliver=False)

    response = client.get(survey_url(invitation), HTTP_ACCEPT_LANGUAGE="ja")

    page = response.content.decode()
    assert '<html lang="en">' in page
    assert response["Content-Language"] == "en"
    assert "How was your visit?" in page
    assert job.customer.name not in page and job.vehicle.plate_number not in page
    switched = client.get(f"{survey_url(invitation)}?lang=ja")
    assert '<html lang="ja">' in switched.content.decode()


def test_a_valid_answer_is_stored_once_put_on_the_timeline_and_thanked(client, invitation, survey_url):
    response = client.post(f"{survey_url(invitation)}?lang=ja", VALID)

    assert response.status_code == 302
    assert response["Location"].startswith(services.survey_path(invitation) + "thanks/")
    stored = SurveyResponse.objects.get()
    assert (stored.overall, stored.explanation, stored.quality, stored.timeliness, stored.nps) == (5, 4, 5, 4, 9)
    assert stored.comment == "丁寧な説明でした。" and stored.may_contact is True
    assert stored.job_id == invitation.job_id
    invitation.refresh_from_db()
    assert invitation.answered_at is not None
    event = JobEvent.objects.get(job=invitation.job, kind=JobEvent.Kind.SURVEY_ANSWERED)
    assert event.data == {"overall": 5, "nps": 9}
    assert not CustomerVoice.objects.exists()  # a happy customer opens no recovery item
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert '<html lang="ja">' in thanks.content.decode()


def test_a_replayed_answer_gets_the_already_answered_page_and_changes_nothing(client, invitation, survey_url):
    client.post(survey_url(invitation), VALID)

    replay = client.post(survey_url(invitation), {**VALID, "overall": "1", "nps": "0"})
    visit = client.get(survey_url(invitation))

    assert replay.status_code == 409
    assert visit.status_code == 200
    for page in (replay, visit):
        assert "このアンケートは回答済みです" in page.content.decode()  # the customer's language
        assert 'name="overall"' not in page.content.decode()
    assert list(SurveyResponse.objects.values_list("overall", "nps")) == [(5, 9)]


@pytest.mark.parametrize(
    ("change", "message"),
    [({"nps": "11"}, "表示されている点数から選んでください。"), ({"overall": ""}, "点数を選んでください。")],
)
def test_invalid_answers_rerender_the_form_with_messages(client, invitation, survey_url, change, message):
    response = client.post(survey_url(invitation), {**VALID, **change})

    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'id="survey-errors"' in page
    assert "丁寧な説明でした。" in page  # what the customer typed is kept
    assert not SurveyResponse.objects.exists()
    invitation.refresh_from_db()
    assert invitation.answered_at is None


def test_a_tampered_link_gets_a_friendly_400(client, invitation, survey_url):
    url = survey_url(invitation)
    signed = url.split("/")[-2]
    tampered = url.replace(signed, signed[:-2] + ("xx" if not signed.endswith("xx") else "yy"))

    response = client.get(tampered)

    assert response.status_code == 400
    assert "アンケートを開けませんでした" in response.content.decode()


def test_a_link_signed_with_another_salt_gets_400(client, invitation):
    foreign = signing.Signer(salt="repairs.customer-status").sign(invitation.token)

    response = client.get(f"/voice/s/{foreign}/")

    assert response.status_code == 400


def test_an_unknown_link_gets_404_and_a_garbage_one_400(client):
    unknown = services.survey_signer().sign("not-a-token")

    assert client.get(f"/voice/s/{unknown}/").status_code == 404
    assert client.get("/voice/s/%E2%80%A6garbage/").status_code == 400


def test_an_expired_link_gets_410_and_cannot_be_answered(client, invitation, survey_url, settings):
    with time_machine.travel(invitation.expires_at + timedelta(minutes=1)):
        shown = client.get(survey_url(invitation))
        posted = client.post(survey_url(invitation), VALID)

    assert shown.status_code == posted.status_code == 410
    assert "このアンケートは締め切りました" in shown.content.decode()
    assert not SurveyResponse.objects.exists()


def test_the_survey_pages_are_rate_limited_per_client_address(client, invitation, survey_url, settings):
    settings.SURVEY_REQUESTS_PER_MINUTE = 3

    # Counted per clock minute: all requests land in the same one.
    with time_machine.travel(timezone.now().replace(second=5), tick=False):
        statuses = [client.get(survey_url(invitation), REMOTE_ADDR="203.0.113.9").status_code for _ in range(4)]
        other = client.get(survey_url(invitation), REMOTE_ADDR="203.0.113.10")

    assert statuses == [200, 200, 200, 429]
    assert other.status_code == 200


def test_the_opt_out_link_asks_on_get_and_records_on_post(client, invitation):
    url = services.opt_out_path(invitation)

    asked = client.get(url)
    assert asked.status_code == 200
    assert not SurveyOptOut.objects.exists()

    done = client.post(url)
    assert done.status_code == 200
    assert SurveyOptOut.objects.filter(customer=invitation.customer).count() == 1


def test_a_mail_clients_one_click_post_without_csrf_token_opts_out(invitation):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)

    response = strict.post(services.opt_out_path(invitation), {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert SurveyOptOut.objects.filter(customer=invitation.customer).exists()


def test_the_thanks_page_before_an_answer_sends_the_customer_to_the_form(client, invitation, survey_url):
    response = client.get(services.survey_path(invitation) + "thanks/")

    assert response.status_code == 302
    assert response["Location"] == survey_url(invitation)


def test_staff_never_need_to_log_in_for_the_survey(client, invitation, survey_url):
    assert client.get(survey_url(invitation)).status_code == 200
    assert SurveyInvitation.objects.get().opened_at <= timezone.now()


def test_a_forwarded_chain_shorter_than_the_trusted_proxies_still_gets_the_survey(
    client, invitation, survey_url, settings
):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 2

    response = client.get(survey_url(invitation), HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert response.status_code == 200
