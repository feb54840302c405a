"""The rows the polled screens repeat, written in Python (repairs.rows),
and the mention picker (repairs.forms.PeoplePicker): same escaping, links,
languages and forms as the templates they replaced."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from repairs.models import RepairJob

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(\"x\")</script> & 'q'"  # shorter than the board's 40 characters
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;q&#x27;"


@pytest.fixture
def hostile_job(make_job, technician):
    job = make_job(title=HOSTILE, status="in_progress", technician=technician)
    job.vehicle.make = "<b>Make</b>"
    job.vehicle.plate_number = 'P"1'
    job.vehicle.save()
    return job


@pytest.mark.parametrize(
    ("who", "url"),
    [("advisor", "repairs:board"), ("sales_rep", "repairs:my_cars"), ("technician", "repairs:my_queue")],
)
def test_hostile_text_in_a_row_is_escaped_like_the_template_language_escapes_it(
    client_for, hostile_job, request, who, url
):
    body = client_for(request.getfixturevalue(who)).get(reverse(url)).content.decode()
    assert "<script>alert" not in body
    assert "<b>Make</b>" not in body
    assert "&lt;b&gt;Make&lt;/b&gt;" in body
    assert ESCAPED in body
    assert "P&quot;1" in body


def test_rows_link_to_the_job_and_its_customer(client_for, sales_rep, job):
    body = client_for(sales_rep).get(reverse("repairs:my_cars")).content.decode()
    assert f'href="{reverse("repairs:job_detail", args=[job.pk])}"' in body
    assert f'href="{reverse("customers:customer_detail", args=[job.customer_id])}"' in body


def test_a_board_card_links_to_its_job(client_for, advisor, job):
    body = client_for(advisor).get(reverse("repairs:board")).content.decode()
    card = body.split(f'data-job="{job.number}"', 1)[1].split("</article>", 1)[0]
    assert f'href="{reverse("repairs:job_detail", args=[job.pk])}"' in card


def test_rows_speak_each_readers_language_in_the_same_process(client_for, advisor, make_job):
    job = make_job(kind="shaken", priority=1, promised_at=timezone.now() - timedelta(hours=1))
    with translation.override("ja"):
        japanese = (gettext("Shaken inspection"), gettext("Urgent"), gettext("Overdue"), gettext("Unassigned"))
    with translation.override("en"):
        english = (gettext("Shaken inspection"), gettext("Urgent"), gettext("Overdue"), gettext("Unassigned"))
    assert japanese != english
    client = client_for(advisor)
    for language, labels in (("ja", japanese), ("en", english), ("ja", japanese)):
        advisor.language = language
        advisor.save()
        body = client.get(reverse("repairs:board")).content.decode()
        card = body.split(f'data-job="{job.number}"', 1)[1].split("</article>", 1)[0]
        for label in labels:
            assert label in card, (language, label)


def test_a_card_shows_the_promised_time_in_the_local_time_zone(client_for, advisor, make_job):
    promised = timezone.now().replace(microsecond=0) + timedelta(days=1)
    job = make_job(promised_at=promised)
    body = client_for(advisor).get(reverse("repairs:board")).content.decode()
    local = timezone.localtime(promised)
    card = body.split(f'data-job="{job.number}"', 1)[1].split("</article>", 1)[0]
    assert f'<time datetime="{local.isoformat()}">{local.strftime("%m/%d %H:%M")}</time>' in card


def test_the_claim_button_of_a_queue_row_posts_a_valid_csrf_token(technician, password, make_job):
    job = make_job()
    client = Client(enforce_csrf_checks=True)
    assert client.login(email=technician.email, password=password)
    body = client.get(reverse("repairs:my_queue")).content.decode()
    row = body.split(f'data-job="{job.number}"', 1)[1]
    action, token = re.search(
        r'<form method="post" action="([^"]+)".*?name="csrfmiddlewaretoken" value="([^"]+)"', row, re.S
    ).groups()
    assert action == reverse("repairs:job_claim", args=[job.pk])
    response = client.post(action, {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.technician == technician


def test_a_viewer_who_may_not_claim_gets_no_claim_button(client_for, sales_rep, make_job):
    job = make_job()
    body = client_for(sales_rep).get(reverse("repairs:my_queue")).content.decode()
    assert reverse("repairs:job_claim", args=[job.pk]) not in body


def test_the_mention_picker_keeps_the_chosen_colleagues_when_the_form_comes_back(
    client_for, technician, advisor, sales_rep, job
):
    job.technician = technician
    job.save()
    response = client_for(technician).post(
        reverse("repairs:job_message", args=[job.pk]), {"body": "", "kind": "note", "mentions": [advisor.pk]}
    )
    assert response.status_code == 400 or response.status_code == 200
    body = response.content.decode()
    picker = re.search(r'<select name="mentions"[^>]*multiple>(.*?)</select>', body, re.S)
    assert picker, body
    assert f'<option value="{advisor.pk}" selected>' in picker.group(1)
    assert f'<option value="{sales_rep.pk}">' in picker.group(1)
    assert RepairJob.objects.get(pk=job.pk).messages.count() == 0


def test_the_mention_picker_escapes_names(client_for, technician, advisor, job):
    advisor.display_name = "<i>Advisor</i>"
    advisor.save()
    body = client_for(technician).get(reverse("repairs:job_detail", args=[job.pk])).content.decode()
    assert "&lt;i&gt;Advisor&lt;/i&gt;" in body
    assert "<i>Advisor</i>" not in body
