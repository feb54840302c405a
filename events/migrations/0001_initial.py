"""The team events, moved here from goals (issue 18) with their tables.

State only: the tables goals/0001–0003 created keep their names
(`db_table = "goals_…"`), indexes and constraints (teamevent_times_in_range
included), so nothing in the database changes; goals/0004_events_move_out
took them out of goals' state just before.
"""

import datetime
import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import dealership.dates
import events.models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("goals", "0004_events_move_out"),
        ("dealership", "0005_drop_branch_marker"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="CalendarFeed",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("salt", models.CharField(max_length=64)),
                        ("reset_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "user",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="calendar_feed",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "calendar feed",
                        "verbose_name_plural": "calendar feeds",
                        "db_table": "goals_calendarfeed",
                    },
                ),
                migrations.CreateModel(
                    name="Organiser",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "granted_at",
                            models.DateTimeField(default=django.utils.timezone.now, verbose_name="allowed since"),
                        ),
                        (
                            "granted_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "user",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="event_organiser",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="who",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "event organiser",
                        "verbose_name_plural": "event organisers",
                        "db_table": "goals_organiser",
                    },
                ),
                migrations.CreateModel(
                    name="TeamEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("briefing", "Work briefing"),
                                    ("shadowing", "Job shadowing"),
                                    ("study", "Study session"),
                                    ("meeting", "Regular meeting"),
                                    ("social", "Team social"),
                                ],
                                default="meeting",
                                max_length=20,
                                verbose_name="kind",
                            ),
                        ),
                        ("title", models.CharField(max_length=200, verbose_name="title")),
                        ("agenda", models.TextField(blank=True, verbose_name="agenda")),
                        (
                            "starts_at",
                            models.DateTimeField(
                                validators=[dealership.dates.validate_in_range], verbose_name="starts at"
                            ),
                        ),
                        (
                            "ends_at",
                            models.DateTimeField(
                                validators=[dealership.dates.validate_in_range], verbose_name="ends at"
                            ),
                        ),
                        ("place", models.CharField(blank=True, max_length=200, verbose_name="place")),
                        (
                            "invited_departments",
                            models.JSONField(blank=True, default=list, verbose_name="invited departments"),
                        ),
                        ("minutes", models.TextField(blank=True, verbose_name="minutes")),
                        ("cancelled_at", models.DateTimeField(blank=True, null=True, verbose_name="cancelled at")),
                        (
                            "cancel_reason",
                            models.CharField(blank=True, max_length=300, verbose_name="reason for cancelling"),
                        ),
                        ("uid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ("sequence", models.PositiveIntegerField(default=0, editable=False)),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, verbose_name="created at"),
                        ),
                        (
                            "updated_at",
                            models.DateTimeField(default=django.utils.timezone.now, verbose_name="updated at"),
                        ),
                        (
                            "branch",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="team_events",
                                to="dealership.branch",
                                verbose_name="branch",
                            ),
                        ),
                        (
                            "organizer",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="organised_events",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="organizer",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "team event",
                        "verbose_name_plural": "team events",
                        "db_table": "goals_teamevent",
                        "ordering": ["starts_at", "id"],
                    },
                ),
                migrations.CreateModel(
                    name="EventParticipant",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("personally_invited", models.BooleanField(default=False, verbose_name="invited by name")),
                        ("invited", models.BooleanField(default=True, verbose_name="invited")),
                        (
                            "rsvp",
                            models.CharField(
                                choices=[
                                    ("none", "No answer yet"),
                                    ("yes", "Going"),
                                    ("maybe", "Maybe"),
                                    ("no", "Not going"),
                                ],
                                default="none",
                                max_length=10,
                                verbose_name="answer",
                            ),
                        ),
                        ("answered_at", models.DateTimeField(blank=True, null=True, verbose_name="answered at")),
                        ("attended", models.BooleanField(default=False, verbose_name="attended")),
                        ("reminded_for", models.DateTimeField(blank=True, editable=False, null=True)),
                        (
                            "host",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="hosted_participations",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="shadowing host",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="event_participations",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="who",
                            ),
                        ),
                        (
                            "event",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="participants",
                                to="events.teamevent",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "participant",
                        "verbose_name_plural": "participants",
                        "db_table": "goals_eventparticipant",
                        "ordering": ["user__display_name", "id"],
                    },
                ),
                migrations.CreateModel(
                    name="EventMaterial",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("file", models.FileField(upload_to=events.models.material_path, verbose_name="file")),
                        ("original_name", models.CharField(max_length=200, verbose_name="file name")),
                        ("size", models.PositiveIntegerField(default=0, verbose_name="size (bytes)")),
                        (
                            "uploaded_at",
                            models.DateTimeField(default=django.utils.timezone.now, verbose_name="uploaded at"),
                        ),
                        (
                            "uploaded_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "event",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="materials",
                                to="events.teamevent",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "material",
                        "verbose_name_plural": "materials",
                        "db_table": "goals_eventmaterial",
                        "ordering": ["uploaded_at", "id"],
                    },
                ),
                migrations.CreateModel(
                    name="ActionItem",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("text", models.CharField(max_length=500, verbose_name="what")),
                        (
                            "due_date",
                            models.DateField(
                                blank=True,
                                null=True,
                                validators=[dealership.dates.validate_in_range],
                                verbose_name="due date",
                            ),
                        ),
                        (
                            "voice_item_id",
                            models.PositiveBigIntegerField(
                                blank=True, null=True, verbose_name="customer voice item no."
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, verbose_name="created at"),
                        ),
                        ("done_at", models.DateTimeField(blank=True, null=True, verbose_name="done at")),
                        (
                            "assignee",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="action_items",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="who",
                            ),
                        ),
                        (
                            "created_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "done_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "event",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="action_items",
                                to="events.teamevent",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "action item",
                        "verbose_name_plural": "action items",
                        "db_table": "goals_actionitem",
                        "ordering": ["done_at", "due_date", "id"],
                    },
                ),
                migrations.AddIndex(
                    model_name="teamevent",
                    index=models.Index(fields=["branch", "starts_at"], name="teamevent_branch_start_idx"),
                ),
                migrations.AddConstraint(
                    model_name="teamevent",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            ("ends_at__gte", datetime.datetime(1999, 12, 31, 0, 0, tzinfo=datetime.UTC)),
                            ("ends_at__lt", datetime.datetime(2101, 1, 2, 0, 0, tzinfo=datetime.UTC)),
                            ("starts_at__gte", datetime.datetime(1999, 12, 31, 0, 0, tzinfo=datetime.UTC)),
                            ("starts_at__lt", datetime.datetime(2101, 1, 2, 0, 0, tzinfo=datetime.UTC)),
                        ),
                        name="teamevent_times_in_range",
                    ),
                ),
                migrations.AddIndex(
                    model_name="eventparticipant",
                    index=models.Index(fields=["user", "event"], name="participant_user_idx"),
                ),
                migrations.AddConstraint(
                    model_name="eventparticipant",
                    constraint=models.UniqueConstraint(
                        fields=("event", "user"), name="one_participation_per_event_and_user"
                    ),
                ),
                migrations.AddIndex(
                    model_name="actionitem",
                    index=models.Index(fields=["assignee", "done_at"], name="actionitem_assignee_idx"),
                ),
            ],
            database_operations=[],
        ),
    ]
