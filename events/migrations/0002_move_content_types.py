"""The moved models' content types follow them from goals to events.

Notifications point at their target through a content type (`target_type`),
and so do the permissions and the admin's log. The rows of the six moved
models were created under the app label "goals"; relabelled in place, they
keep their ids, so every existing notification still opens its event or
action item, and the permissions given on them stay given.

A row may already exist under the new label when the new code ran before
this migration (`ContentType.objects.get_for_model` creates what it does not
find): the older row, which the history points at, is kept, and the
notifications of the newer one are moved onto it before it goes.
"""

from django.db import migrations

MOVED = ("teamevent", "eventparticipant", "eventmaterial", "actionitem", "organiser", "calendarfeed")


def _relabel(apps, schema_editor, *, source: str, target: str) -> None:
    database = schema_editor.connection.alias
    ContentType = apps.get_model("contenttypes", "ContentType")
    Notification = apps.get_model("dealership", "Notification")
    rows = ContentType.objects.using(database)
    for model in MOVED:
        moving = rows.filter(app_label=source, model=model).first()
        if moving is None:
            continue  # a new database: post_migrate creates the rows under the new label
        duplicate = rows.filter(app_label=target, model=model).first()
        if duplicate is not None:
            Notification.objects.using(database).filter(target_type_id=duplicate.pk).update(target_type_id=moving.pk)
            duplicate.delete()
        moving.app_label = target
        moving.save(update_fields=["app_label"])


def to_events(apps, schema_editor) -> None:
    _relabel(apps, schema_editor, source="goals", target="events")


def back_to_goals(apps, schema_editor) -> None:
    _relabel(apps, schema_editor, source="events", target="goals")


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("dealership", "0005_drop_branch_marker"),
    ]

    operations = [migrations.RunPython(to_events, back_to_goals)]
