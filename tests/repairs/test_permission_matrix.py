"""The permission matrix of DESIGN.md ("People, roles, branches"), tested as a whole.

MATRIX below is that table's repair rows, copied as data: every role × every
action is driven through the real views, for a job of the user's own branch
(allowed → success, may see but not act → 403) and for the same role in
another branch (→ 404, the job does not exist for them). Customer contact
visibility is one of the actions. Approval, lead and status-link rows are
tested with their loops (tests/repairs/test_approvals.py and friends).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Department, Role
from repairs.models import JobEvent, RepairJob, Status
from tests.factories import CustomerFactory, RepairJobFactory, UserFactory, VehicleFactory

pytestmark = pytest.mark.django_db

ROLES = ("sales_rep", "technician", "service_advisor", "manager")
DEPARTMENT = {
    "sales_rep": Department.SALES,
    "technician": Department.SERVICE,
    "service_advisor": Department.SERVICE,
    "manager": Department.MANAGEMENT,
}

# action → the roles allowed (DESIGN.md). "own" = only on their own jobs /
# customers; the "other" column of those rows is tested separately below.
MATRIX: dict[str, set[str]] = {
    "see_job": {"sales_rep", "technician", "service_advisor", "manager"},
    "create_job": {"sales_rep", "service_advisor", "manager"},
    "change_status": {"technician", "service_advisor", "manager"},  # technician: own / unassigned
    "hand_over": {"sales_rep", "service_advisor", "manager"},  # sales rep: own customers
    "assign": {"service_advisor", "manager"},
    "set_promise": {"service_advisor", "manager"},
    "see_contact": {"sales_rep", "service_advisor", "manager"},
    "post_message": {"sales_rep", "technician", "service_advisor", "manager"},
}
PHONE = "03-1234-9876"
EMAIL = "kenichi.sato@example.jp"


def person(role: str, branch, suffix: str = ""):
    return UserFactory(
        email=f"{role}{suffix}.{branch.code}@example.com",
        display_name=f"{role} {branch.code}{suffix}",
        role=role,
        department=DEPARTMENT[role],
        branch=branch,
    )


@pytest.fixture
def world(branch):
    """One user per role in the branch, and a job that is 'theirs' where ownership matters."""
    people = {role: person(role, branch) for role in ROLES}
    customer = CustomerFactory(branch=branch, sales_owner=people["sales_rep"], phone=PHONE, email=EMAIL)
    job = RepairJobFactory(
        vehicle=VehicleFactory(customer=customer),
        sales_owner=people["sales_rep"],
        requested_by=people["service_advisor"],
        technician=people["technician"],
    )
    return people, job


def act(action: str, client, job: RepairJob, user):
    """Do `action` on `job` through its view; returns the response."""
    if action == "see_job":
        return client.get(job.get_absolute_url())
    if action == "create_job":
        return client.get(reverse("repairs:job_create"))
    if action == "change_status":
        return client.post(reverse("repairs:job_status", args=[job.pk]), {"to": "diagnosing", "version": job.version})
    if action == "hand_over":
        RepairJob.objects.filter(pk=job.pk).update(status=Status.READY)
        return client.post(reverse("repairs:job_status", args=[job.pk]), {"to": "delivered", "version": job.version})
    if action == "assign":
        return client.post(reverse("repairs:job_assign", args=[job.pk]), {"technician": ""})
    if action == "set_promise":
        when = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
        return client.post(reverse("repairs:job_promise", args=[job.pk]), {"promised_at": when, "reason": "部品待ち"})
    if action == "see_contact":
        return client.get(job.get_absolute_url())
    if action == "post_message":
        return client.post(reverse("repairs:job_message", args=[job.pk]), {"body": "確認します", "kind": "note"})
    raise AssertionError(action)


def succeeded(action: str, response, job: RepairJob) -> bool:
    if action == "see_contact":
        body = response.content.decode()
        return response.status_code == 200 and PHONE in body and EMAIL in body
    if action in ("change_status", "hand_over"):
        return response.status_code == 302 and JobEvent.objects.filter(job=job, kind="status").exists()
    if action == "assign":
        return response.status_code == 302 and JobEvent.objects.filter(job=job, kind="assigned").exists()
    if action == "set_promise":
        return response.status_code == 302 and JobEvent.objects.filter(job=job, kind="promise").exists()
    if action == "post_message":
        return response.status_code == 302 and job.messages.exists()
    return response.status_code == 200


@pytest.mark.parametrize("action", sorted(MATRIX))
@pytest.mark.parametrize("role", ROLES)
def test_each_role_may_do_exactly_what_the_matrix_says_in_their_own_branch(action, role, world, client):
    people, job = world
    user = people[role]
    client.force_login(user)
    response = act(action, client, job, user)
    if role in MATRIX[action]:
        assert succeeded(action, response, job), (action, role, response.status_code)
    elif action == "see_contact":
        body = response.content.decode()
        assert response.status_code == 200
        assert PHONE not in body and EMAIL not in body
    else:
        assert response.status_code == 403, (action, role, response.status_code)
        assert not succeeded(action, response, job)


@pytest.mark.parametrize("action", sorted(set(MATRIX) - {"create_job"}))
@pytest.mark.parametrize("role", ROLES)
def test_the_same_role_in_another_branch_gets_404_and_changes_nothing(action, role, world, other_branch, client):
    _people, job = world
    stranger = person(role, other_branch)
    client.force_login(stranger)
    events_before = JobEvent.objects.filter(job=job).count()
    response = act(action, client, job, stranger)
    assert response.status_code == 404, (action, role, response.status_code)
    assert JobEvent.objects.filter(job=job).count() == events_before
    assert not job.messages.exists()


def test_a_technician_may_not_move_a_job_assigned_to_someone_else(world, branch, client):
    _people, job = world
    client.force_login(person("technician", branch, suffix="2"))
    assert act("change_status", client, job, None).status_code == 403


def test_a_technician_may_move_an_unassigned_job(world, client):
    people, job = world
    RepairJob.objects.filter(pk=job.pk).update(technician=None)
    job.refresh_from_db()
    client.force_login(people["technician"])
    assert succeeded("change_status", act("change_status", client, job, None), job)


def test_a_sales_rep_may_hand_over_only_their_own_customers_cars(world, branch, client):
    _people, job = world
    client.force_login(person("sales_rep", branch, suffix="2"))
    assert act("hand_over", client, job, None).status_code == 403
    assert RepairJob.objects.get(pk=job.pk).status == Status.READY


def test_an_all_branch_manager_acts_on_every_branch(world, other_branch, client):
    _people, job = world
    chief = person("manager", other_branch)
    chief.all_branches = True
    chief.save()
    client.force_login(chief)
    assert succeeded("set_promise", act("set_promise", client, job, chief), job)
    assert succeeded("see_contact", act("see_contact", client, job, chief), job)


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        ("sales_rep", {"my_cars", "board", "job_list", "job_create"}, {"my_queue"}),
        ("technician", {"my_queue", "board", "job_list"}, {"my_cars", "job_create"}),
        ("service_advisor", {"board", "job_list", "job_create"}, {"my_cars", "my_queue"}),
        ("manager", {"my_cars", "board", "job_list", "job_create"}, {"my_queue"}),
    ],
)
def test_navigation_comes_from_the_permission_module(role, shown, hidden, branch):
    from repairs.permissions import navigation_items

    names = {item["name"] for item in navigation_items(person(role, branch))}
    assert shown <= names
    assert not hidden & names


def test_no_template_decides_by_role():
    """Roles are decided in permissions.py: templates get booleans from views."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.html")
        if any(token in path.read_text() for token in (".role ==", "is_technician", "is_sales", "is_advisor"))
    ]
    assert offenders == []


def test_roles_are_known_to_the_matrix():
    assert set(ROLES) == set(Role.values)
