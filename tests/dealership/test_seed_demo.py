from __future__ import annotations

import io
import logging
import re

import pytest
from django.apps import apps
from django.core.management import call_command

from accounts.models import Role, User

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"dealership", "accounts", "customers", "repairs"}
    }


def test_seed_demo_twice_gives_the_same_counts():
    call_command("seed_demo", verbosity=0)
    first = counts()
    call_command("seed_demo", verbosity=0)
    assert counts() == first
    assert first["dealership.Branch"] == 2
    assert first["customers.Customer"] >= 40


def test_seed_demo_creates_the_documented_logins_in_every_role():
    call_command("seed_demo", verbosity=0)
    for email in ("sales@example.com", "technician@example.com", "advisor@example.com", "manager@example.com"):
        assert User.objects.get(email=email).check_password("dealership-demo")
    for branch_code in ("tokyo-east", "yokohama"):
        roles = set(User.objects.filter(branch__code=branch_code).values_list("role", flat=True))
        assert roles == set(Role.values)


def test_seed_demo_if_empty_leaves_an_existing_dealership_alone():
    from dealership.models import Branch

    Branch.objects.create(code="only", name="既存店")
    call_command("seed_demo", "--if-empty", verbosity=0)
    assert list(Branch.objects.values_list("code", flat=True)) == ["only"]


def test_the_seed_prints_the_logins_once_and_a_survey_link_to_answer(client, settings, caplog):
    out = io.StringIO()
    with caplog.at_level(logging.WARNING):
        call_command("seed_demo", stdout=out)

    printed = out.getvalue()
    assert printed.count("Demo logins (password: dealership-demo):") == 1
    assert printed.count("sales@example.com") == 1
    assert "No hostname was supplied" not in caplog.text
    link = re.search(r"A customer's survey link \(no login\): (\S+)", printed).group(1)
    assert link.startswith(f"{settings.SITE_URL}/voice/s/")
    survey = client.get(link.removeprefix(settings.SITE_URL))
    assert survey.status_code == 200
    assert b'name="overall"' in survey.content

    again = io.StringIO()
    call_command("seed_demo", "--if-empty", stdout=again)
    assert "nothing seeded" in again.getvalue()
    assert again.getvalue().count("Demo logins (password: dealership-demo):") == 1


def test_if_empty_on_a_dealership_without_the_demo_logins_prints_no_logins():
    from dealership.models import Branch

    Branch.objects.create(code="only", name="既存店")
    out = io.StringIO()
    call_command("seed_demo", "--if-empty", stdout=out)

    assert "Demo logins" not in out.getvalue()


def test_the_admin_shows_an_invitations_survey_link(admin_client, settings, sales_rep, branch):
    from feedback.services import create_invitation, survey_path
    from tests.factories import CustomerFactory, RepairJobFactory, VehicleFactory

    customer = CustomerFactory(branch=branch, sales_owner=sales_rep)
    job = RepairJobFactory(vehicle=VehicleFactory(customer=customer), status="delivered")
    invitation, _created = create_invitation(job, deliver=False)

    page = admin_client.get(f"/admin/feedback/surveyinvitation/{invitation.pk}/change/")

    assert page.status_code == 200
    assert f'href="{settings.SITE_URL}{survey_path(invitation)}"' in page.content.decode()
