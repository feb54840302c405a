from django.contrib import admin
from django.urls import include, path, register_converter

from . import bench_views, views
from .ids import IdConverter

# Before the apps' URLconfs are included: every `<id:…>` below resolves through it.
register_converter(IdConverter, "id")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/badge/", views.notifications_badge, name="notifications_badge"),
    path("notifications/read-all/", views.notifications_mark_all_read, name="notifications_mark_all_read"),
    path("notifications/<id:pk>/", views.notification_open, name="notification_open"),
    path("notifications/<id:pk>/read/", views.notification_mark_read, name="notification_mark_read"),
    path("accounts/", include("accounts.allauth_urls")),  # before allauth's: switches its e-mail page off
    path("accounts/", include("allauth.urls")),
    path("staff/", include("accounts.urls")),
    path("customers/", include("customers.urls")),
    path("jobs/", include("repairs.urls")),
    path("voice/", include("feedback.urls")),
    path("team/", include("events.urls")),  # events and goals share /team/: events/, calendar/, organisers/ …
    path("team/", include("goals.urls")),  # … and kpis/, goals/
    path("admin/", admin.site.urls),
]
# `make bench` only (settings.BENCHMARK_VIEWS): the floors every screen is measured against.
urlpatterns += bench_views.urlpatterns()
