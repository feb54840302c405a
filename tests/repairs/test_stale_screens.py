"""No polled screen goes stale: every path that changes what a screen shows tells it.

Each case opens a screen as its person does, keeps the ETag as htmx does,
changes one thing the screen shows through one path — the service, the
Django admin (a superuser's change form or action, through the client), or
the portal's own page — and polls again with `If-None-Match`. The answer
must be a fresh render (200) that shows the new value, never a 304 of the
old content. The matrix below is every (screen, thing shown, path).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from accounts.models import Department, Role, User
from customers.models import Customer, Vehicle
from dealership import versions
from dealership.models import Notification
from dealership.notifications import mark_read
from repairs import approvals, leads, services, status_links
from repairs.models import (
    CUSTOMER_STATUS_STAFF_LABELS,
    ApprovalRequest,
    CustomerStatus,
    JobMessage,
    JobReadMarker,
    RepairJob,
    SalesLead,
    Status,
)
from tests.factories import CustomerFactory, RepairJobFactory, UserFactory, VehicleFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
NEW_NAME = "整備 大輔"
NEW_CUSTOMER = "鈴木 一郎"
NEW_PLATE = "横浜 500 さ 99-99"
NEW_MODEL = "Aqua"


# --- submitting a page's form as a browser would ---------------------------------


class _Forms(HTMLParser):
    """Every form of a page, with the values a browser would submit unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, list[str]]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        attributes = dict(attrs)
        name = attributes.get("name")
        if tag == "form":
            self.forms.append({})
        elif not self.forms:
            return
        elif tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in ("submit", "button", "file", "image") or (
                kind in ("checkbox", "radio") and "checked" not in attributes
            ):
                return
            self.forms[-1].setdefault(name, []).append(attributes.get("value") or ("on" if kind == "checkbox" else ""))
        elif tag == "select":
            self._select = name
            self.forms[-1].setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attributes:
            self.forms[-1][self._select].append(attributes.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.forms[-1][name] = [""]

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.forms[-1][self._textarea][-1] += data


def submit(client: Client, url: str, having: str, /, **changes: str) -> None:
    """GET `url`, take the form that has a `having` field, change some fields and POST it."""
    page = client.get(url)
    assert page.status_code == 200, url
    parser = _Forms()
    parser.feed(page.content.decode())
    [data] = [form for form in parser.forms if having in form]
    data = {name: [value.removeprefix("\n") for value in values] for name, values in data.items()}
    data.update({name: [value] for name, value in changes.items()})
    data["_save"] = ["Save"]
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]


def admin_change(client: Client, model_name: str, pk: int, having: str, /, **changes: str) -> None:
    submit(client, reverse(f"admin:{model_name.replace('.', '_')}_change", args=[pk]), having, **changes)


def admin_action(client: Client, model: str, action: str, pk: int) -> None:
    response = client.post(
        reverse(f"admin:{model.replace('.', '_')}_changelist"), {"action": action, "_selected_action": [pk]}
    )
    assert response.status_code == 302


# --- the dealership the cases run in ---------------------------------------------


@dataclass
class World:
    """One branch, its people and one job on every screen: an internal request
    (so it is on the sales rep's "My requests") assigned to the technician."""

    job: RepairJob
    sales_rep: User
    advisor: User
    technician: User
    other_technician: User
    manager: User
    chief: User  # a manager who sees every branch (moves people between branches)
    root: User  # a superuser, for the Django admin
    other_branch: object
    clients: dict[int, Client] = field(default_factory=dict)

    def client(self, user: User | None) -> Client:
        """One browser per person (the viewer's own session stays as it was)."""
        key = user.pk if user else 0
        if key not in self.clients:
            self.clients[key] = Client()
            if user is not None:
                self.clients[key].force_login(user)
        return self.clients[key]

    @property
    def admin(self) -> Client:
        return self.client(self.root)

    def fresh(self) -> RepairJob:
        return RepairJob.objects.select_related("customer", "vehicle", "branch").get(pk=self.job.pk)

    @cached_property
    def approval(self) -> ApprovalRequest:
        job = self.fresh()
        services.change_status(job, to="diagnosing", by=self.technician, expected_version=job.version)
        return approvals.request_approval(job, by=self.technician, work="ベルト交換", estimate_yen=9800)

    @cached_property
    def lead(self) -> SalesLead:
        return leads.flag_sales_lead(self.fresh(), by=self.technician, reason="new_models", note="新型に興味")

    @cached_property
    def link(self):
        return status_links.create_status_link(self.fresh(), by=self.sales_rep)

    @cached_property
    def message(self) -> JobMessage:
        return services.post_message(self.fresh(), by=self.technician, body="部品を発注しました")


@pytest.fixture
def world(branch, other_branch, sales_rep, advisor, technician, other_technician, manager, time_machine) -> World:
    # The approvals lists show running minutes and render again at each minute
    # boundary: start each case just after one, so "unchanged" still means 304.
    time_machine.move_to(timezone.now().replace(second=1, microsecond=0) + timedelta(minutes=1))
    customer = CustomerFactory(branch=branch, sales_owner=sales_rep, name="佐藤 健一", name_kana="サトウ ケンイチ")
    vehicle = VehicleFactory(customer=customer, plate_number="品川 300 あ 12-34", model="Prius")
    promised = timezone.localtime(timezone.now() + timedelta(days=2)).replace(hour=15, minute=0, second=0)
    job = RepairJobFactory(
        vehicle=vehicle,
        kind="pdi",
        sales_owner=sales_rep,
        requested_by=sales_rep,
        service_advisor=advisor,
        technician=technician,
        promised_at=promised,
    )
    chief = UserFactory(role=Role.MANAGER, department=Department.MANAGEMENT, branch=branch, all_branches=True)
    root = UserFactory(branch=branch, role=Role.MANAGER, is_staff=True, is_superuser=True)
    return World(job, sales_rep, advisor, technician, other_technician, manager, chief, root, other_branch)


def ja(label) -> str:
    with translation.override("ja"):
        return str(label)


def english(label) -> str:
    with translation.override("en"):
        return str(label)


# --- the screens: who watches, and where --------------------------------------------


@dataclass(frozen=True)
class Screen:
    viewer: Callable[[World], User | None]
    url: Callable[[World], str]
    htmx: bool = True


SCREENS: dict[str, Screen] = {
    "my cars": Screen(lambda w: w.sales_rep, lambda w: reverse("repairs:my_cars")),
    "all jobs": Screen(lambda w: w.advisor, lambda w: reverse("repairs:job_list")),
    "queue": Screen(lambda w: w.technician, lambda w: reverse("repairs:my_queue")),
    "board": Screen(lambda w: w.advisor, lambda w: reverse("repairs:board")),
    "job page": Screen(lambda w: w.sales_rep, lambda w: w.job.get_absolute_url()),
    "job page (full)": Screen(lambda w: w.advisor, lambda w: w.job.get_absolute_url(), htmx=False),
    "thread": Screen(lambda w: w.sales_rep, lambda w: reverse("repairs:job_thread", args=[w.job.pk])),
    "loops": Screen(lambda w: w.sales_rep, lambda w: reverse("repairs:job_approvals_leads", args=[w.job.pk])),
    "approvals": Screen(lambda w: w.sales_rep, lambda w: reverse("repairs:approvals")),
    "approvals panel": Screen(lambda w: w.sales_rep, lambda w: reverse("repairs:approvals") + "?compact=1"),
    "my requests": Screen(lambda w: w.sales_rep, lambda w: reverse("repairs:my_requests")),
    "bell": Screen(lambda w: w.sales_rep, lambda w: reverse("notifications_badge")),
    "status page": Screen(lambda w: None, lambda w: w.link.public_url),
}


# --- the changes: each path that makes it, and how each screen shows it --------------

Paths = dict[str, Callable[[World], None]]
Shows = Callable[[World, str, str], bool]  # (world, screen, body) → the new value is there


@dataclass(frozen=True)
class Change:
    paths: Paths
    screens: tuple[str, ...]
    shows: Shows
    setup: Callable[[World], object] = lambda w: None


def _status_by_staff_page(w: World) -> None:
    job = w.fresh()
    response = w.client(w.advisor).post(
        reverse("repairs:job_status", args=[job.pk]), {"to": "on_hold", "version": job.version, "confirmed": "on"}
    )
    assert response.status_code == 302


STATUS_PATHS: Paths = {
    "service": lambda w: services.change_status(w.fresh(), to="on_hold", by=w.advisor, expected_version=w.job.version),
    "admin": lambda w: admin_action(w.admin, "repairs.repairjob", "move_to_on_hold", w.job.pk),
    "staff page": _status_by_staff_page,
}


def _shows_on_hold(w: World, screen: str, body: str) -> bool:
    if screen == "board":
        return f'data-job="{w.job.number}"' in body.split('data-status="on_hold"', 1)[1].split("</section>", 1)[0]
    if screen in ("queue", "job page"):
        return f'data-testid="workshop-status">{ja(Status.ON_HOLD.label)}<' in body
    if screen == "status page":
        return f'data-testid="customer-status">{ja(CustomerStatus.ON_HOLD.label)}<' in body
    label = CUSTOMER_STATUS_STAFF_LABELS.get(CustomerStatus.ON_HOLD, CustomerStatus.ON_HOLD.label)
    return f'data-testid="customer-status">{ja(label)}<' in body


NEW_PROMISE = timezone.localtime(timezone.now() + timedelta(days=5)).replace(hour=10, minute=30, second=0)


def _promise_by_admin(w: World) -> None:
    admin_change(
        w.admin,
        "repairs.repairjob",
        w.job.pk,
        "promise_reason",
        promised_at_0=NEW_PROMISE.strftime("%Y-%m-%d"),
        promised_at_1=NEW_PROMISE.strftime("%H:%M:%S"),
        promise_reason="部品の入荷待ち",
    )


def _promise_by_staff_page(w: World) -> None:
    response = w.client(w.advisor).post(
        reverse("repairs:job_promise", args=[w.job.pk]),
        {"promised_at": NEW_PROMISE.strftime("%Y-%m-%dT%H:%M"), "reason": "部品の入荷待ち"},
    )
    assert response.status_code == 302


def _shows_new_promise(w: World, screen: str, body: str) -> bool:
    long_form = screen in ("job page", "status page")
    return NEW_PROMISE.strftime("%Y-%m-%d %H:%M" if long_form else "%m/%d %H:%M") in body


def _assign_by_staff_page(w: World) -> None:
    response = w.client(w.advisor).post(
        reverse("repairs:job_assign", args=[w.job.pk]), {"technician": w.other_technician.pk}
    )
    assert response.status_code == 302


def _shows_technician(name: Callable[[World], str]) -> Shows:
    def shows(w: World, screen: str, body: str) -> bool:
        if screen == "job page":
            return f'data-testid="technician">{name(w)}<' in body
        return name(w) in body

    return shows


def _leaves_the_queue(w: World, screen: str, body: str) -> bool:
    return f'data-job="{w.job.number}"' not in body


def _shows_reassigned(w: World, screen: str, body: str) -> bool:
    if screen == "queue":
        return _leaves_the_queue(w, screen, body)
    return _shows_technician(lambda w: w.other_technician.display_name)(w, screen, body)


def _unassign(w: World) -> None:
    services.assign_technician(w.fresh(), technician=None, by=w.advisor)


def _claim_by_staff_page(w: World) -> None:
    assert w.client(w.technician).post(reverse("repairs:job_claim", args=[w.job.pk])).status_code == 302


def _shows_claimed(w: World, screen: str, body: str) -> bool:
    if screen == "queue":  # from the pool to "assigned to me", with its workshop status
        return f'data-job="{w.job.number}">' in body and 'data-testid="workshop-status"' in body
    return _shows_technician(lambda w: w.technician.display_name)(w, screen, body)


def _customer_by_admin(w: World) -> None:
    admin_change(w.admin, "customers.customer", w.job.customer_id, "name_kana", name=NEW_CUSTOMER)


def _phone_by_admin(w: World) -> None:
    admin_change(w.admin, "customers.customer", w.job.customer_id, "name_kana", phone="03-9999-0000")


def _vehicle_by_admin(w: World) -> None:
    admin_change(
        w.admin, "customers.vehicle", w.job.vehicle_id, "plate_number", plate_number=NEW_PLATE, model=NEW_MODEL
    )


def _vehicle_by_customer_admin(w: World) -> None:
    admin_change(
        w.admin,
        "customers.customer",
        w.job.customer_id,
        "name_kana",
        **{"vehicles-0-plate_number": NEW_PLATE, "vehicles-0-model": NEW_MODEL},
    )


def _shows_vehicle(w: World, screen: str, body: str) -> bool:
    if screen in ("approvals", "approvals panel", "my requests"):
        return f"Toyota {NEW_MODEL}" in body
    if screen == "status page":
        return f"Toyota {NEW_MODEL}" in body and "横浜 500 さ ••-99" in body
    return NEW_PLATE in body


def _language_by_admin(w: World) -> None:
    admin_change(w.admin, "customers.customer", w.job.customer_id, "name_kana", language="en")


def _rename_by_admin(w: World) -> None:
    admin_change(w.admin, "accounts.user", w.technician.pk, "display_name", display_name=NEW_NAME)


def _role_by_team_page(w: World) -> None:
    url = reverse("accounts:staff_edit", args=[w.technician.pk])
    submit(w.client(w.manager), url, "role", role=Role.SERVICE_ADVISOR, department=Department.SERVICE)


def _role_by_admin(w: World) -> None:
    admin_change(w.admin, "accounts.user", w.technician.pk, "display_name", role=Role.SERVICE_ADVISOR)


def _shows_advisor_role(w: World, screen: str, body: str) -> bool:
    return f"· {ja(Role.SERVICE_ADVISOR.label)}</span>" in body


def _move_by_team_page(w: World) -> None:
    url = reverse("accounts:staff_edit", args=[w.technician.pk])
    submit(w.client(w.chief), url, "role", branch=str(w.other_branch.pk))


def _move_by_admin(w: World) -> None:
    admin_change(w.admin, "accounts.user", w.technician.pk, "display_name", branch=str(w.other_branch.pk))


def _shows_unassigned(w: World, screen: str, body: str) -> bool:
    if screen == "job page":
        return f'data-testid="technician">{ja(gettext_lazy("Unassigned"))}<' in body
    return w.technician.display_name not in body and ja(gettext_lazy("Unassigned")) in body


def _post_by_staff_page(w: World, author: Callable[[World], User], text: str) -> None:
    client = w.client(author(w))
    response = client.post(reverse("repairs:job_message", args=[w.job.pk]), {"body": text, "kind": "note"})
    assert response.status_code == 302


def _shows_unread(w: World, screen: str, body: str) -> bool:
    return 'data-testid="unread"' in body


def _read_by_staff_page(w: World) -> None:
    response = w.client(w.sales_rep).post(reverse("repairs:job_thread_read", args=[w.job.pk]))
    assert response.status_code == 204


def _request_by_staff_page(w: World) -> None:
    job = w.fresh()
    services.change_status(job, to="diagnosing", by=w.technician, expected_version=job.version)
    response = w.client(w.technician).post(
        reverse("repairs:approval_new", args=[w.job.pk]), {"work": "ベルト交換", "estimate_yen": "9800"}
    )
    assert response.status_code == 302


def _request_by_service(w: World) -> None:
    assert w.approval.pk


def _shows_request(w: World, screen: str, body: str) -> bool:
    return "ベルト交換" in body


def _decide_by_staff_page(w: World) -> None:
    response = w.client(w.sales_rep).post(
        reverse("repairs:approval_decide", args=[w.approval.pk]), {"decision": "approved", "contact_method": "phone"}
    )
    assert response.status_code == 302


def _shows_decision(w: World, screen: str, body: str) -> bool:
    if screen == "loops":
        return 'data-testid="approval" data-status="approved"' in body
    return "ベルト交換" not in body  # no longer waiting for the sales rep


def _lead_by_staff_page(w: World) -> None:
    response = w.client(w.technician).post(
        reverse("repairs:lead_new", args=[w.job.pk]), {"reason": "new_models", "note": "新型に興味"}
    )
    assert response.status_code == 302


def _lead_update_by_staff_page(w: World) -> None:
    response = w.client(w.sales_rep).post(
        reverse("repairs:lead_update", args=[w.lead.pk]), {"status": "contacted", "outcome_note": "来週試乗"}
    )
    assert response.status_code == 302


def _lead_update_by_admin(w: World) -> None:
    admin_change(w.admin, "repairs.saleslead", w.lead.pk, "outcome_note", status="contacted", outcome_note="来週試乗")


def _link_by_staff_page(w: World) -> None:
    assert w.client(w.sales_rep).post(reverse("repairs:status_link_create", args=[w.job.pk])).status_code == 302


def _revoke_by_staff_page(w: World) -> None:
    url = reverse("repairs:status_link_revoke", args=[w.job.pk, w.link.pk])
    assert w.client(w.sales_rep).post(url).status_code == 302


def _shows_unread_notifications(count: int) -> Shows:
    return lambda w, screen, body: f'data-unread="{count}"' in body


def _notify_sales_rep(w: World) -> None:
    services.change_status(w.fresh(), to="on_hold", by=w.advisor, expected_version=w.job.version)
    assert Notification.objects.filter(recipient=w.sales_rep, read_at__isnull=True).exists()


def _read_one_by_staff_page(w: World) -> None:
    notification = Notification.objects.filter(recipient=w.sales_rep).first()
    response = w.client(w.sales_rep).post(reverse("notification_mark_read", args=[notification.pk]))
    assert response.status_code == 302


def _open_by_staff_page(w: World) -> None:
    notification = Notification.objects.filter(recipient=w.sales_rep).first()
    assert w.client(w.sales_rep).get(reverse("notification_open", args=[notification.pk])).status_code == 302


def _intake_by_staff_page(w: World) -> None:
    response = w.client(w.advisor).post(
        reverse("repairs:job_create"),
        {
            "customer": "",
            "new_customer_name": "高橋 美咲",
            "new_vehicle_make": "Honda",
            "new_vehicle_model": "Fit",
            "kind": "repair",
            "title": "エアコン点検の新規受付",
            "priority": "3",
        },
    )
    assert response.status_code == 302


def _intake_by_service(w: World) -> None:
    services.intake(
        by=w.advisor,
        kind="repair",
        title="エアコン点検の新規受付",
        new_customer_name="高橋 美咲",
        new_vehicle_make="Honda",
        new_vehicle_model="Fit",
    )


CHANGES: dict[str, Change] = {
    "status": Change(
        STATUS_PATHS,
        ("my cars", "all jobs", "queue", "board", "job page", "my requests", "status page"),
        _shows_on_hold,
    ),
    "promised time": Change(
        {
            "service": lambda w: services.change_promised_time(
                w.fresh(), promised_at=NEW_PROMISE, reason="部品の入荷待ち", by=w.advisor
            ),
            "admin": _promise_by_admin,
            "staff page": _promise_by_staff_page,
        },
        ("my cars", "all jobs", "queue", "board", "job page", "my requests", "status page"),
        _shows_new_promise,
    ),
    "technician": Change(
        {
            "service": lambda w: services.assign_technician(w.fresh(), technician=w.other_technician, by=w.advisor),
            "admin": lambda w: admin_change(
                w.admin, "repairs.repairjob", w.job.pk, "promise_reason", technician=str(w.other_technician.pk)
            ),
            "staff page": _assign_by_staff_page,
        },
        ("my cars", "all jobs", "queue", "board", "job page"),
        _shows_reassigned,
    ),
    "claim": Change(
        {"service": lambda w: services.claim_job(w.fresh(), by=w.technician), "staff page": _claim_by_staff_page},
        ("my cars", "all jobs", "queue", "board", "job page"),
        _shows_claimed,
        setup=_unassign,
    ),
    "new job": Change(
        {"service": _intake_by_service, "staff page": _intake_by_staff_page},
        ("all jobs", "queue", "board"),
        lambda w, screen, body: "Honda Fit" in body,
    ),
    "customer name": Change(
        {"admin": _customer_by_admin},
        ("my cars", "all jobs", "approvals", "approvals panel", "my requests"),
        lambda w, screen, body: NEW_CUSTOMER in body,
        setup=lambda w: w.approval,
    ),
    "customer phone": Change(
        {"admin": _phone_by_admin}, ("job page (full)",), lambda w, screen, body: "03-9999-0000" in body
    ),
    "customer language": Change(
        {"admin": _language_by_admin},
        ("status page",),
        lambda w, screen, body: f'data-testid="customer-status">{english(CustomerStatus.RECEIVED.label)}<' in body,
    ),
    "vehicle": Change(
        {"admin": _vehicle_by_admin, "admin (customer page)": _vehicle_by_customer_admin},
        ("my cars", "all jobs", "queue", "board", "approvals", "approvals panel", "my requests", "status page"),
        _shows_vehicle,
        setup=lambda w: w.approval,
    ),
    "technician's name": Change(
        {"admin": _rename_by_admin},
        ("my cars", "all jobs", "board", "job page", "thread", "loops", "approvals"),
        lambda w, screen, body: NEW_NAME in body,
        setup=lambda w: (w.approval, w.message),
    ),
    "author's role": Change(
        {"staff page": _role_by_team_page, "admin": _role_by_admin},
        ("thread",),
        _shows_advisor_role,
        setup=lambda w: w.message,
    ),
    "technician's branch": Change(
        {"staff page": _move_by_team_page, "admin": _move_by_admin},
        ("my cars", "all jobs", "board", "job page"),
        _shows_unassigned,
    ),
    "message": Change(
        {
            "service": lambda w: services.post_message(w.fresh(), by=w.technician, body="オイル漏れあり"),
            "staff page": lambda w: _post_by_staff_page(w, lambda w: w.technician, "オイル漏れあり"),
        },
        ("thread",),
        lambda w, screen, body: "オイル漏れあり" in body,
    ),
    "unread badge": Change(
        {
            "service": lambda w: services.post_message(w.fresh(), by=w.manager, body="確認お願いします"),
            "staff page": lambda w: _post_by_staff_page(w, lambda w: w.manager, "確認お願いします"),
        },
        ("my cars", "all jobs", "queue", "board"),
        _shows_unread,
    ),
    "thread read": Change(
        {
            "service": lambda w: services.mark_thread_read(w.fresh(), by=w.sales_rep),
            "staff page": _read_by_staff_page,
        },
        ("my cars",),
        lambda w, screen, body: not _shows_unread(w, screen, body),
        setup=lambda w: services.post_message(w.fresh(), by=w.manager, body="確認お願いします"),
    ),
    "approval request": Change(
        {"service": _request_by_service, "staff page": _request_by_staff_page},
        ("loops", "approvals", "approvals panel"),
        _shows_request,
    ),
    "approval decision": Change(
        {
            "service": lambda w: approvals.record_approval_decision(
                w.approval, by=w.sales_rep, decision="approved", contact_method="phone"
            ),
            "admin": lambda w: admin_action(w.admin, "repairs.approvalrequest", "record_approved", w.approval.pk),
            "staff page": _decide_by_staff_page,
        },
        ("loops", "approvals", "approvals panel"),
        _shows_decision,
        setup=lambda w: w.approval,
    ),
    "approval reminder": Change(
        {
            "service": lambda w: approvals.remind_undecided_approvals(now=timezone.now() + timedelta(hours=2)),
        },
        ("approvals", "approvals panel"),
        lambda w, screen, body: "border-start border-4 border-warning" in body,
        setup=lambda w: w.approval,
    ),
    "lead": Change(
        {"service": lambda w: w.lead, "staff page": _lead_by_staff_page},
        ("loops",),
        lambda w, screen, body: "新型に興味" in body,
    ),
    "lead outcome": Change(
        {
            "service": lambda w: leads.update_lead(w.lead, by=w.sales_rep, status="contacted", outcome_note="来週試乗"),
            "admin": _lead_update_by_admin,
            "staff page": _lead_update_by_staff_page,
        },
        ("loops",),
        lambda w, screen, body: "来週試乗" in body,
        setup=lambda w: w.lead,
    ),
    "status link": Change(
        {"service": lambda w: w.link, "staff page": _link_by_staff_page},
        ("loops",),
        lambda w, screen, body: 'data-testid="status-link"' in body,
    ),
    "status link revoked": Change(
        {
            "service": lambda w: status_links.revoke_status_link(w.link, by=w.sales_rep),
            "admin": lambda w: admin_action(w.admin, "repairs.customerstatuslink", "revoke_links", w.link.pk),
            "staff page": _revoke_by_staff_page,
        },
        ("loops",),
        lambda w, screen, body: 'data-testid="status-link"' not in body,
        setup=lambda w: w.link,
    ),
    "notification": Change(
        {
            "service": _notify_sales_rep,
            "admin": lambda w: admin_action(w.admin, "repairs.repairjob", "move_to_on_hold", w.job.pk),
            "staff page": _status_by_staff_page,
        },
        ("bell",),
        _shows_unread_notifications(1),
    ),
    "notification read": Change(
        {
            "service": lambda w: mark_read(w.sales_rep),
            "staff page": _read_one_by_staff_page,
            "staff page (read all)": lambda w: w.client(w.sales_rep).post(reverse("notifications_mark_all_read")),
            "staff page (open)": _open_by_staff_page,
        },
        ("bell",),
        _shows_unread_notifications(0),
        setup=_notify_sales_rep,
    ),
}

CASES = [
    pytest.param(screen, change, path, id=f"{screen}-{change}-{path}")
    for change, spec in CHANGES.items()
    for screen in spec.screens
    for path in spec.paths
]


def poll(w: World, screen: Screen, etag: str | None = None):
    headers = {**(HTMX if screen.htmx else {}), **({"HTTP_IF_NONE_MATCH": etag} if etag else {})}
    return w.client(screen.viewer(w)).get(screen.url(w), **headers)


@pytest.mark.parametrize(("screen_name", "change_name", "path"), CASES)
def test_the_next_poll_shows_the_change(world, screen_name, change_name, path):
    screen, change = SCREENS[screen_name], CHANGES[change_name]
    change.setup(world)
    first = poll(world, screen)
    assert first.status_code == 200
    assert not change.shows(world, screen_name, first.content.decode()), "the value must be new"
    assert poll(world, screen, first["ETag"]).status_code == 304, "unchanged, it answers 304"

    change.paths[path](world)

    again = poll(world, screen, first["ETag"])
    assert again.status_code == 200
    assert change.shows(world, screen_name, again.content.decode())


def test_every_polled_screen_is_in_the_matrix():
    from dealership.http import polled_screen  # noqa: F401 -- the decorator that marks them
    from dealership.urls import urlpatterns

    def polled(patterns, prefix=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from polled(pattern.url_patterns, prefix + str(pattern.pattern))
            elif getattr(pattern.callback, "poll_screen", None) is not None:
                yield pattern.name

    covered = {
        "my_cars",
        "job_list",
        "my_queue",
        "board",
        "job_detail",
        "job_thread",
        "job_approvals_leads",
        "approvals",
    }
    covered |= {"my_requests", "notifications_badge"}
    assert set(polled(urlpatterns)) == covered
    assert {screen for change in CHANGES.values() for screen in change.screens} == set(SCREENS)


# --- the shared board keeps no old name -------------------------------------------


def test_a_renamed_technician_is_on_every_viewers_next_board_not_ten_minutes_later(world):
    second = UserFactory(branch=world.advisor.branch, role=Role.SERVICE_ADVISOR, department=Department.SERVICE)
    assert world.technician.display_name in world.client(world.advisor).get(reverse("repairs:board")).content.decode()
    _rename_by_admin(world)
    body = world.client(second).get(reverse("repairs:board")).content.decode()
    assert NEW_NAME in body
    assert world.technician.display_name not in body


# --- the viewer's own changes -------------------------------------------------------


def test_a_demoted_advisor_no_longer_sees_the_phone_on_the_next_request(world):
    client = world.client(world.advisor)
    first = client.get(world.job.get_absolute_url())
    assert world.job.customer.phone in first.content.decode()
    submit(
        world.client(world.manager),
        reverse("accounts:staff_edit", args=[world.advisor.pk]),
        "role",
        role=Role.TECHNICIAN,
        department=Department.SERVICE,
    )
    again = client.get(world.job.get_absolute_url(), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert world.job.customer.phone not in again.content.decode()


@pytest.mark.parametrize("screen_name", ["all jobs", "board", "queue", "job page", "approvals", "my requests"])
def test_a_role_change_on_the_team_page_reaches_the_viewers_own_screens(world, screen_name):
    screen = Screen(lambda w: w.advisor, SCREENS[screen_name].url)
    first = poll(world, screen)
    url = reverse("accounts:staff_edit", args=[world.advisor.pk])
    submit(world.client(world.chief), url, "role", role=Role.MANAGER, department=Department.MANAGEMENT)
    assert poll(world, screen, first["ETag"]).status_code == 200


# --- writes that must not go around the services ------------------------------------


@pytest.mark.parametrize(
    "model", ["repairs.jobmessage", "repairs.jobreadmarker", "repairs.jobevent", "dealership.notification"]
)
def test_the_admin_cannot_change_or_delete_what_the_screens_show_without_a_service(world, model):
    world.message  # noqa: B018 -- a message, its read marker, its notifications
    services.mark_thread_read(world.fresh(), by=world.sales_rep)
    app_model = {
        "repairs.jobmessage": JobMessage,
        "repairs.jobreadmarker": JobReadMarker,
        "repairs.jobevent": world.job.events.model,
        "dealership.notification": Notification,
    }[model]
    row = app_model.objects.first()
    name = model.replace(".", "_")
    change = world.admin.post(reverse(f"admin:{name}_change", args=[row.pk]), {"body": "書き換え"})
    delete = world.admin.post(reverse(f"admin:{name}_delete", args=[row.pk]), {"post": "yes"})
    assert change.status_code == 403
    assert delete.status_code == 403
    assert world.admin.get(reverse(f"admin:{name}_changelist")).status_code == 200
    assert app_model.objects.filter(pk=row.pk).exists()


def test_the_admin_cannot_delete_a_staff_member_whose_name_the_history_shows(world):
    url = reverse("admin:accounts_user_delete", args=[world.technician.pk])
    assert world.admin.post(url, {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=world.technician.pk).exists()


def test_a_model_save_tells_no_screen_the_services_do(world):
    """The bumps live in the services: a script's save() does not re-render every screen of the branch."""
    keys = ["branch:all", f"branch:{world.job.branch_id}", "people", f"job:{world.job.pk}"]
    before = versions.tokens(keys)
    customer = Customer.objects.get(pk=world.job.customer_id)
    customer.phone = "03-0000-1111"
    customer.save()
    vehicle = Vehicle.objects.get(pk=world.job.vehicle_id)
    vehicle.mileage = 50000
    vehicle.save()
    job = world.fresh()
    job.title = "タイトル修正"
    job.save()
    world.technician.display_name = "名前だけ"
    world.technician.save()
    assert versions.tokens(keys) == before


def test_a_change_no_polled_screen_shows_bumps_nothing(world):
    from customers.services import set_shaken_expiry

    keys = ["branch:all", f"branch:{world.job.branch_id}", "people"]
    before = versions.tokens(keys)
    set_shaken_expiry(world.job.vehicle, shaken_expiry=timezone.localdate() + timedelta(days=400), by=world.sales_rep)
    services.intake(
        by=world.advisor,
        kind="repair",
        title="新規",
        new_customer_name="新しい お客様",
        new_vehicle_make="Honda",
        new_vehicle_model="Fit",
    )
    assert versions.tokens(keys) == before


def test_a_message_leaves_the_job_row_alone(world):
    """Posting writes the thread and tells the screens; the busy job row is not updated per message."""
    job = world.fresh()
    with CaptureQueriesContext(connection) as queries:
        services.post_message(job, by=world.technician, body="写真を送ります")
    assert not [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "repairs_repairjob"')]


def test_a_retried_survey_email_goes_through_the_service(world, django_capture_on_commit_callbacks, mailoutbox):
    from feedback.models import SurveyInvitation
    from feedback.services import create_invitation

    job = world.fresh()
    invitation, _created = create_invitation(job, deliver=False)
    SurveyInvitation.objects.filter(pk=invitation.pk).update(send_status=SurveyInvitation.SendStatus.FAILED, attempts=3)
    with django_capture_on_commit_callbacks(execute=True):
        admin_action(world.admin, "feedback.surveyinvitation", "retry_email", invitation.pk)
    invitation.refresh_from_db()
    assert invitation.send_status == SurveyInvitation.SendStatus.SENT
    assert job.events.filter(kind="survey_sent").exists()


# --- what follows the clock ------------------------------------------------------------


def test_the_loops_section_counts_the_minutes_an_open_request_waits(world, time_machine):
    world.approval  # noqa: B018
    screen = SCREENS["loops"]
    first = poll(world, screen)
    assert "0 min" in first.content.decode()
    time_machine.move_to(timezone.now() + timedelta(seconds=61))
    again = poll(world, screen, first["ETag"])
    assert again.status_code == 200
    assert "1 min" in again.content.decode()


def test_a_request_turns_at_risk_on_my_requests_an_hour_before_it_is_due(world, time_machine):
    job = world.fresh()
    services.change_promised_time(
        job, promised_at=timezone.now() + timedelta(minutes=90), reason="早める", by=world.advisor
    )
    screen = SCREENS["my requests"]
    first = poll(world, screen)
    assert 'data-risk=""' in first.content.decode()
    assert poll(world, screen, first["ETag"]).status_code == 304
    time_machine.move_to(timezone.now() + timedelta(minutes=31))
    again = poll(world, screen, first["ETag"])
    assert again.status_code == 200
    assert 'data-risk="at_risk"' in again.content.decode()


def test_the_customer_is_warned_on_the_status_page_when_the_link_is_about_to_stop(world, time_machine, settings):
    job = world.fresh()
    job.status = Status.READY
    job.save()
    services.change_status(job, to="delivered", by=world.sales_rep, expected_version=job.version)
    screen = SCREENS["status page"]
    first = poll(world, screen)
    warning = ja(gettext_lazy("This page will stop working soon."))
    assert warning not in first.content.decode()
    assert poll(world, screen, first["ETag"]).status_code == 304
    days = settings.STATUS_LINK_DAYS_AFTER_DELIVERY
    time_machine.move_to(timezone.now() + timedelta(days=days - 2, seconds=1))
    again = poll(world, screen, first["ETag"])
    assert again.status_code == 200
    assert warning in again.content.decode()
