"""Team events, mounted at /team/ beside goals (dealership/urls.py): the paths
stayed as they were when events lived in goals, so bookmarks and subscribed
calendar feeds keep working."""

from django.urls import path

from . import views

app_name = "events"

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
