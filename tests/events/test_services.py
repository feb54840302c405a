"""The event services: lifecycle, who hears what, validation, reminders, action items."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.models import Department, Role
from dealership.models import Notification
from events import services
from events.models import RSVP, ActionItem, EventKind, EventParticipant, Organiser, TeamEvent
from events.tasks import send_event_reminders
from tests.factories import UserFactory

from .conftest import tomorrow_at

# The refusals below are matched in English; the staff default is Japanese.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


def kinds_for(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("created_at", "id").values_list("kind", flat=True))


def test_planning_an_event_invites_the_departments_and_tells_each_invitee_but_not_the_organizer(
    plan, manager, sales_rep, technician, advisor, other_branch_user
):
    event = plan()

    invited = set(EventParticipant.objects.filter(event=event, invited=True).values_list("user__email", flat=True))
    assert invited == {manager.email, sales_rep.email, technician.email, advisor.email}
    assert kinds_for(sales_rep) == [Notification.Kind.EVENT_INVITED]
    assert kinds_for(technician) == [Notification.Kind.EVENT_INVITED]
    assert kinds_for(manager) == []
    assert kinds_for(other_branch_user) == []
    assert EventParticipant.objects.get(event=event, user=manager).rsvp == RSVP.YES
    note = Notification.objects.get(recipient=sales_rep)
    assert "ハイブリッド車の基礎 勉強会" in note.text
    assert note.url == event.get_absolute_url()


def test_the_invitation_e_mail_goes_out_in_the_recipients_language(plan, sales_rep, django_capture_on_commit_callbacks):
    sales_rep.language = "en"
    sales_rep.save()

    with django_capture_on_commit_callbacks(execute=True):
        plan()

    sent = [message for message in mail.outbox if sales_rep.email in message.to]
    assert len(sent) == 1
    assert "[Team event]" in sent[0].subject
    assert "Study session" in sent[0].body


def test_a_department_invitation_covers_only_that_department(plan, sales_rep, technician):
    event = plan(invited_departments=[Department.SERVICE])

    assert EventParticipant.objects.filter(event=event, user=technician, invited=True).exists()
    assert not EventParticipant.objects.filter(event=event, user=sales_rep).exists()


def test_changing_the_time_tells_the_participants_once_and_bumps_the_calendar_sequence(plan, manager, sales_rep):
    event = plan()
    Notification.objects.all().delete()

    services.update_event(
        event,
        by=manager,
        kind=event.kind,
        title=event.title,
        starts_at=event.starts_at + timedelta(hours=1),
        ends_at=event.ends_at + timedelta(hours=1),
        agenda=event.agenda,
        place=event.place,
        invited_departments=event.invited_departments,
    )

    assert kinds_for(sales_rep) == [Notification.Kind.EVENT_CHANGED]
    assert "19:00" in Notification.objects.get(recipient=sales_rep).text
    event.refresh_from_db()
    assert event.sequence == 1


def test_changing_only_the_agenda_tells_nobody(plan, manager, sales_rep):
    event = plan()
    Notification.objects.all().delete()

    services.update_event(
        event,
        by=manager,
        kind=event.kind,
        title=event.title,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        agenda="新しい議題",
        place=event.place,
        invited_departments=event.invited_departments,
    )

    assert Notification.objects.count() == 0
    event.refresh_from_db()
    assert event.agenda == "新しい議題"


def test_someone_invited_by_a_change_gets_an_invitation_not_a_change_notice(plan, manager, sales_rep, technician):
    event = plan(invited_departments=[Department.SALES])
    Notification.objects.all().delete()

    services.update_event(
        event,
        by=manager,
        kind=event.kind,
        title=event.title,
        starts_at=event.starts_at + timedelta(days=1),
        ends_at=event.ends_at + timedelta(days=1),
        invited_departments=[Department.SALES, Department.SERVICE],
    )

    assert kinds_for(technician) == [Notification.Kind.EVENT_INVITED]
    assert kinds_for(sales_rep) == [Notification.Kind.EVENT_CHANGED]


def test_a_department_no_longer_invited_keeps_its_answers_but_is_not_invited(plan, manager, sales_rep, technician):
    event = plan()
    services.rsvp(event, by=technician, answer=RSVP.MAYBE)

    services.update_event(
        event,
        by=manager,
        kind=event.kind,
        title=event.title,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        invited_departments=[Department.SALES],
    )

    row = EventParticipant.objects.get(event=event, user=technician)
    assert (row.invited, row.rsvp) == (False, RSVP.MAYBE)


def test_cancelling_tells_everyone_who_had_not_declined_with_the_reason(plan, manager, sales_rep, technician):
    event = plan()
    services.rsvp(event, by=technician, answer=RSVP.NO)
    Notification.objects.all().delete()

    services.cancel_event(event, by=manager, reason="台風のため")

    assert kinds_for(sales_rep) == [Notification.Kind.EVENT_CHANGED]
    assert "台風のため" in Notification.objects.get(recipient=sales_rep).text
    assert kinds_for(technician) == []
    event.refresh_from_db()
    assert event.is_cancelled
    with pytest.raises(services.EventError):
        services.cancel_event(event, by=manager)


def test_a_sales_rep_cannot_plan_an_event_until_a_manager_names_them_organiser(manager, sales_rep):
    arguments = {
        "by": sales_rep,
        "branch": sales_rep.branch,
        "kind": EventKind.BRIEFING,
        "title": "営業の一日 説明会",
        "starts_at": tomorrow_at(9),
        "ends_at": tomorrow_at(10),
    }
    with pytest.raises(PermissionDenied):
        services.plan_event(**arguments)

    services.grant_organiser(by=manager, user=sales_rep)
    sales_rep = type(sales_rep).objects.get(pk=sales_rep.pk)  # a fresh user, as in the next request

    event = services.plan_event(**{**arguments, "by": sales_rep})
    assert event.organizer == sales_rep
    assert Organiser.objects.filter(user=sales_rep, granted_by=manager).exists()


def test_only_a_manager_names_organisers(sales_rep, technician):
    with pytest.raises(PermissionDenied):
        services.grant_organiser(by=sales_rep, user=technician)


def test_an_organiser_runs_their_own_events_but_not_the_managers(plan, manager, technician, sales_rep):
    services.grant_organiser(by=manager, user=technician)
    technician = type(technician).objects.get(pk=technician.pk)
    managers_event = plan()
    own = services.plan_event(
        by=technician,
        branch=technician.branch,
        kind=EventKind.STUDY,
        title="タイヤの見方",
        starts_at=tomorrow_at(17),
        ends_at=tomorrow_at(18),
    )

    services.cancel_event(own, by=technician)
    with pytest.raises(PermissionDenied):
        services.cancel_event(managers_event, by=technician)


def test_an_event_must_end_after_it_starts(plan):
    with pytest.raises(services.EventError, match="end after it starts"):
        plan(ends_at=tomorrow_at(17))
    assert not TeamEvent.objects.exists()


def test_shadowing_refuses_a_pair_from_the_same_department(plan, technician, other_technician):
    with pytest.raises(services.EventError, match="same department"):
        plan(kind=EventKind.SHADOWING, pairs=[services.Pair(visitor=technician, host=other_technician)])
    assert not TeamEvent.objects.exists()


def test_shadowing_pairs_each_visitor_with_a_host_of_the_other_department(plan, sales_rep, technician):
    event = plan(
        kind=EventKind.SHADOWING,
        invited_departments=[],
        pairs=[services.Pair(visitor=technician, host=sales_rep)],
    )

    row = EventParticipant.objects.get(event=event, user=technician)
    assert row.host == sales_rep
    assert EventParticipant.objects.get(event=event, user=sales_rep).host is None
    assert Notification.objects.filter(recipient=technician, kind=Notification.Kind.EVENT_INVITED).exists()


def test_pairs_are_refused_for_events_that_are_not_shadowing(plan, sales_rep, technician):
    with pytest.raises(services.EventError, match="Only job shadowing"):
        plan(pairs=[services.Pair(visitor=technician, host=sales_rep)])


def test_people_of_another_branch_cannot_be_invited(plan, other_branch_user):
    with pytest.raises(services.EventError, match="branch"):
        plan(invitees=[other_branch_user])


def test_anyone_of_the_branch_may_answer_and_change_their_answer(plan, sales_rep, advisor):
    event = plan(invited_departments=[Department.SALES])

    services.rsvp(event, by=advisor, answer=RSVP.YES)
    services.rsvp(event, by=sales_rep, answer=RSVP.MAYBE)
    services.rsvp(event, by=sales_rep, answer=RSVP.NO)

    assert EventParticipant.objects.get(event=event, user=advisor).invited is False
    assert EventParticipant.objects.get(event=event, user=advisor).rsvp == RSVP.YES
    assert EventParticipant.objects.get(event=event, user=sales_rep).rsvp == RSVP.NO


def test_another_branch_cannot_answer_and_nobody_answers_a_cancelled_event(plan, manager, sales_rep, other_branch_user):
    event = plan()
    with pytest.raises(PermissionDenied):
        services.rsvp(event, by=other_branch_user, answer=RSVP.YES)
    services.cancel_event(event, by=manager)
    with pytest.raises(PermissionDenied):
        services.rsvp(event, by=sales_rep, answer=RSVP.YES)


def test_a_nonsense_answer_is_refused(plan, sales_rep):
    with pytest.raises(services.EventError):
        services.rsvp(plan(), by=sales_rep, answer="perhaps")


def in_hours(hours: float):
    return timezone.now() + timedelta(hours=hours)


def test_the_reminder_goes_once_to_each_person_not_declining(plan, manager, sales_rep, technician, advisor):
    event = plan(starts_at=in_hours(20), ends_at=in_hours(21))
    services.rsvp(event, by=advisor, answer=RSVP.NO)
    Notification.objects.all().delete()

    first = send_event_reminders.delay().get()
    second = send_event_reminders.delay().get()

    assert (first, second) == (3, 0)  # manager, sales rep, technician
    assert kinds_for(sales_rep) == [Notification.Kind.EVENT_REMINDER]
    assert kinds_for(technician) == [Notification.Kind.EVENT_REMINDER]
    assert kinds_for(advisor) == []
    assert kinds_for(manager) == [Notification.Kind.EVENT_REMINDER]


def test_no_reminder_before_the_day_before_nor_for_a_cancelled_event(plan, manager, sales_rep):
    later = plan(starts_at=tomorrow_at(18) + timedelta(days=3), ends_at=tomorrow_at(19) + timedelta(days=3))
    cancelled = plan()
    services.cancel_event(cancelled, by=manager)
    Notification.objects.all().delete()

    assert services.send_event_reminders() == 0

    with time_machine.travel(later.starts_at - timedelta(hours=20)):
        assert services.send_event_reminders() == 2
    assert kinds_for(sales_rep) == [Notification.Kind.EVENT_REMINDER]


def test_an_event_moved_to_another_day_is_reminded_again(plan, manager, sales_rep):
    event = plan(invited_departments=[Department.SALES], starts_at=in_hours(20), ends_at=in_hours(21))
    assert services.send_event_reminders() == 2
    services.update_event(
        event,
        by=manager,
        kind=event.kind,
        title=event.title,
        starts_at=event.starts_at + timedelta(days=2),
        ends_at=event.ends_at + timedelta(days=2),
        invited_departments=event.invited_departments,
    )
    Notification.objects.all().delete()

    with time_machine.travel(event.starts_at - timedelta(hours=12)):
        assert services.send_event_reminders() == 2


def test_attendance_is_taken_only_by_organisers_and_not_before_the_event_day(plan, manager, sales_rep, technician):
    event = plan()
    with pytest.raises(PermissionDenied):
        services.record_attendance(event, by=sales_rep, attendees=[sales_rep])
    with pytest.raises(services.EventError, match="day of the event"):
        services.record_attendance(event, by=manager, attendees=[sales_rep])

    with time_machine.travel(event.starts_at + timedelta(minutes=30)):
        services.record_attendance(event, by=manager, attendees=[sales_rep, technician], minutes="議事録です")
        services.record_attendance(event, by=manager, attendees=[technician], minutes="議事録です")

    came = set(EventParticipant.objects.filter(event=event, attended=True).values_list("user_id", flat=True))
    assert came == {technician.pk}
    event.refresh_from_db()
    assert event.minutes == "議事録です"


def test_a_walk_in_of_the_branch_is_added_when_attendance_is_taken(plan, manager, advisor):
    event = plan(invited_departments=[Department.SALES])

    with time_machine.travel(event.starts_at):
        services.record_attendance(event, by=manager, attendees=[advisor])

    row = EventParticipant.objects.get(event=event, user=advisor)
    assert (row.invited, row.attended) == (False, True)


def test_an_action_item_alerts_its_assignee_and_is_done_once(plan, manager, sales_rep):
    event = plan()
    Notification.objects.all().delete()

    item = services.add_action_item(
        event,
        by=manager,
        text="お客様向けFAQを作る",
        assignee=sales_rep,
        due_date=timezone.localdate() + timedelta(days=7),
    )

    assert kinds_for(sales_rep) == [Notification.Kind.ACTION_ITEM]
    assert Notification.objects.get(recipient=sales_rep).url == item.get_absolute_url()
    services.complete_action_item(item, by=sales_rep)
    first_done_at = ActionItem.objects.get(pk=item.pk).done_at
    services.complete_action_item(item, by=manager)
    assert ActionItem.objects.get(pk=item.pk).done_at == first_done_at
    assert ActionItem.objects.get(pk=item.pk).done_by == sales_rep


def test_only_the_assignee_or_the_organisers_finish_an_action_item(plan, manager, sales_rep, technician):
    item = services.add_action_item(plan(), by=manager, text="工具の説明資料", assignee=sales_rep)
    with pytest.raises(PermissionDenied):
        services.complete_action_item(item, by=technician)


def test_an_action_item_needs_text_and_someone_of_the_branch(plan, manager, other_branch_user, sales_rep):
    event = plan()
    with pytest.raises(services.EventError):
        services.add_action_item(event, by=manager, text="  ", assignee=sales_rep)
    with pytest.raises(services.EventError):
        services.add_action_item(event, by=manager, text="資料", assignee=other_branch_user)
    assert not ActionItem.objects.exists()


def test_an_action_item_may_name_a_customer_voice_item(plan, manager, sales_rep):
    item = services.add_action_item(plan(), by=manager, text="苦情の再発防止策", assignee=sales_rep, voice_item_id=42)
    assert ActionItem.objects.get(pk=item.pk).voice_item_id == 42


def test_a_material_of_an_unknown_type_is_refused(plan):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(services.EventError):
        plan(materials=[SimpleUploadedFile("tool.exe", b"MZ...")])
    assert not TeamEvent.objects.exists()


def test_inactive_staff_are_not_invited(plan, branch):
    gone = UserFactory(branch=branch, role=Role.SALES_REP, department=Department.SALES, is_active=False)
    event = plan()
    assert not EventParticipant.objects.filter(event=event, user=gone).exists()


def test_someone_who_said_they_come_without_an_invitation_hears_of_a_cancellation(plan, manager, advisor):
    event = plan(invited_departments=[Department.SALES])
    services.rsvp(event, by=advisor, answer=RSVP.YES)

    services.cancel_event(event, by=manager)

    assert kinds_for(advisor) == [Notification.Kind.EVENT_CHANGED]


def test_a_cancelled_event_cannot_be_edited(plan, manager):
    event = plan()
    services.cancel_event(event, by=manager)
    with pytest.raises(services.EventError, match="cancelled"):
        services.update_event(
            event, by=manager, kind=event.kind, title="復活", starts_at=event.starts_at, ends_at=event.ends_at
        )
    assert TeamEvent.objects.get(pk=event.pk).title != "復活"
