"""Shared goals and the joint KPI dashboard, mounted at /team/ beside events (dealership/urls.py)."""

from django.urls import path

from . import views

app_name = "goals"

urlpatterns = [
    path("kpis/", views.dashboard, name="kpi_dashboard"),
    path("kpis/export.csv", views.export_csv, name="kpi_export"),
    path("kpis/manual/", views.manual_values, name="kpi_manual"),
    path("kpis/manual/import/", views.manual_import, name="kpi_manual_import"),
    path("kpis/home-goals/", views.home_goals, name="home_goals"),
    path("kpis/<slug:key>/", views.drilldown, name="kpi_drilldown"),
    path("goals/new/", views.goal_create, name="goal_create"),
    path("goals/<id:pk>/edit/", views.goal_edit, name="goal_edit"),
    path("goals/<id:pk>/archive/", views.goal_archive, name="goal_archive"),
]
