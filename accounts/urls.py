from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("team/", views.team, name="team"),
    path("team/invite/", views.invite, name="invite"),
    path("team/<id:pk>/", views.staff_edit, name="staff_edit"),
    path("team/<id:pk>/active/", views.staff_set_active, name="staff_set_active"),
    path("team/<id:pk>/resend/", views.resend_invitation, name="resend_invitation"),
    path("invitation/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("settings/", views.preferences, name="preferences"),
    path("language/", views.set_language, name="set_language"),
]
