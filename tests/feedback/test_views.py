"""Staff screens of customer voice: allowed, forbidden (403 / another branch 404) and bad input for each."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dealership.models import Notification
from feedback import services
from feedback.models import CustomerVoice, VoiceStatus
from tests.factories import CustomerFactory

from .conftest import delivered_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def voice(customer, sales_rep, advisor):
    return services.record_voice(
        by=sales_rep,
        customer=customer,
        source="phone",
        category="complaint",
        title="納車が遅れた",
        assignee=sales_rep,
        co_assignee=advisor,
        due_date=timezone.localdate() + timedelta(days=2),
    )


@pytest.fixture
def foreign_voice(other_branch, other_branch_user):
    customer = CustomerFactory(branch=other_branch)
    return services.record_voice(
        by=other_branch_user, customer=customer, source="phone", category="request", title="横浜の件"
    )


# --- voice list and detail ---------------------------------------------------------------------------------


def test_the_list_shows_the_branchs_active_items_only(client_for, technician, voice, foreign_voice):
    page = client_for(technician).get("/voice/items/").content.decode()

    assert "納車が遅れた" in page
    assert "横浜の件" not in page


def test_the_overdue_view_shows_only_items_past_their_due_date(client_for, sales_rep, voice, customer):
    late = services.record_voice(
        by=sales_rep,
        customer=customer,
        source="phone",
        category="request",
        title="折り返し電話の依頼",
        assignee=sales_rep,
        due_date=timezone.localdate() - timedelta(days=1),
    )

    page = client_for(sales_rep).get("/voice/items/overdue/").content.decode()

    assert late.title in page and "納車が遅れた" not in page
    filtered = client_for(sales_rep).get("/voice/items/?category=request").content.decode()
    assert late.title in filtered and "納車が遅れた" not in filtered


def test_an_item_of_another_branch_is_404_everywhere(client_for, sales_rep, foreign_voice):
    client = client_for(sales_rep)

    assert client.get(f"/voice/items/{foreign_voice.pk}/").status_code == 404
    for action, data in (
        ("status", {"to": "in_progress"}),
        ("resolve", {"resolution": "x"}),
        ("assign", {}),
        ("follow-up", {}),
    ):
        assert client.post(f"/voice/items/{foreign_voice.pk}/{action}/", data).status_code == 404
    foreign_voice.refresh_from_db()
    assert foreign_voice.status == VoiceStatus.OPEN


def test_the_detail_page_shows_history_and_the_actions_the_user_may_take(client_for, voice, sales_rep, technician):
    mine = client_for(sales_rep).get(f"/voice/items/{voice.pk}/")
    assert mine.status_code == 200
    assert mine.context["can_act"] and mine.context["can_follow_up"]
    assert f'action="/voice/items/{voice.pk}/resolve/"' in mine.content.decode()

    onlooker = client_for(technician).get(f"/voice/items/{voice.pk}/")
    assert onlooker.status_code == 200
    assert not onlooker.context["can_act"] and not onlooker.context["can_follow_up"]
    assert "/resolve/" not in onlooker.content.decode()


# --- create ------------------------------------------------------------------------------------------------


def test_anyone_records_what_a_customer_said_from_the_customer(client_for, technician, customer, advisor):
    response = client_for(technician).post(
        f"/voice/items/new/?customer={customer.pk}",
        {"category": "praise", "source": "workshop", "title": "丁寧な説明に感謝", "assignee": advisor.pk},
    )

    voice = CustomerVoice.objects.get()
    assert response.status_code == 302 and response["Location"] == voice.get_absolute_url()
    assert voice.raised_by == technician and voice.assignee == advisor and voice.customer == customer


def test_recording_without_a_summary_rerenders_with_an_error(client_for, sales_rep, customer):
    response = client_for(sales_rep).post(
        f"/voice/items/new/?customer={customer.pk}", {"category": "request", "source": "phone", "title": ""}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["title"]
    assert not CustomerVoice.objects.exists()


def test_recording_for_another_branchs_customer_is_404(client_for, sales_rep, other_branch):
    stranger = CustomerFactory(branch=other_branch)

    response = client_for(sales_rep).post(
        f"/voice/items/new/?customer={stranger.pk}", {"category": "request", "source": "phone", "title": "x"}
    )

    assert response.status_code == 404
    assert not CustomerVoice.objects.exists()


def test_recording_with_staff_of_another_branch_is_refused(client_for, sales_rep, customer, other_branch_user):
    response = client_for(sales_rep).post(
        f"/voice/items/new/?customer={customer.pk}",
        {"category": "request", "source": "phone", "title": "x", "assignee": other_branch_user.pk},
    )

    assert response.status_code == 400
    assert "assignee" in response.context["form"].errors


def test_the_new_item_form_starts_from_a_job_or_sends_to_the_customer_search(
    client_for, sales_rep, make_delivered_job, customer
):
    job = make_delivered_job(customer=customer)
    client = client_for(sales_rep)

    from_job = client.get(f"/voice/items/new/?job={job.pk}")
    nothing = client.get("/voice/items/new/")

    assert from_job.status_code == 200 and from_job.context["customer"] == customer
    assert nothing.status_code == 302 and nothing["Location"] == "/customers/"


# --- status, resolve, assign, follow-up --------------------------------------------------------------------


def test_the_owner_moves_the_item_and_a_bad_target_changes_nothing(client_for, sales_rep, voice):
    client = client_for(sales_rep)

    assert client.post(f"/voice/items/{voice.pk}/status/", {"to": "in_progress"}).status_code == 302
    voice.refresh_from_db()
    assert voice.status == VoiceStatus.IN_PROGRESS

    for bad in ({"to": "closed"}, {"to": "nonsense"}, {}):
        client.post(f"/voice/items/{voice.pk}/status/", bad)
        voice.refresh_from_db()
        assert voice.status == VoiceStatus.IN_PROGRESS


def test_a_technician_not_on_the_item_gets_403_for_every_action(client_for, technician, voice):
    client = client_for(technician)

    assert client.post(f"/voice/items/{voice.pk}/status/", {"to": "in_progress"}).status_code == 403
    assert client.post(f"/voice/items/{voice.pk}/resolve/", {"resolution": "x"}).status_code == 403
    assert client.post(f"/voice/items/{voice.pk}/assign/", {"assignee": technician.pk}).status_code == 403
    assert client.post(f"/voice/items/{voice.pk}/follow-up/", {}).status_code == 403
    voice.refresh_from_db()
    assert voice.status == VoiceStatus.OPEN and voice.assignee_id != technician.pk


def test_resolving_needs_a_resolution(client_for, advisor, voice):
    client = client_for(advisor)

    client.post(f"/voice/items/{voice.pk}/resolve/", {"resolution": "  "})
    voice.refresh_from_db()
    assert voice.status == VoiceStatus.OPEN

    client.post(f"/voice/items/{voice.pk}/resolve/", {"resolution": "お詫びの電話と再点検"})
    voice.refresh_from_db()
    assert voice.status == VoiceStatus.RESOLVED and voice.resolution == "お詫びの電話と再点検"


def test_assigning_through_the_page_and_refusing_a_stranger(client_for, advisor, technician, voice, other_branch_user):
    client = client_for(advisor)

    ok = client.post(
        f"/voice/items/{voice.pk}/assign/",
        {"assignee": advisor.pk, "co_assignee": technician.pk, "due_date": "2030-05-01"},
    )
    voice.refresh_from_db()
    assert ok.status_code == 302
    assert (voice.assignee, voice.co_assignee, voice.due_date) == (advisor, technician, date(2030, 5, 1))

    client.post(f"/voice/items/{voice.pk}/assign/", {"assignee": other_branch_user.pk})
    client.post(f"/voice/items/{voice.pk}/assign/", {"assignee": advisor.pk, "due_date": "not a date"})
    voice.refresh_from_db()
    assert voice.assignee == advisor and voice.due_date == date(2030, 5, 1)


def test_sales_confirm_the_follow_up_and_then_the_complaint_can_close(client_for, sales_rep, advisor, voice):
    services.resolve_voice(voice, resolution="再点検済み", by=advisor)
    client = client_for(sales_rep)

    client.post(f"/voice/items/{voice.pk}/status/", {"to": "closed"})
    voice.refresh_from_db()
    assert voice.status == VoiceStatus.RESOLVED

    assert client.post(f"/voice/items/{voice.pk}/follow-up/", {"note": "ご納得"}).status_code == 302
    client.post(f"/voice/items/{voice.pk}/status/", {"to": "closed"})
    voice.refresh_from_db()
    assert voice.customer_followed_up and voice.status == VoiceStatus.CLOSED


def test_an_advisor_may_not_confirm_the_sales_follow_up(client_for, advisor, voice):
    assert client_for(advisor).post(f"/voice/items/{voice.pk}/follow-up/", {}).status_code == 403


def page_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


# --- home panel and navigation -----------------------------------------------------------------------------


def test_the_home_page_lists_my_items_due_first(client_for, sales_rep, customer, advisor):
    for title, days in (("後で", 9), ("すぐ", 1), ("期限なし", None)):
        services.record_voice(
            by=advisor,
            customer=customer,
            source="phone",
            category="request",
            title=title,
            assignee=sales_rep,
            due_date=timezone.localdate() + timedelta(days=days) if days else None,
        )

    response = client_for(sales_rep).get("/")

    panel = next(panel for panel in response.context["panels"] if panel["template"].startswith("feedback/"))
    assert [voice.title for voice in panel["items"]] == ["すぐ", "後で", "期限なし"]
    assert panel["counts"]["total"] == 3
    page = response.content.decode()
    assert page.index("すぐ") < page.index("後で")


def test_the_navigation_offers_results_and_voice_and_the_customer_search_is_one_tap_away(client_for, technician):
    client = client_for(technician)
    home = client.get("/").content.decode()

    for url in ("/voice/results/", "/voice/items/", "/customers/"):
        assert f'href="{url}"' in home
    assert 'href="/customers/"' in client.get("/voice/items/").content.decode()


def test_the_voice_list_query_count_does_not_grow_with_the_items(client_for, sales_rep, advisor, branch):
    client = client_for(sales_rep)

    def record(count: int) -> None:
        for index in range(count):
            customer = CustomerFactory(branch=branch)
            job = delivered_job(customer=customer, sales_owner=sales_rep, advisor=advisor)
            services.record_voice(
                by=sales_rep,
                customer=customer,
                job=job,
                source="phone",
                category="request",
                title=f"依頼 {index}",
                assignee=advisor,
                co_assignee=sales_rep,
            )

    record(2)
    few = page_queries(client, "/voice/items/")
    record(12)
    many = page_queries(client, "/voice/items/")

    assert few == many


def test_the_admin_lists_customer_voice_and_moves_items_through_the_services(client, branch, voice, password):
    from tests.factories import UserFactory

    admin = UserFactory(email="admin@example.com", branch=branch, role="manager", is_staff=True, is_superuser=True)
    assert client.login(email=admin.email, password=password)
    for model in ("customervoice", "surveyinvitation", "surveyresponse", "surveyoptout"):
        assert client.get(f"/admin/feedback/{model}/").status_code == 200
    assert client.get(f"/admin/feedback/customervoice/{voice.pk}/change/").status_code == 200

    client.post("/admin/feedback/customervoice/", {"action": "start_work", "_selected_action": [voice.pk]})

    voice.refresh_from_db()
    assert voice.status == VoiceStatus.IN_PROGRESS
    assert voice.events.filter(kind="status", by=admin).exists()


def test_the_owner_corrects_what_was_recorded_and_the_history_says_what_changed(client_for, sales_rep, advisor, voice):
    response = client_for(advisor).post(
        f"/voice/items/{voice.pk}/edit/",
        {"category": "request", "title": "納車の遅れ（再確認）", "description": "詳細"},
    )

    voice.refresh_from_db()
    assert response.status_code == 302
    assert (voice.category, voice.title, voice.description) == ("request", "納車の遅れ（再確認）", "詳細")
    event = voice.events.get(kind="edited")
    assert event.by == advisor and "種類" in event.note and "概要" in event.note  # in the actor's language
    assert Notification.objects.filter(kind="voice_updated", recipient=sales_rep).exists()


def test_editing_needs_a_summary_and_a_known_category(client_for, advisor, voice):
    client = client_for(advisor)

    client.post(f"/voice/items/{voice.pk}/edit/", {"category": "request", "title": " "})
    client.post(f"/voice/items/{voice.pk}/edit/", {"category": "gossip", "title": "x"})

    voice.refresh_from_db()
    assert (voice.category, voice.title) == ("complaint", "納車が遅れた")
    assert not voice.events.filter(kind="edited").exists()


def test_a_technician_not_on_the_item_may_not_edit_it_and_another_branch_gets_404(
    client_for, technician, other_branch_user, voice
):
    data = {"category": "praise", "title": "x"}

    assert client_for(technician).post(f"/voice/items/{voice.pk}/edit/", data).status_code == 403
    assert client_for(other_branch_user).post(f"/voice/items/{voice.pk}/edit/", data).status_code == 404
    voice.refresh_from_db()
    assert voice.title == "納車が遅れた"
