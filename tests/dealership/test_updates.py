"""save_changed: only the changed columns are written, and nothing when nothing changed."""

from __future__ import annotations

import pytest

from dealership.models import Branch
from dealership.updates import save_changed

pytestmark = pytest.mark.django_db


def test_it_saves_the_changed_fields_alone_and_names_them(branch):
    Branch.objects.filter(pk=branch.pk).update(name="Renamed elsewhere")  # a concurrent edit of another column
    changed = save_changed(branch, {"name": branch.name, "phone": "03-0000-0000"})
    assert changed == ["phone"]
    assert Branch.objects.values_list("name", "phone").get(pk=branch.pk) == ("Renamed elsewhere", "03-0000-0000")


def test_it_saves_also_with_a_change(branch):
    assert save_changed(branch, {"phone": "03-1111-1111"}, also={"name": "Touched"}) == ["phone"]
    assert Branch.objects.values_list("name", "phone").get(pk=branch.pk) == ("Touched", "03-1111-1111")


def test_it_writes_nothing_when_nothing_changed(branch, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert save_changed(branch, {"name": branch.name, "phone": branch.phone}, also={"code": "ZZ"}) == []
    assert branch.code != "ZZ"
