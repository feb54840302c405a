from django.urls import path

from . import views, views_loops

app_name = "repairs"

urlpatterns = [
    path("", views.job_list, name="job_list"),
    path("my-cars/", views.my_cars, name="my_cars"),
    path("queue/", views.my_queue, name="my_queue"),
    path("board/", views.board, name="board"),
    path("new/", views.job_create, name="job_create"),
    path("new/vehicles/", views.job_create_vehicles, name="job_create_vehicles"),
    path("new/customers/", views.job_create_customers, name="job_create_customers"),
    path("<id:pk>/", views.job_detail, name="job_detail"),
    path("<id:pk>/status/", views.job_status, name="job_status"),
    path("<id:pk>/claim/", views.job_claim, name="job_claim"),
    path("<id:pk>/assign/", views.job_assign, name="job_assign"),
    path("<id:pk>/promise/", views.job_promise, name="job_promise"),
    path("<id:pk>/thread/", views.job_thread, name="job_thread"),
    path("<id:pk>/thread/read/", views.job_thread_read, name="job_thread_read"),
    path("<id:pk>/messages/", views.job_message, name="job_message"),
    path(
        "<id:pk>/photos/<id:attachment_id>/<str:variant>/",
        views.attachment_file,
        name="attachment_file",
    ),
    # Cross-department loops (repairs/views_loops.py).
    path("<id:pk>/loops/", views_loops.job_loops, name="job_loops"),
    path("<id:pk>/approval/", views_loops.approval_new, name="approval_new"),
    path("approvals/", views_loops.approvals, name="approvals"),
    path("approvals/<id:approval_id>/", views_loops.approval_decide, name="approval_decide"),
    path("my-requests/", views_loops.my_requests, name="my_requests"),
    path("<id:pk>/handover/", views_loops.handover, name="handover"),
    path("<id:pk>/lead/", views_loops.lead_new, name="lead_new"),
    path("leads/", views_loops.leads, name="leads"),
    path("leads/<id:lead_id>/", views_loops.lead_update, name="lead_update"),
    path("<id:pk>/status-links/", views_loops.status_link_create, name="status_link_create"),
    path("<id:pk>/status-links/<id:link_id>/revoke/", views_loops.status_link_revoke, name="status_link_revoke"),
    # The customer's page: no login, signed token (see views_loops.status_page).
    path("status/<str:token>/", views_loops.status_page, name="status_page"),
]
