"""The team events moved out of goals (issue 18) with every row, and what points at them still finds them.

The tables keep their names, so the move is state only; what does change is
the content type's app label, through which notifications (and permissions)
point at an event. These tests migrate the database back to before the move,
write rows the old way, and migrate forward again.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.models import User
from dealership.models import Notification
from dealership.notifications import still_visible
from events.models import ActionItem, TeamEvent

BEFORE_THE_MOVE = [("goals", "0003_dates_in_portal_range"), ("events", None)]
TABLES = [
    "goals_teamevent",
    "goals_eventparticipant",
    "goals_eventmaterial",
    "goals_actionitem",
    "goals_organiser",
    "goals_calendarfeed",
]


def counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        found = {}
        for table in TABLES:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608 (names above)
            found[table] = cursor.fetchone()[0]
    return found


def migrate_back_then_forward(write_old_rows) -> object:
    """Migrate to before the move, call `write_old_rows(old_apps)`, migrate to the latest; return what it returned."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_THE_MOVE)
    try:
        old_apps = executor.loader.project_state(BEFORE_THE_MOVE[0]).apps
        written = write_old_rows(old_apps)
        executor.loader.build_graph()
    finally:
        executor.migrate(executor.loader.graph.leaf_nodes())
        # The running process cached the rows by label before they moved.
        ContentType.objects.clear_cache()
    return written


def old_event(old_apps, branch, manager):
    start = timezone.now() + timedelta(days=2)
    OldEvent = old_apps.get_model("goals", "TeamEvent")
    OldParticipant = old_apps.get_model("goals", "EventParticipant")
    OldActionItem = old_apps.get_model("goals", "ActionItem")
    event = OldEvent.objects.create(
        branch_id=branch.pk,
        title="新型車勉強会",
        place="2階会議室",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
    )
    OldParticipant.objects.create(event=event, user_id=manager.pk, rsvp="yes")
    item = OldActionItem.objects.create(event=event, text="資料を配る", assignee_id=manager.pk)
    return event, item


@pytest.mark.django_db(transaction=True)
def test_the_move_keeps_every_row_and_the_notifications_still_open_their_events(branch, manager, sales_rep):
    def write(old_apps):
        event, item = old_event(old_apps, branch, manager)
        event_type = ContentType.objects.get(app_label="goals", model="teamevent")
        item_type = ContentType.objects.get(app_label="goals", model="actionitem")
        for target_type, target_id in ((event_type, event.pk), (item_type, item.pk)):
            Notification.objects.create(
                recipient=sales_rep,
                kind=Notification.Kind.EVENT_INVITED,
                template="新型車勉強会",
                url=f"/team/events/{event.pk}/",
                target_type=target_type,
                target_id=target_id,
            )
        sales_rep.user_permissions.add(Permission.objects.get(content_type=event_type, codename="view_teamevent"))
        return event.pk, item.pk, event_type.pk, counts()

    event_pk, item_pk, type_pk, before = migrate_back_then_forward(write)

    assert counts() == before
    assert before["goals_teamevent"] == before["goals_actionitem"] == before["goals_eventparticipant"] == 1
    assert ContentType.objects.get_for_model(TeamEvent).pk == type_pk
    assert not ContentType.objects.filter(app_label="goals", model__in=["teamevent", "actionitem"]).exists()
    notifications = list(Notification.objects.filter(recipient=sales_rep).order_by("pk"))
    assert [notification.target for notification in notifications] == [
        TeamEvent.objects.get(pk=event_pk),
        ActionItem.objects.get(pk=item_pk),
    ]
    assert still_visible(sales_rep, notifications) == {notification.pk for notification in notifications}
    assert User.objects.get(pk=sales_rep.pk).has_perm("events.view_teamevent")


@pytest.mark.django_db(transaction=True)
def test_a_content_type_the_new_code_made_before_the_migration_joins_the_old_one(branch, manager, sales_rep):
    """A process of the new code may have made events' row first (get_for_model creates it): one row remains."""

    def write(old_apps):
        event, _item = old_event(old_apps, branch, manager)
        old_type = ContentType.objects.get(app_label="goals", model="teamevent")
        early_type = ContentType.objects.create(app_label="events", model="teamevent")
        for target_type in (old_type, early_type):
            Notification.objects.create(
                recipient=sales_rep,
                kind=Notification.Kind.EVENT_REMINDER,
                template="新型車勉強会",
                target_type=target_type,
                target_id=event.pk,
            )
        return event.pk, old_type.pk

    event_pk, type_pk = migrate_back_then_forward(write)

    assert list(ContentType.objects.filter(model="teamevent").values_list("pk", "app_label")) == [(type_pk, "events")]
    targets = [notification.target for notification in Notification.objects.filter(recipient=sales_rep)]
    assert targets == [TeamEvent.objects.get(pk=event_pk)] * 2
