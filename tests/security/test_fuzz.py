"""No input makes the portal answer 500 (issue 8, finding 8 and the fuzz test).

The walk takes every URL pattern from the URLconf (so the screens of apps
added later are covered without touching this file), fills its parameters
with the ids of a seeded job, photo, notification and colleague and with
hostile values, and sends GET and POST requests with hostile query and form
values, as each persona and anonymously, on whatever database the suite runs
on (PostgreSQL in CI). Every request runs in a savepoint that is rolled back
afterwards, so each starts from the same seeded state, and one that was
refused (4xx) must not have added or removed a row in any of the portal's tables.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.base import reverse
from django.urls.converters import IntConverter
from django.urls.exceptions import NoReverseMatch
from django.urls.resolvers import RegexPattern, RoutePattern
from PIL import Image

from dealership.models import Customer, Notification
from repairs import services
from repairs.images import process_photo
from repairs.models import JobMessage, RepairJob
from tests.factories import CustomerFactory, RepairJobFactory, VehicleFactory

pytestmark = pytest.mark.django_db

PERSONAS = ["sales_rep", "technician", "advisor", "manager", "other_branch_user"]
# The apps whose tables must not change when input is refused.
PORTAL_APPS = {"dealership", "accounts", "repairs", "feedback", "goals"}

# Django's admin is left out: only superusers get past its sign-in, and none of
# the personas is one (they and anonymous visitors are all sent to the same
# sign-in page); its ~90 model URLs would triple the run time while its forms
# reach the data only through the services tested with these same values.
EXCLUDED_PREFIXES = ("admin/",)
# Posting to the sign-out would end the persona's session halfway through
# its walk; it takes no input, so a GET (the confirmation page) is enough.
NO_POST = {"account_logout"}

HOSTILE_VALUES = {
    "non-digits": "abc",
    "huge": str(10**20),
    "nul": "a\x00b",
    "10 kB": "x" * 10_000,
    "unicode": "日本語🚗\u202eÅ\ufeff",
    "date": "2026-13-45T25:61",
    "choice": "__no_such_choice__",
}
KINDS = list(HOSTILE_VALUES)
# Each persona sends two of the kinds to each route, a different two from route
# to route, so that every persona meets every kind and every route gets every
# kind from some persona, and the walk stays near a minute as the portal grows.
# Anonymous visitors get every kind on the public pages, one where the page
# only sends them to the sign-in. Hostile path values rotate the same way.
KINDS_PER_PERSONA_AND_ROUTE = 2
HOSTILE_PATH_INTS = [0, 10**20, 2**63]
HOSTILE_PATH_STRINGS = ["x", "日本語", "a" * 10_000, "a\x00b"]
STRINGS_PER_PARAMETER = 2
# Parameters the portal's screens read from the query string without a form
# field for them, so that no page has to show them for the walk to try them.
QUERY_NAMES = {"q", "page", "scope", "status", "kind", "finished", "customer", "customer_search", "next", "branch"}


@dataclass
class Seed:
    job: RepairJob
    other_job: RepairJob
    attachment_id: int
    colleague_id: int
    other_colleague_id: int
    notification_ids: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """One URL pattern of the walk: its name (for reverse) and its parameters."""

    name: str | None
    text: str
    params: tuple[tuple[str, bool], ...]  # (name, is an integer)


def portal_routes() -> list[Route]:
    routes: dict[str, Route] = {}

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            text = prefix + str(pattern.pattern)
            if text.startswith(EXCLUDED_PREFIXES):
                continue
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, text, namespace + (f"{pattern.namespace}:" if pattern.namespace else ""))
            elif isinstance(pattern, URLPattern):
                params = tuple(parameters(pattern))
                name = f"{namespace}{pattern.name}" if pattern.name else None
                # Included URLconfs may repeat a route (an app overriding allauth's):
                # the first one is the one that answers.
                routes.setdefault(text, Route(name, text, params))

    walk(get_resolver().url_patterns, "", "")
    return list(routes.values())


def parameters(pattern: URLPattern) -> Iterator[tuple[str, bool]]:
    if isinstance(pattern.pattern, RoutePattern):
        for name, converter in pattern.pattern.converters.items():
            yield name, isinstance(converter, IntConverter)
    elif isinstance(pattern.pattern, RegexPattern):
        for name in pattern.pattern.regex.groupindex:
            yield name, False


def url_for(route: Route, kwargs: dict[str, object]) -> str | None:
    """The path of `route` with these parameters, or None if they cannot fill it."""
    if route.name:
        try:
            return reverse(route.name, kwargs=kwargs)
        except NoReverseMatch:
            return None
    # An unnamed route pattern: fill its converters by hand.
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(kwargs[match.group(1)]), route.text)
    return "/" + path


def real_value(route: Route, param: str, is_int: bool, seed: Seed, persona: str) -> object:
    """A value naming a real object the persona may (or may not) see."""
    if not is_int:
        return {"variant": "thumb"}.get(param, "x")
    if param == "attachment_id":
        return seed.attachment_id
    if route.text.startswith("notifications/"):
        return seed.notification_ids.get(persona) or next(iter(seed.notification_ids.values()))
    if route.text.startswith("staff/"):
        return seed.colleague_id
    return seed.job.pk


def other_branch_value(route: Route, param: str, seed: Seed) -> int:
    return seed.other_colleague_id if route.text.startswith("staff/") else seed.other_job.pk


def rotation(items: list, start: int, count: int) -> list:
    """`count` consecutive items from `start`, wrapping around."""
    return [items[(start + offset) % len(items)] for offset in range(count)]


def identity_index(identity: str) -> int:
    return PERSONAS.index(identity) if identity in PERSONAS else len(PERSONAS)


def path_variants(route: Route, seed: Seed, identity: str, route_index: int) -> tuple[str | None, list[str]]:
    """The route's real URL, and URLs whose parameters are hostile one at a time."""
    real = {name: real_value(route, name, is_int, seed, identity) for name, is_int in route.params}
    start = identity_index(identity) + route_index
    hostile: list[str] = []
    for name, is_int in route.params:
        if is_int:
            values = [other_branch_value(route, name, seed), *rotation(HOSTILE_PATH_INTS, start, 1)]
        else:
            values = rotation(HOSTILE_PATH_STRINGS, start, STRINGS_PER_PARAMETER)
        for value in values:
            url = url_for(route, {**real, name: value})
            if url is not None:
                hostile.append(url)
    return url_for(route, real), hostile


def form_field_names(html: str) -> set[str]:
    names = set(re.findall(r"<(?:input|select|textarea|button)\b[^>]*\bname=\"([^\"]+)\"", html))
    return names - {"csrfmiddlewaretoken"}


def table_counts_sql() -> str:
    tables = sorted(
        model._meta.db_table
        for model in apps.get_models()
        if model._meta.app_label in PORTAL_APPS and model._meta.managed and not model._meta.proxy
    )
    # Table names come from the models, never from input.
    quote = connection.ops.quote_name
    columns = ", ".join(f"(SELECT COUNT(*) FROM {quote(table)}) AS {quote(table)}" for table in tables)  # noqa: S608
    return f"SELECT {columns}"


def table_counts(sql: str) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        names = [column[0] for column in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


@pytest.fixture
def seed(branch, sales_rep, technician, advisor, manager, other_branch_user) -> Seed:
    customer = CustomerFactory(branch=branch, sales_owner=sales_rep, name="佐藤 健一")
    job = RepairJobFactory(
        vehicle=VehicleFactory(customer=customer),
        sales_owner=sales_rep,
        requested_by=advisor,
        service_advisor=advisor,
        technician=technician,
    )
    other_job = RepairJobFactory(
        vehicle=VehicleFactory(customer=CustomerFactory(branch=other_branch_user.branch)),
        requested_by=other_branch_user,
    )
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, format="JPEG")
    photo = process_photo(SimpleUploadedFile("brake.jpg", buffer.getvalue()))
    message = services.post_message(job, by=technician, body="写真です @店長", photos=[photo], mentions=[manager])
    services.post_message(job, by=sales_rep, body="お客様より", kind=JobMessage.Kind.CUSTOMER_REQUEST)
    people = {
        "sales_rep": sales_rep,
        "technician": technician,
        "advisor": advisor,
        "manager": manager,
        "other_branch_user": other_branch_user,
    }
    notifications = {
        persona: Notification.objects.filter(recipient=user).values_list("pk", flat=True).first()
        for persona, user in people.items()
    }
    assert any(notifications.values()), "the seed should have notified someone"
    return Seed(
        job=job,
        other_job=other_job,
        attachment_id=message.attachments.get().pk,
        colleague_id=technician.pk,
        other_colleague_id=other_branch_user.pk,
        notification_ids={persona: pk for persona, pk in notifications.items() if pk},
    )


class Walk:
    """Sends requests, each in a savepoint rolled back afterwards, and keeps what went wrong."""

    def __init__(self, client: Client, user=None) -> None:
        self.client = client
        self.user = user
        if user is not None:
            client.force_login(user)
        self.sql = table_counts_sql()
        self.baseline = table_counts(self.sql)
        self.failures: list[str] = []
        self.requests = 0

    def send(
        self, method: str, url: str, data: dict | None = None, label: str = "", headers: dict | None = None
    ) -> HttpResponse:
        with transaction.atomic():
            response = getattr(self.client, method)(url, data or {}, headers=headers)
            self.requests += 1
            where = f"{method.upper()} {url[:120]} {label}".strip()
            if response.status_code >= 500:
                error = response.exc_info[1] if getattr(response, "exc_info", None) else ""
                self.failures.append(f"{response.status_code} {where}: {error!r}")
            elif response.status_code >= 400 and response.status_code != 405:
                # (A 405 comes from the method decorator: the view never ran.)
                counts = table_counts(self.sql)
                changed = {
                    table: (before, counts[table]) for table, before in self.baseline.items() if counts[table] != before
                }
                if changed:
                    self.failures.append(f"{response.status_code} {where} changed row counts {changed}")
            transaction.set_rollback(True)
        if self.user is not None and settings.SESSION_COOKIE_NAME in response.cookies:
            # The request rotated or ended the session: the new session row was
            # rolled back with everything else, the client's cookie was not.
            self.client.force_login(self.user)
        return response


def page_html(response: HttpResponse) -> str:
    is_html = response.get("Content-Type", "").startswith("text/html")
    return response.content.decode(errors="replace") if response.status_code == 200 and is_html else ""


def sends_to_sign_in(response: HttpResponse) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def kinds_for(identity: str, route_index: int, *, public: bool) -> list[str]:
    if identity == "anonymous":
        return KINDS if public else rotation(KINDS, route_index, 1)
    start = PERSONAS.index(identity) * KINDS_PER_PERSONA_AND_ROUTE + route_index
    return rotation(KINDS, start, KINDS_PER_PERSONA_AND_ROUTE)


def test_every_route_gets_every_hostile_kind_from_some_persona():
    for route_index in range(len(KINDS)):
        sent = {kind for persona in PERSONAS for kind in kinds_for(persona, route_index, public=False)}
        assert sent == set(KINDS)


def hostile_data(names: set[str], value: str) -> dict[str, object]:
    # Multiple-choice fields (mentions) get the value twice, as a list.
    return {name: [value, value] if name == "mentions" else value for name in sorted(names)}


@override_settings(BENCHMARK_VIEWS=True)
@pytest.mark.parametrize("identity", ["anonymous", *PERSONAS])
def test_no_url_of_the_portal_answers_500_to_hostile_input(request, identity, seed):
    client = Client(raise_request_exception=False)
    user = None if identity == "anonymous" else request.getfixturevalue(identity)
    walk = Walk(client, user)
    routes = portal_routes()
    assert len(routes) > 40, "the URLconf walk found too few routes"
    unreached = []
    real_urls: dict[Route, tuple[str, bool]] = {}
    names = set(QUERY_NAMES)
    for index, route in enumerate(routes):
        real, hostile = path_variants(route, seed, identity, index)
        if real is None and not hostile:
            unreached.append(route.text)
            continue
        if real is not None:
            response = walk.send("get", real)
            real_urls[route] = (real, not sends_to_sign_in(response))
            names |= form_field_names(page_html(response))
        for url in hostile:
            response = walk.send("get", url, label="(hostile path)")
            # A POST follows unless the GET showed that the path goes nowhere
            # (not found, bad, or to the sign-in): a view that answers GET
            # checks the visitor and looks up its object before it looks at
            # the method, and a POST-only view answers the GET with 405.
            if route.name not in NO_POST and not (response.status_code in {400, 404} or sends_to_sign_in(response)):
                walk.send("post", url, {"body": "x"}, label="(hostile path)")
    for index, (route, (url, public)) in enumerate(real_urls.items()):
        for kind in kinds_for(identity, index, public=public):
            value = HOSTILE_VALUES[kind]
            data = hostile_data(names, value)
            # Every other GET also comes as an htmx poll with a hostile ETag,
            # the path the live screens take.
            headers = {"HX-Request": "true", "If-None-Match": f'"{value}"'} if KINDS.index(kind) % 2 else None
            walk.send("get", url, data, label=f"({kind} query)", headers=headers)
            if route.name not in NO_POST:
                walk.send("post", url, data, label=f"({kind} form)")

    assert not unreached, f"no URL could be built for {unreached}"
    assert walk.requests > len(routes) * 2
    assert not walk.failures, f"{len(walk.failures)} of {walk.requests} requests failed:\n" + "\n".join(
        walk.failures[:30]
    )


# --- The 500s the outside probe found (issue 8, finding 8) ---------------------


@pytest.fixture
def sales_client(sales_rep) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(sales_rep)
    return client


def intake_data(**overrides) -> dict[str, str]:
    data = {
        "new_customer_name": "山田 太郎",
        "new_vehicle_make": "Toyota",
        "new_vehicle_model": "Aqua",
        "kind": "repair",
        "title": "異音点検",
        "priority": "2",
    }
    return data | overrides


@pytest.mark.parametrize("value", ["abc", "²", "１２", str(10**20), "-5", "1" * 5000])
@pytest.mark.parametrize("url_name", ["repairs:job_create", "repairs:job_create_vehicles"])
def test_a_customer_parameter_that_is_no_id_shows_the_form_instead_of_failing(sales_client, url_name, value, seed):
    response = sales_client.get(reverse(url_name), {"customer": value})
    assert response.status_code == 200


@pytest.mark.parametrize("value", ["abc", "²", str(10**20), "1" * 5000])
def test_an_intake_post_with_a_customer_that_is_no_id_is_refused_with_a_form_error(sales_client, value, seed):
    customers = Customer.objects.count()
    response = sales_client.post(reverse("repairs:job_create"), intake_data(customer=value, vehicle=value))
    assert response.status_code == 200
    assert "customer" in response.context["form"].errors
    assert Customer.objects.count() == customers
    assert RepairJob.objects.count() == 2


@pytest.mark.parametrize("value", ["abc", str(10**20), str(2**63), "1" * 5000])
def test_a_mention_that_is_no_id_is_refused_with_a_form_error(seed, technician, value):
    client = Client(raise_request_exception=False)
    client.force_login(technician)
    messages = JobMessage.objects.count()
    response = client.post(
        reverse("repairs:job_message", args=[seed.job.pk]), {"body": "確認", "kind": "note", "mentions": [value]}
    )
    assert response.status_code == 400
    assert "mentions" in response.context["message_form"].errors
    assert JobMessage.objects.count() == messages


def test_a_status_version_beyond_any_integer_column_is_refused(seed, advisor):
    client = Client(raise_request_exception=False)
    client.force_login(advisor)
    response = client.post(
        reverse("repairs:job_status", args=[seed.job.pk]), {"to": "diagnosing", "version": str(10**20)}
    )
    assert response.status_code == 302
    seed.job.refresh_from_db()
    assert seed.job.status == "received"
