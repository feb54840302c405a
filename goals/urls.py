from django.urls import path

from . import views

app_name = "goals"

urlpatterns = [
    path("events/", views.event_list, name="event_list"),
    path("events/month/", views.event_month, name="event_month"),
    path("events/new/", views.event_create, name="event_create"),
    path("events/<id:pk>/", views.event_detail, name="event_detail"),
    path("events/<id:pk>/edit/", views.event_edit, name="event_edit"),
    path("events/<id:pk>/cancel/", views.event_cancel, name="event_cancel"),
    path("events/<id:pk>/rsvp/", views.event_rsvp, name="event_rsvp"),
    path("events/<id:pk>/attendance/", views.event_attendance, name="event_attendance"),
    path("events/<id:pk>/action-items/", views.action_item_add, name="action_item_add"),
    path("events/<id:pk>/event.ics", views.event_ics, name="event_ics"),
    path("events/<id:pk>/materials/<id:material_id>/", views.material_file, name="material_file"),
    path("events/<id:pk>/materials/<id:material_id>/remove/", views.material_remove, name="material_remove"),
    path("action-items/<id:pk>/done/", views.action_item_done, name="action_item_done"),
    path("calendar/", views.calendar_page, name="calendar"),
    path("calendar/reset/", views.calendar_reset, name="calendar_reset"),
    path("calendar/<id:user_id>/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("organisers/", views.organisers, name="organisers"),
    path("organisers/<id:user_id>/remove/", views.organiser_remove, name="organiser_remove"),
]

# Shared goals and the joint KPI dashboard (goals/kpi_views.py).
from . import kpi_views  # noqa: E402  (kept beside its routes: the events routes above stay untouched)

urlpatterns += [
    path("kpis/", kpi_views.dashboard, name="kpi_dashboard"),
    path("kpis/export.csv", kpi_views.export_csv, name="kpi_export"),
    path("kpis/manual/", kpi_views.manual_values, name="kpi_manual"),
    path("kpis/manual/import/", kpi_views.manual_import, name="kpi_manual_import"),
    path("kpis/home-goals/", kpi_views.home_goals, name="home_goals"),
    path("kpis/<slug:key>/", kpi_views.drilldown, name="kpi_drilldown"),
    path("goals/new/", kpi_views.goal_create, name="goal_create"),
    path("goals/<id:pk>/edit/", kpi_views.goal_edit, name="goal_edit"),
    path("goals/<id:pk>/archive/", kpi_views.goal_archive, name="goal_archive"),
]
