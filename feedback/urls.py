from collections.abc import Callable

from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.urls import path, reverse

from . import views

app_name = "feedback"


def moved_to(name: str) -> Callable[..., HttpResponsePermanentRedirect]:
    """A permanent redirect to the URL `name` with the same arguments and query string.

    308, not 301: a form still open on the old address posts to the new one
    (a 301 would turn the POST into a GET).
    """

    def redirect(request: HttpRequest, **kwargs) -> HttpResponsePermanentRedirect:
        query = request.META.get("QUERY_STRING", "")
        url = reverse(name, kwargs=kwargs) + (f"?{query}" if query else "")
        return HttpResponsePermanentRedirect(url, preserve_request=True)

    return redirect


urlpatterns = [
    # Public survey pages (no login; the signed link is the key).
    path("s/<str:signed>/", views.survey, name="survey"),
    path("s/<str:signed>/thanks/", views.survey_thanks, name="survey_thanks"),
    path("s/<str:signed>/stop/", views.survey_opt_out, name="survey_opt_out"),
    # Staff screens.
    path("results/", views.results, name="results"),
    path("results/responses.csv", views.results_csv, name="results_csv"),
    # The customer's pages moved to /customers/ (customers.urls): old links and bookmarks land there.
    path("customers/", moved_to("customers:customer_search")),
    path("customers/<id:pk>/", moved_to("customers:customer_detail")),
    path("customers/<id:pk>/vehicles/<id:vehicle_id>/shaken/", moved_to("customers:vehicle_shaken_expiry")),
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
