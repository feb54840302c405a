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

import csv
import importlib
import io
import pkgutil
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin

import icalendar
import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.base import reverse
from django.urls.converters import IntConverter
from django.urls.exceptions import NoReverseMatch
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils import timezone
from PIL import Image

from customers.models import Customer
from dealership.ids import IdConverter
from dealership.models import Notification
from events.models import TeamEvent
from repairs import services
from repairs.images import process_photo
from repairs.models import JobMessage, RepairJob
from tests.factories import CustomerFactory, RepairJobFactory, VehicleFactory

pytestmark = pytest.mark.django_db

PERSONAS = ["sales_rep", "technician", "advisor", "manager", "other_branch_user"]
# The apps whose tables must not change when input is refused.
PORTAL_APPS = {"dealership", "accounts", "customers", "repairs", "feedback", "events", "goals"}

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
            yield name, isinstance(converter, (IntConverter, IdConverter))
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


# --- Hostile dates, and line breaks that reach a file (issue 17) ---------------
#
# The walk above sends one hostile value into every field at once, so a form
# never gets far enough to save a date: an event starting 0001-01-01 was
# stored as 1 BC and broke the branch's event list. Here each form a page
# shows is first filled as a person would (what the page holds, plus the
# required fields), then one date field at a time gets an extreme date, and
# after each write the screens and files that read the data must answer.

EXTREME_DAYS = ["0001-01-01", "9999-12-31", "10000-01-01", "2026-13-45", "0000-00-00"]
EXTREME_VALUES = {
    "date": EXTREME_DAYS,
    "datetime-local": [f"{day}T00:00" for day in EXTREME_DAYS],
    "month": ["0001-01", "9999-12", "10000-01", "2026-13", "0000-00"],
}
DATE_SHAPED = re.compile(r"[0-9]{4}-[0-9]{2}(-[0-9]{2})?")
# What a text field gets on its way to a file: line breaks of every kind and two control characters.
LINE_BREAKS = "一行目\r\nX-INJECTED:1\r三行目\nX-INJECTED:2\x0b\x1b"
TEXT_TYPES = {"text", "textarea"}


def portal_form_classes() -> list[type[forms.BaseForm]]:
    """Every form class of the portal's apps (their forms modules), found by subclass."""
    for label in PORTAL_APPS:
        package = apps.get_app_config(label).module
        for module in pkgutil.iter_modules(package.__path__):
            if module.name == "forms" or module.name.endswith("_forms"):
                importlib.import_module(f"{package.__name__}.{module.name}")
    found, pending = [], [forms.BaseForm]
    while pending:
        for subclass in pending.pop().__subclasses__():
            pending.append(subclass)
            if subclass.__module__.split(".")[0] in PORTAL_APPS and subclass.__module__.endswith("forms"):
                found.append(subclass)
    return found


def date_form_fields() -> list[tuple[str, forms.Field]]:
    return [
        (f"{form.__module__}.{form.__name__}.{name}", field)
        for form in portal_form_classes()
        for name, field in form.base_fields.items()
        if isinstance(field, forms.DateField | forms.DateTimeField)
    ]


def test_every_date_field_of_every_form_refuses_extreme_dates():
    fields = date_form_fields()
    assert len(fields) >= 10, "the form walk found too few date fields"
    accepted = []
    for where, date_field in fields:
        kind = "date" if isinstance(date_field, forms.DateField) else "datetime-local"
        for value in EXTREME_VALUES[kind]:
            try:
                date_field.clean(value)
            except ValidationError:
                continue
            accepted.append(f"{where} accepted {value}")
        normal = "2026-06-15" if kind == "date" else "2026-06-15T10:00"
        assert date_field.clean(normal) is not None, where
    assert not accepted, "\n".join(accepted)


@dataclass
class PageForm:
    """A form as a page shows it: where it posts, what a browser would send, its inputs' types."""

    action: str
    method: str
    data: dict[str, list[str]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    options: dict[str, list[str]] = field(default_factory=dict)


class FormParser(HTMLParser):
    """The forms of a page, each with what a browser submits unchanged."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[PageForm] = []
        self.form: PageForm | None = None
        self.select: tuple[str, bool] | None = None  # (name, multiple)
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form":
            action = urljoin(self.page, attr.get("action") or self.page)
            self.form = PageForm(action=action, method=attr.get("method", "get").lower())
            self.forms.append(self.form)
            return
        form, name = self.form, attr.get("name", "")
        if form is None or (not name and tag != "option"):
            return
        if tag == "input":
            kind = attr.get("type", "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            form.types.setdefault(name, kind)
            if "required" in attr:
                form.required.add(name)
            if kind in {"checkbox", "radio"}:
                form.options.setdefault(name, []).append(attr.get("value", "on"))
                if "checked" in attr:
                    form.data.setdefault(name, []).append(attr.get("value", "on"))
            else:
                form.data[name] = [attr.get("value", "")]
        elif tag == "select":
            self.select = (name, "multiple" in attr)
            form.types[name] = "select"
            form.options[name] = []
            if "required" in attr:
                form.required.add(name)
        elif tag == "option" and self.select is not None:
            select, multiple = self.select
            form.options[select].append(attr.get("value", ""))
            if "selected" in attr:
                chosen = form.data.setdefault(select, [])
                chosen.append(attr.get("value", ""))
                if not multiple:
                    form.data[select] = chosen[-1:]
        elif tag == "textarea":
            self.textarea = name
            form.types[name] = "textarea"
            form.data[name] = [""]
            if "required" in attr:
                form.required.add(name)

    def handle_data(self, data: str) -> None:
        if self.form is not None and self.textarea is not None:
            self.form.data[self.textarea][0] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def page_forms(url: str, html: str) -> list[PageForm]:
    parser = FormParser(url)
    parser.feed(html)
    return parser.forms


def filled(form: PageForm) -> dict[str, list[str]]:
    """What a person sends: the page's values, what the browser picks, and the required fields typed."""
    data = {name: list(values) for name, values in form.data.items()}
    start = timezone.localtime() + timedelta(days=1)
    for offset, (name, kind) in enumerate(form.types.items()):
        if data.get(name, [""]) not in ([], [""]):
            continue
        options = form.options.get(name, [])
        if kind == "select":
            # A browser sends a single select's first option; a person picks a real one where required.
            data[name] = [value for value in options if value][:1] if name in form.required else options[:1]
        elif kind == "radio":
            data[name] = options[:1]  # a person answers the question
        elif name not in form.required:
            continue
        elif kind == "datetime-local":
            data[name] = [(start + timedelta(hours=offset)).strftime("%Y-%m-%dT%H:%M")]
        elif kind == "date":
            data[name] = [start.date().isoformat()]
        elif kind == "month":
            data[name] = [start.strftime("%Y-%m")]
        elif kind == "number":
            data[name] = ["1"]
        elif kind == "email":
            data[name] = ["fuzz@example.com"]
        else:
            data[name] = ["fuzz"]
    return data


def date_inputs(form: PageForm) -> list[tuple[str, str]]:
    return [(name, kind) for name, kind in form.types.items() if kind in EXTREME_VALUES]


def text_inputs(form: PageForm) -> list[str]:
    return [name for name, kind in form.types.items() if kind in TEXT_TYPES]


def page_links(url: str, html: str) -> list[str]:
    return [urljoin(url, unescape(href)) for href in re.findall(r'href="([^"#]+)"', html)]


@dataclass
class Portal:
    """The signed-in clients of every persona, the pages to search for forms, and the screens that read."""

    clients: dict[str, Client]
    users: dict[str, object]
    pages: dict[str, list[str]]
    screens: list[str]

    def files(self) -> list[tuple[str, str]]:
        """(persona, URL) of every file the portal writes from stored text: each event's .ics, each
        person's calendar feed, the survey answers and the KPI figures as CSV."""
        from events.services import calendar_feed_for
        from events.views import feed_token

        urls = [("manager", reverse("goals:kpi_export")), ("manager", reverse("feedback:results_csv"))]
        for pk in TeamEvent.objects.values_list("pk", flat=True):
            urls.append(("manager", reverse("events:event_ics", args=[pk])))
        for persona, user in self.users.items():
            feed = calendar_feed_for(user)
            urls.append((persona, reverse("events:calendar_feed", args=[user.pk, feed_token(feed)])))
        return urls


@pytest.fixture
def portal(request, seed, branch, manager, sales_rep, advisor, technician) -> Portal:
    """Rows behind every form that takes a date: an event with an action item, a goal, a voice item,
    a car with its 車検 expiry and a survey invitation; and every persona signed in."""
    from events import services as goal_services
    from feedback import services as feedback_services
    from feedback.models import VoiceCategory, VoiceSource
    from goals import services as kpi_services
    from tests.events.conftest import tomorrow_at

    event = goal_services.plan_event(
        by=manager,
        branch=branch,
        kind="study",
        title="勉強会",
        starts_at=tomorrow_at(18),
        ends_at=tomorrow_at(19),
        invited_departments=["sales", "service", "management"],
    )
    goal_services.add_action_item(event, by=manager, text="見積の見直し", assignee=sales_rep)
    goal = kpi_services.create_goal(
        by=manager,
        metric="new_car_deliveries",
        target=5,
        period="month",
        start_date=timezone.localdate(),
        branch=branch,
        departments=["sales", "service"],
    )
    customer = seed.job.customer
    voice = feedback_services.record_voice(
        by=sales_rep,
        customer=customer,
        source=VoiceSource.PHONE,
        category=VoiceCategory.REQUEST,
        title="代車の相談",
        assignee=sales_rep,
    )
    seed.job.status, seed.job.delivered_at = "delivered", timezone.now() - timedelta(hours=30)
    seed.job.save(update_fields=["status", "delivered_at"])
    invitation, _created = feedback_services.create_invitation(seed.job, deliver=False)
    feedback_services.record_survey_sent(invitation)
    users = {persona: request.getfixturevalue(persona) for persona in PERSONAS}
    clients = {}
    for persona, user in users.items():
        clients[persona] = Client(raise_request_exception=False)
        clients[persona].force_login(user)
    clients["anonymous"] = Client(raise_request_exception=False)
    own_pages = [
        reverse("events:event_detail", args=[event.pk]),
        reverse("goals:goal_edit", args=[goal.pk]),
        reverse("feedback:voice_detail", args=[voice.pk]),
        f"{reverse('feedback:voice_create')}?customer={customer.pk}",
        reverse("customers:customer_detail", args=[customer.pk]),
    ]
    routes = portal_routes()
    pages = {
        persona: [url for index, route in enumerate(routes) if (url := path_variants(route, seed, persona, index)[0])]
        + own_pages
        for persona in PERSONAS
    }
    pages["anonymous"] = [feedback_services.survey_path(invitation)]
    screens = [
        reverse("home"),
        reverse("events:event_list"),
        reverse("events:event_list") + "?when=past",
        reverse("events:event_month"),
        reverse("events:event_detail", args=[event.pk]),
        reverse("goals:kpi_dashboard"),
        reverse("feedback:voice_list"),
        reverse("customers:customer_detail", args=[customer.pk]),
        reverse("feedback:results"),
        reverse("repairs:job_detail", args=[seed.job.pk]),
    ]
    return Portal(clients=clients, users=users, pages=pages, screens=screens)


def discovered_forms(portal: Portal, identity: str) -> list[PageForm]:
    """The forms of every page the persona reaches, each (action, fields) once."""
    found: dict[tuple[str, str, tuple[str, ...]], PageForm] = {}
    client = portal.clients[identity]
    for url in portal.pages[identity]:
        response = client.get(url)
        for form in page_forms(url, page_html(response)):
            found.setdefault((form.method, form.action, tuple(sorted(form.types))), form)
    return list(found.values())


def read_everything(portal: Portal, expected: dict[tuple[str, str], int]) -> list[str]:
    """Every persona's screens and files, each compared with what it answered before the write."""
    failures = []
    for (persona, url), status in expected.items():
        response = portal.clients[persona].get(url)
        if response.status_code != status:
            error = response.exc_info[1] if getattr(response, "exc_info", None) else ""
            failures.append(f"{persona} GET {url}: {response.status_code}, was {status} {error!r}")
    for persona, url in portal.files():
        response = portal.clients[persona].get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if response.status_code >= 500:
            failures.append(f"{persona} GET {url}: {response.status_code} {response.exc_info[1]!r}")
        elif response.status_code == 200 and injected(url, body):
            failures.append(f"{persona} GET {url}: a line break of the input started a line of the file")
    return failures


def injected(url: str, body: bytes) -> bool:
    """Whether text of LINE_BREAKS began a line (an iCalendar property, a CSV record) of the file."""
    text = body.decode("utf-8")
    if url.endswith(".csv"):
        # Inside a quoted cell a line break is CSV's own escaping: only a new record counts.
        return any(row and row[0].startswith("X-INJECTED") for row in csv.reader(io.StringIO(text)))
    calendar = icalendar.Calendar.from_ical(body)  # raises if the file is no longer iCalendar
    return calendar is None or any(line.startswith("X-INJECTED") for line in re.split(r"\r\n|\r|\n", text))


def screen_statuses(portal: Portal, identity: str) -> dict[tuple[str, str], int]:
    """What the screens answer before any hostile write: every persona's home page, and every
    screen of the one who writes (of a manager for the anonymous survey, whose answers managers read)."""
    reader = identity if identity in PERSONAS else "manager"
    pairs = [(persona, reverse("home")) for persona in PERSONAS] + [
        (reader, url) for url in portal.screens if url != reverse("home")
    ]
    statuses = {(persona, url): portal.clients[persona].get(url).status_code for persona, url in pairs}
    assert all(statuses[(persona, reverse("home"))] == 200 for persona in PERSONAS)
    assert statuses[(reader, reverse("events:event_list"))] == 200
    return statuses


def post_and_read(portal: Portal, identity: str, url: str, data: dict, expected: dict, label: str) -> list[str]:
    """POST in a savepoint; after a write (the portal answers each with a redirect) read everything; roll back.

    A refused form is shown again (200 or 400) and wrote nothing: the walk
    above checks that refusals leave the tables as they were.
    """
    with transaction.atomic():
        response = portal.clients[identity].post(url, data)
        if response.status_code >= 500:
            failures = [f"{response.status_code} POST {url} {label}: {response.exc_info[1]!r}"]
        elif response.status_code in {301, 302, 303}:
            failures = [f"after POST {url} {label}: {failure}" for failure in read_everything(portal, expected)]
        else:
            failures = []
        transaction.set_rollback(True)
    return failures


@pytest.mark.parametrize("identity", PERSONAS)
def test_extreme_dates_in_every_date_field_break_no_screen_that_reads_them(identity, portal):
    expected = screen_statuses(portal, identity)
    forms_with_dates = [form for form in discovered_forms(portal, identity) if date_inputs(form)]
    posted = [form for form in forms_with_dates if form.method == "post"]
    if identity == "manager":
        assert len(posted) >= 5, "the walk found too few forms with dates for the manager"
    failures, sent = [], 0
    for form in posted:
        for name, kind in date_inputs(form):
            for value in EXTREME_VALUES[kind]:
                data = filled(form) | {name: [value]}
                failures += post_and_read(portal, identity, form.action, data, expected, f"({name}={value})")
                sent += 1
    assert not posted or sent >= len(posted) * len(EXTREME_DAYS)
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:30])


@pytest.mark.parametrize("identity", PERSONAS)
def test_extreme_dates_in_every_date_query_parameter_are_refused_not_a_500(identity, portal):
    client = portal.clients[identity]
    targets: dict[str, tuple[dict, dict[str, str]]] = {}  # path → (other values, date parameters → input kind)
    downloads: dict[str, list[str]] = {}  # path → the CSV links of the page
    routes_seen: dict[str, str] = {}
    for url in portal.pages[identity]:
        html = page_html(client.get(url))
        page = url.split("?")[0]
        for form in page_forms(url, html):
            if form.method == "get" and date_inputs(form):
                others, params = targets.setdefault(form.action.split("?")[0], ({}, {}))
                params.update(date_inputs(form))
                others.update({name: values for name, values in filled(form).items() if name not in params})
        for link in page_links(url, html):
            path, _sep, query = link.partition("?")
            if path.endswith(".csv"):
                downloads.setdefault(page, []).append(path)
            values = parse_qs(query)
            dated = {
                name: "month" if len(value[0]) == 7 else "date"
                for name, value in values.items()
                if DATE_SHAPED.fullmatch(value[0])
            }
            # One URL per route: the fifteen KPI drill-downs read their dates alike.
            if dated and routes_seen.setdefault(resolve(path).route, path) == path:
                others, params = targets.setdefault(path, ({}, {}))
                params.update(dated)
                others.update({name: value for name, value in values.items() if name not in dated})
    # A download takes its page's query: the page's date parameters go to its CSV links too.
    for page, paths in downloads.items():
        for path in paths:
            if page in targets:
                targets.setdefault(path, ({}, {}))[1].update(targets[page][1])
    if identity == "manager":
        assert {"start", "end", "month"} <= {name for _others, params in targets.values() for name in params}
    failures = []
    for path, (others, params) in targets.items():
        days = [name for name, kind in params.items() if kind == "date"]
        for index in range(len(EXTREME_DAYS)):
            # Each parameter alone, and every day of the period at once (start = end = 9999-12-31).
            variants = [{name: [EXTREME_VALUES[kind][index]]} for name, kind in params.items()]
            variants += [{name: [EXTREME_DAYS[index]] for name in days}] if len(days) > 1 else []
            for variant in variants:
                # Dates of a preset period are ignored (or switch it to "from – to"): try both.
                for period in [others.get("period"), ["custom"]] if "period" in others else [None]:
                    query = {**others, **variant} | ({"period": period} if period else {})
                    response = client.get(path, query)
                    if response.status_code != 200:
                        failures.append(f"{response.status_code} GET {path} {variant} {period}")
    assert not failures, "\n".join(failures[:30])


@pytest.mark.parametrize("identity", ["anonymous", *PERSONAS])
def test_line_breaks_in_every_text_field_stay_inside_the_files_that_show_them(identity, portal):
    expected = screen_statuses(portal, identity)
    forms_with_text = [
        form for form in discovered_forms(portal, identity) if form.method == "post" and text_inputs(form)
    ]
    assert forms_with_text, "the walk found no form with text"
    failures = []
    for form in forms_with_text:
        data = filled(form) | {name: [LINE_BREAKS] for name in text_inputs(form)}
        failures += post_and_read(portal, identity, form.action, data, expected, "(line breaks)")
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:30])


def test_a_kpi_import_with_cells_beyond_the_csv_field_limit_is_refused_not_a_500(portal):
    client = portal.clients["manager"]
    for cell in ("9" * 131_073, '"' + "x" * 200_000, "a,b\r\n" * 40_000):
        text = f"date,branch,metric,value\n2026-01-01,tokyo-east,walk_ins,{cell}\n"
        upload = SimpleUploadedFile("figures.csv", text.encode(), content_type="text/csv")
        response = client.post(reverse("goals:kpi_manual_import"), {"file": upload})
        assert response.status_code == 400, cell[:10]
        assert response.context["import_result"].errors or response.context["import_form"].errors
