from django.urls import path

from . import views

app_name = "feedback"

urlpatterns = [
    # Public survey pages (no login; the signed link is the key).
    path("s/<str:signed>/", views.survey, name="survey"),
    path("s/<str:signed>/thanks/", views.survey_thanks, name="survey_thanks"),
    path("s/<str:signed>/stop/", views.survey_opt_out, name="survey_opt_out"),
    # Staff screens.
    path("results/", views.results, name="results"),
    path("results/responses.csv", views.results_csv, name="results_csv"),
    path("customers/", views.customer_search, name="customer_search"),
    path("customers/<id:pk>/", views.customer_detail, name="customer_detail"),
    path(
        "customers/<id:pk>/vehicles/<id:vehicle_id>/shaken/",
        views.vehicle_shaken_expiry,
        name="vehicle_shaken_expiry",
    ),
    path("items/", views.voice_list, name="voice_list"),
    path("items/overdue/", views.voice_overdue, name="voice_overdue"),
    path("items/new/", views.voice_create, name="voice_create"),
    path("items/<id:pk>/", views.voice_detail, name="voice_detail"),
    path("items/<id:pk>/status/", views.voice_status, name="voice_status"),
    path("items/<id:pk>/resolve/", views.voice_resolve, name="voice_resolve"),
    path("items/<id:pk>/assign/", views.voice_assign, name="voice_assign"),
    path("items/<id:pk>/edit/", views.voice_edit, name="voice_edit"),
    path("items/<id:pk>/follow-up/", views.voice_follow_up, name="voice_follow_up"),
]
