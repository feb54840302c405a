"""The event screens through the client: allowed, forbidden (403 / another branch 404), bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import Department
from dealership.models import Notification
from events import services
from events.models import RSVP, ActionItem, EventKind, EventMaterial, EventParticipant, Organiser, TeamEvent

from .conftest import tomorrow_at

pytestmark = pytest.mark.django_db


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def form_data(**overrides) -> dict:
    data = {
        "kind": EventKind.STUDY,
        "title": "ブレーキの仕組み 勉強会",
        "starts_at": local(tomorrow_at(18)),
        "ends_at": local(tomorrow_at(19)),
        "place": "工場 2番ピット",
        "agenda": "実車でブレーキを分解して見る",
        "invited_departments": [Department.SALES, Department.SERVICE],
    }
    data.update(overrides)
    return data


# --- list, month, detail ----------------------------------------------------


def test_everyone_of_the_branch_sees_upcoming_events_but_not_another_branchs(
    client_for, plan, sales_rep, other_branch_manager
):
    ours = plan()
    services.plan_event(
        by=other_branch_manager,
        branch=other_branch_manager.branch,
        kind=EventKind.SOCIAL,
        title="横浜 懇親会",
        starts_at=tomorrow_at(19),
        ends_at=tomorrow_at(21),
    )

    response = client_for(sales_rep).get(reverse("events:event_list"))

    assert response.status_code == 200
    assert ours.title in response.content.decode()
    assert "横浜 懇親会" not in response.content.decode()
    assert response.context["can_plan"] is False


def test_past_events_are_listed_apart_with_who_came(client_for, plan, manager, sales_rep):
    event = plan(starts_at=timezone.now() - timedelta(days=2), ends_at=timezone.now() - timedelta(days=2, hours=-1))
    services.record_attendance(event, by=manager, attendees=[sales_rep])

    upcoming = client_for(sales_rep).get(reverse("events:event_list"))
    past = client_for(sales_rep).get(reverse("events:event_list"), {"when": "past"})

    assert event.title not in upcoming.content.decode()
    assert event.title in past.content.decode()
    assert past.context["events"][0].came == 1


def test_the_event_list_costs_the_same_queries_for_one_event_or_many(
    client_for, plan, sales_rep, django_assert_max_num_queries
):
    plan()
    client = client_for(sales_rep)
    client.get(reverse("events:event_list"))
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("events:event_list"))
    for hour in range(8, 16):
        plan(title=f"勉強会 {hour}", starts_at=tomorrow_at(hour), ends_at=tomorrow_at(hour, 30))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("events:event_list"))
    assert len(response.context["events"]) == 9


def test_the_month_view_places_events_on_their_local_day(client_for, plan, sales_rep):
    event = plan()
    day = timezone.localdate(event.starts_at)

    response = client_for(sales_rep).get(reverse("events:event_month"), {"month": day.strftime("%Y-%m")})

    assert response.status_code == 200
    days = [cell for week in response.context["weeks"] for cell in week if cell.day == day]
    assert [e.title for e in days[0].events] == [event.title]


def test_a_nonsense_month_falls_back_to_this_month(client_for, sales_rep):
    response = client_for(sales_rep).get(reverse("events:event_month"), {"month": "9999-99"})
    assert response.status_code == 200
    assert response.context["month"] == timezone.localdate().replace(day=1)


def test_the_event_page_is_404_for_another_branch(client_for, plan, other_branch_user):
    event = plan()
    assert client_for(other_branch_user).get(event.get_absolute_url()).status_code == 404
    assert client_for(other_branch_user).get(reverse("events:event_ics", args=[event.pk])).status_code == 404


def test_the_event_page_shows_staff_their_answer_buttons_but_no_organiser_tools(client_for, plan, technician):
    event = plan()

    response = client_for(technician).get(event.get_absolute_url())

    assert response.status_code == 200
    assert response.context["can_rsvp"] is True
    assert response.context["can_manage"] is False
    assert "attendance_form" not in response.context
    assert reverse("events:event_rsvp", args=[event.pk]) in response.content.decode()


def test_signed_out_visitors_are_sent_to_the_login_page(client, plan):
    event = plan()
    response = client.get(event.get_absolute_url())
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- plan, edit, cancel ------------------------------------------------------------


def test_a_manager_plans_an_event_with_materials_through_the_form(client_for, manager, sales_rep, technician):
    data = form_data(materials=[SimpleUploadedFile("資料.pdf", b"%PDF-1.4 test", content_type="application/pdf")])

    response = client_for(manager).post(reverse("events:event_create"), data)

    event = TeamEvent.objects.get()
    assert response.status_code == 302
    assert response["Location"] == event.get_absolute_url()
    assert event.organizer == manager
    assert timezone.localtime(event.starts_at).hour == 18
    assert EventMaterial.objects.get(event=event).original_name == "資料.pdf"
    assert Notification.objects.filter(recipient=technician, kind=Notification.Kind.EVENT_INVITED).exists()


def test_a_technician_may_not_open_the_planning_form(client_for, technician):
    assert client_for(technician).get(reverse("events:event_create")).status_code == 403
    assert client_for(technician).post(reverse("events:event_create"), form_data()).status_code == 403
    assert not TeamEvent.objects.exists()


def test_a_named_organiser_may_plan(client_for, manager, technician):
    Organiser.objects.create(user=technician, granted_by=manager)
    response = client_for(technician).post(reverse("events:event_create"), form_data())
    assert response.status_code == 302
    assert TeamEvent.objects.get().organizer == technician


def test_the_form_refuses_an_end_before_the_start_with_a_message(client_for, manager):
    response = client_for(manager).post(reverse("events:event_create"), form_data(ends_at=local(tomorrow_at(17))))
    assert response.status_code == 400
    assert "終了時刻は開始時刻より後にしてください。" in response.context["form"].errors["ends_at"]
    assert not TeamEvent.objects.exists()


def test_the_form_refuses_a_shadowing_pair_of_one_department_with_a_message(
    client_for, manager, technician, other_technician
):
    response = client_for(manager).post(
        reverse("events:event_create"),
        form_data(kind=EventKind.SHADOWING, visitor_0=technician.pk, host_0=other_technician.pk),
    )
    assert response.status_code == 400
    errors = " ".join(response.context["form"].non_field_errors())
    assert "同じ部門です" in errors
    assert not TeamEvent.objects.exists()


def test_the_form_pairs_a_technician_with_a_sales_host(client_for, manager, technician, sales_rep):
    response = client_for(manager).post(
        reverse("events:event_create"),
        form_data(kind=EventKind.SHADOWING, invited_departments=[], visitor_0=technician.pk, host_0=sales_rep.pk),
    )
    assert response.status_code == 302
    assert EventParticipant.objects.get(user=technician).host == sales_rep


def test_the_form_refuses_a_forged_person_id_and_an_unknown_file_type(client_for, manager):
    response = client_for(manager).post(
        reverse("events:event_create"),
        form_data(invitees=["９"], materials=[SimpleUploadedFile("x.exe", b"MZ")]),
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"invitees", "materials"}


def test_the_manager_edits_the_time_and_participants_are_told(client_for, plan, manager, sales_rep):
    event = plan()
    Notification.objects.all().delete()

    response = client_for(manager).post(
        reverse("events:event_edit", args=[event.pk]),
        form_data(title=event.title, starts_at=local(tomorrow_at(17)), ends_at=local(tomorrow_at(18))),
    )

    assert response.status_code == 302
    event.refresh_from_db()
    assert timezone.localtime(event.starts_at).hour == 17
    assert Notification.objects.filter(recipient=sales_rep, kind=Notification.Kind.EVENT_CHANGED).count() == 1


def test_the_edit_form_keeps_the_shadowing_pairs(client_for, plan, manager, technician, sales_rep):
    event = plan(kind=EventKind.SHADOWING, pairs=[services.Pair(visitor=technician, host=sales_rep)])
    response = client_for(manager).get(reverse("events:event_edit", args=[event.pk]))
    assert response.status_code == 200
    assert response.context["form"]["visitor_0"].value() == technician.pk
    assert response.context["form"]["host_0"].value() == sales_rep.pk


def test_staff_cannot_edit_and_another_branch_gets_404(client_for, plan, sales_rep, other_branch_manager):
    event = plan()
    url = reverse("events:event_edit", args=[event.pk])
    assert client_for(sales_rep).post(url, form_data(title="乗っ取り")).status_code == 403
    assert client_for(other_branch_manager).post(url, form_data(title="乗っ取り")).status_code == 404
    event.refresh_from_db()
    assert event.title != "乗っ取り"


def test_cancelling_asks_first_then_cancels_and_tells_the_invitees(client_for, plan, manager, sales_rep):
    event = plan()
    Notification.objects.all().delete()
    client = client_for(manager)
    url = reverse("events:event_cancel", args=[event.pk])

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert TeamEvent.objects.get(pk=event.pk).cancelled_at is None

    response = client.post(url, {"reason": "講師の都合"})

    assert response.status_code == 302
    assert TeamEvent.objects.get(pk=event.pk).is_cancelled
    assert Notification.objects.filter(recipient=sales_rep, kind=Notification.Kind.EVENT_CHANGED).exists()


def test_staff_cannot_cancel(client_for, plan, sales_rep, other_branch_manager):
    event = plan()
    url = reverse("events:event_cancel", args=[event.pk])
    assert client_for(sales_rep).post(url).status_code == 403
    assert client_for(other_branch_manager).post(url).status_code == 404
    assert not TeamEvent.objects.get(pk=event.pk).is_cancelled


# --- RSVP -------------------------------------------------------------------------


def test_one_click_answers_and_returns_to_the_page_it_came_from(client_for, plan, technician):
    event = plan()
    response = client_for(technician).post(
        reverse("events:event_rsvp", args=[event.pk]), {"answer": "yes", "next": reverse("events:event_list")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("events:event_list")
    assert EventParticipant.objects.get(event=event, user=technician).rsvp == RSVP.YES


def test_an_answer_from_outside_is_not_followed_off_site(client_for, plan, technician):
    event = plan()
    response = client_for(technician).post(
        reverse("events:event_rsvp", args=[event.pk]), {"answer": "no", "next": "https://evil.example/"}
    )
    assert response["Location"] == event.get_absolute_url()


def test_a_bad_answer_changes_nothing(client_for, plan, technician):
    event = plan()
    response = client_for(technician).post(reverse("events:event_rsvp", args=[event.pk]), {"answer": "always"})
    assert response.status_code in (302, 303)
    assert EventParticipant.objects.get(event=event, user=technician).rsvp == RSVP.NONE


def test_another_branch_cannot_answer_and_a_cancelled_event_takes_no_answers(
    client_for, plan, manager, technician, other_branch_user
):
    event = plan()
    url = reverse("events:event_rsvp", args=[event.pk])
    assert client_for(other_branch_user).post(url, {"answer": "yes"}).status_code == 404
    services.cancel_event(event, by=manager)
    assert client_for(technician).post(url, {"answer": "yes"}).status_code == 403
    assert EventParticipant.objects.get(event=event, user=technician).rsvp == RSVP.NONE


def test_rsvp_is_post_only(client_for, plan, technician):
    event = plan()
    assert client_for(technician).get(reverse("events:event_rsvp", args=[event.pk])).status_code == 405


# --- attendance, minutes, action items --------------------------------------------


def test_the_manager_marks_attendance_and_writes_minutes_on_the_day(client_for, plan, manager, sales_rep, technician):
    event = plan()
    with time_machine.travel(event.ends_at):
        response = client_for(manager).post(
            reverse("events:event_attendance", args=[event.pk]),
            {"attendees": [sales_rep.pk, technician.pk], "minutes": "次回は整備士が講師"},
        )
    assert response.status_code == 302
    assert set(EventParticipant.objects.filter(attended=True).values_list("user_id", flat=True)) == {
        sales_rep.pk,
        technician.pk,
    }
    assert TeamEvent.objects.get(pk=event.pk).minutes == "次回は整備士が講師"


def test_only_organisers_mark_attendance(client_for, plan, sales_rep, other_branch_manager):
    event = plan()
    url = reverse("events:event_attendance", args=[event.pk])
    with time_machine.travel(event.ends_at):
        assert client_for(sales_rep).post(url, {"attendees": [sales_rep.pk]}).status_code == 403
        assert client_for(other_branch_manager).post(url, {"attendees": [sales_rep.pk]}).status_code == 404
    assert not EventParticipant.objects.filter(attended=True).exists()


def test_attendance_before_the_event_day_is_refused_with_a_message(client_for, plan, manager, sales_rep):
    event = plan(starts_at=tomorrow_at(18) + timedelta(days=2), ends_at=tomorrow_at(19) + timedelta(days=2))
    response = client_for(manager).post(
        reverse("events:event_attendance", args=[event.pk]), {"attendees": [sales_rep.pk]}
    )
    assert response.status_code == 400
    assert "出席はイベント当日から記録できます。" in " ".join(response.context["attendance_form"].non_field_errors())


def test_attendance_refuses_someone_of_another_branch(client_for, plan, manager, other_branch_user):
    event = plan()
    with time_machine.travel(event.ends_at):
        response = client_for(manager).post(
            reverse("events:event_attendance", args=[event.pk]), {"attendees": [other_branch_user.pk]}
        )
    assert response.status_code == 400
    assert not EventParticipant.objects.filter(user=other_branch_user).exists()


def test_the_manager_adds_an_action_item_the_assignee_sees_on_their_home_page(client_for, plan, manager, sales_rep):
    event = plan()
    due = timezone.localdate() + timedelta(days=7)
    response = client_for(manager).post(
        reverse("events:action_item_add", args=[event.pk]),
        {
            "text": "整備の説明資料を営業向けに作る",
            "assignee": sales_rep.pk,
            "due_date": due.isoformat(),
            "voice_item_id": "7",
        },
    )
    assert response.status_code == 302
    item = ActionItem.objects.get()
    assert (item.assignee, item.due_date, item.voice_item_id) == (sales_rep, due, 7)

    home = client_for(sales_rep).get(reverse("home"))
    assert "整備の説明資料を営業向けに作る" in home.content.decode()


def test_staff_cannot_add_action_items_and_bad_input_is_refused(client_for, plan, manager, sales_rep):
    event = plan()
    url = reverse("events:action_item_add", args=[event.pk])
    assert client_for(sales_rep).post(url, {"text": "x", "assignee": sales_rep.pk}).status_code == 403
    response = client_for(manager).post(url, {"text": "", "assignee": "abc", "voice_item_id": "-3"})
    assert response.status_code == 400
    assert set(response.context["action_form"].errors) == {"text", "assignee", "voice_item_id"}
    assert not ActionItem.objects.exists()


def test_the_assignee_marks_their_action_item_done_and_it_leaves_their_home_page(
    client_for, plan, manager, sales_rep, technician
):
    item = services.add_action_item(plan(), by=manager, text="試乗会の段取り", assignee=sales_rep)
    url = reverse("events:action_item_done", args=[item.pk])

    assert client_for(technician).post(url).status_code == 403
    response = client_for(sales_rep).post(url, {"next": reverse("home")})

    assert response["Location"] == reverse("home")
    assert ActionItem.objects.get(pk=item.pk).is_done
    home = client_for(sales_rep).get(reverse("home"))
    assert [item.text for item in home.context["panels"][-1]["items"]] == []


def test_an_action_item_of_another_branch_is_404(client_for, plan, manager, sales_rep, other_branch_user):
    item = services.add_action_item(plan(), by=manager, text="資料", assignee=sales_rep)
    assert client_for(other_branch_user).post(reverse("events:action_item_done", args=[item.pk])).status_code == 404


def test_the_home_page_shows_my_next_events_in_constant_queries(
    client_for, plan, sales_rep, django_assert_max_num_queries
):
    plan()
    client = client_for(sales_rep)
    client.get(reverse("home"))
    with django_assert_max_num_queries(30) as few:
        response = client.get(reverse("home"))
    assert "ハイブリッド車の基礎 勉強会" in response.content.decode()
    for hour in range(8, 14):
        plan(title=f"説明会 {hour}", starts_at=tomorrow_at(hour), ends_at=tomorrow_at(hour, 30))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("home"))


# --- materials -------------------------------------------------------------------


def test_materials_download_only_for_the_branch(client_for, manager, sales_rep, other_branch_user):
    client_for(manager).post(
        reverse("events:event_create"),
        form_data(materials=[SimpleUploadedFile("手順.txt", "点検手順".encode(), content_type="text/plain")]),
    )
    material = EventMaterial.objects.get()

    response = client_for(sales_rep).get(material.get_absolute_url())
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == "点検手順".encode()
    assert response["Content-Disposition"].startswith("attachment")
    assert client_for(other_branch_user).get(material.get_absolute_url()).status_code == 404


# --- organisers ---------------------------------------------------------------------


def test_a_manager_names_and_removes_an_organiser(client_for, manager, technician):
    client = client_for(manager)
    assert client.post(reverse("events:organisers"), {"user": technician.pk}).status_code == 302
    assert Organiser.objects.filter(user=technician).exists()
    assert client.post(reverse("events:organiser_remove", args=[technician.pk])).status_code == 302
    assert not Organiser.objects.filter(user=technician).exists()


def test_staff_cannot_name_organisers_and_another_branch_cannot_be_named(
    client_for, manager, sales_rep, technician, other_branch_user
):
    assert client_for(sales_rep).post(reverse("events:organisers"), {"user": technician.pk}).status_code == 403
    response = client_for(manager).post(reverse("events:organisers"), {"user": other_branch_user.pk})
    assert response.status_code == 400
    assert not Organiser.objects.exists()


def test_the_manager_removes_a_material_and_staff_cannot(client_for, manager, sales_rep, other_branch_manager):
    client_for(manager).post(
        reverse("events:event_create"),
        form_data(materials=[SimpleUploadedFile("古い資料.pdf", b"%PDF-1.4", content_type="application/pdf")]),
    )
    material = EventMaterial.objects.get()
    url = reverse("events:material_remove", args=[material.event_id, material.pk])

    assert client_for(sales_rep).post(url).status_code == 403
    assert client_for(other_branch_manager).post(url).status_code == 404
    assert client_for(manager).get(url).status_code == 405
    assert EventMaterial.objects.exists()
    assert client_for(manager).post(url).status_code == 302
    assert not EventMaterial.objects.exists()


def test_the_event_page_costs_the_same_queries_for_few_or_many_participants_and_items(
    client_for, plan, manager, branch, django_assert_max_num_queries
):
    from tests.factories import UserFactory

    event = plan()
    client = client_for(manager)
    client.get(event.get_absolute_url())
    with django_assert_max_num_queries(20) as few:
        client.get(event.get_absolute_url())
    for index in range(6):
        person = UserFactory(branch=branch, department=Department.SALES)
        services.rsvp(event, by=person, answer=RSVP.YES)
        services.add_action_item(event, by=manager, text=f"宿題 {index}", assignee=person)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(event.get_absolute_url())
    assert len(response.context["action_items"]) == 6
