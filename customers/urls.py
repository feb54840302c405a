from django.urls import path

from . import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_search, name="customer_search"),
    path("<id:pk>/", views.customer_detail, name="customer_detail"),
    path("<id:pk>/vehicles/<id:vehicle_id>/shaken/", views.vehicle_shaken_expiry, name="vehicle_shaken_expiry"),
]
