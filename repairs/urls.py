from django.urls import path

from . import views, views_approvals, views_leads, views_status_links

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
    path("<id:pk>/approvals-leads/", views.job_approvals_leads, name="job_approvals_leads"),
    # Sales' internal requests to the workshop, and the hand-over of the car.
    path("my-requests/", views.my_requests, name="my_requests"),
    path("<id:pk>/handover/", views.handover, name="handover"),
    # The customer's approval of extra work (repairs/views_approvals.py).
    path("<id:pk>/approval/", views_approvals.approval_new, name="approval_new"),
    path("approvals/", views_approvals.approvals, name="approvals"),
    path("approvals/<id:approval_id>/", views_approvals.approval_decide, name="approval_decide"),
    # Service → sales leads (repairs/views_leads.py).
    path("<id:pk>/lead/", views_leads.lead_new, name="lead_new"),
    path("leads/", views_leads.leads, name="leads"),
    path("leads/<id:lead_id>/", views_leads.lead_update, name="lead_update"),
    # The customer's status link (repairs/views_status_links.py); its page needs
    # no login, only the signed token.
    path("<id:pk>/status-links/", views_status_links.status_link_create, name="status_link_create"),
    path(
        "<id:pk>/status-links/<id:link_id>/revoke/",
        views_status_links.status_link_revoke,
        name="status_link_revoke",
    ),
    path("status/<str:token>/", views_status_links.status_page, name="status_page"),
]
