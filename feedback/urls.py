from django.urls import path  # noqa: F401 - filled as the app's screens land

from . import views  # noqa: F401

app_name = "feedback"

urlpatterns: list = []
