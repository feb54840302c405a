from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import call_command

from accounts.models import Role, User

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"dealership", "accounts", "repairs"}
    }


def test_seed_demo_twice_gives_the_same_counts():
    call_command("seed_demo", verbosity=0)
    first = counts()
    call_command("seed_demo", verbosity=0)
    assert counts() == first
    assert first["dealership.Branch"] == 2
    assert first["dealership.Customer"] >= 40


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
