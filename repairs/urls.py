from django.urls import path

from . import views

app_name = "repairs"

urlpatterns = [
    path("", views.job_list, name="job_list"),
    path("my-cars/", views.my_cars, name="my_cars"),
    path("queue/", views.my_queue, name="my_queue"),
    path("board/", views.board, name="board"),
    path("new/", views.job_create, name="job_create"),
    path("new/vehicles/", views.job_create_vehicles, name="job_create_vehicles"),
    path("new/customers/", views.job_create_customers, name="job_create_customers"),
    path("bench-floor/", views.bench_floor, name="bench_floor"),
    path("<int:pk>/", views.job_detail, name="job_detail"),
    path("<int:pk>/status/", views.job_status, name="job_status"),
    path("<int:pk>/claim/", views.job_claim, name="job_claim"),
    path("<int:pk>/assign/", views.job_assign, name="job_assign"),
    path("<int:pk>/promise/", views.job_promise, name="job_promise"),
    path("<int:pk>/thread/", views.job_thread, name="job_thread"),
    path("<int:pk>/messages/", views.job_message, name="job_message"),
    path(
        "<int:pk>/photos/<int:attachment_id>/<str:variant>/",
        views.attachment_file,
        name="attachment_file",
    ),
]
