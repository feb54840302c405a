"""The team events leave goals for their own app, events (issue 18), keeping their tables.

State only: goals stops modelling the six tables and events/0001_initial
models them again with the same names (`Meta.db_table = "goals_…"`), the same
indexes and constraints. No table, index or row is touched, so an existing
database keeps every event, answer, action item and calendar secret.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("goals", "0003_dates_in_portal_range"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="calendarfeed",
                    name="user",
                ),
                migrations.RemoveField(
                    model_name="eventmaterial",
                    name="event",
                ),
                migrations.RemoveField(
                    model_name="eventmaterial",
                    name="uploaded_by",
                ),
                migrations.RemoveField(
                    model_name="eventparticipant",
                    name="event",
                ),
                migrations.RemoveField(
                    model_name="eventparticipant",
                    name="host",
                ),
                migrations.RemoveField(
                    model_name="eventparticipant",
                    name="user",
                ),
                migrations.RemoveField(
                    model_name="organiser",
                    name="granted_by",
                ),
                migrations.RemoveField(
                    model_name="organiser",
                    name="user",
                ),
                migrations.RemoveField(
                    model_name="teamevent",
                    name="branch",
                ),
                migrations.RemoveField(
                    model_name="teamevent",
                    name="organizer",
                ),
                migrations.DeleteModel(
                    name="ActionItem",
                ),
                migrations.DeleteModel(
                    name="CalendarFeed",
                ),
                migrations.DeleteModel(
                    name="EventMaterial",
                ),
                migrations.DeleteModel(
                    name="EventParticipant",
                ),
                migrations.DeleteModel(
                    name="Organiser",
                ),
                migrations.DeleteModel(
                    name="TeamEvent",
                ),
            ],
            database_operations=[],
        ),
    ]
