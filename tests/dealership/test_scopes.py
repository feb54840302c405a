"""The branch rule and the CSV cells, each written once in the core."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from dealership.csv_export import cell, csv_response
from dealership.scopes import may_see_branch, scope_to, sees_row
from repairs.models import RepairJob
from tests.factories import RepairJobFactory

pytestmark = pytest.mark.django_db


def test_staff_see_their_own_branch_only(sales_rep, branch, other_branch):
    assert may_see_branch(sales_rep, branch.pk)
    assert not may_see_branch(sales_rep, other_branch.pk)
    assert not may_see_branch(sales_rep, None)


def test_a_manager_with_all_branch_scope_sees_every_branch(manager, other_branch):
    assert not may_see_branch(manager, other_branch.pk)
    manager.all_branches = True
    assert may_see_branch(manager, other_branch.pk)
    assert may_see_branch(manager, None)


def test_nobody_signed_out_sees_a_branch(branch):
    assert not may_see_branch(AnonymousUser(), branch.pk)
    assert not scope_to(RepairJob.objects.all(), AnonymousUser()).exists()


def test_scope_to_keeps_the_rows_of_branches_one_may_see(sales_rep, other_branch_user, manager, branch, other_branch):
    ours = RepairJobFactory(branch=branch)
    theirs = RepairJobFactory(branch=other_branch)
    assert list(scope_to(RepairJob.objects.all(), sales_rep)) == [ours]
    assert list(scope_to(RepairJob.objects.all(), other_branch_user)) == [theirs]
    manager.all_branches = True
    assert set(scope_to(RepairJob.objects.all(), manager)) == {ours, theirs}
    assert sees_row(sales_rep, ours) and not sees_row(sales_rep, theirs)


def test_scope_to_follows_a_relation(sales_rep, branch, other_branch):
    ours = RepairJobFactory(branch=branch)
    RepairJobFactory(branch=other_branch)
    vehicles = scope_to(type(ours.vehicle).objects.filter(jobs__isnull=False), sales_rep, "jobs__branch")
    assert list(vehicles) == [ours.vehicle]


@pytest.mark.parametrize("text", ["=1+1", "+81 3", "-cmd", "@SUM(A1)", "\tx", "\rx"])
def test_a_cell_that_would_be_a_formula_is_text(text):
    assert cell(text) == "'" + text


def test_numbers_and_plain_text_stay_as_they_are():
    assert cell(-3) == "-3"
    assert cell(2.5) == "2.5"
    assert cell(None) == ""
    assert cell("山田 太郎") == "山田 太郎"


def test_a_csv_response_streams_a_bom_and_safe_cells():
    response = csv_response("x.csv", ["name"], [["=cmd|' /C calc'!A0"], ["山田"]])
    body = b"".join(response.streaming_content).decode()
    assert body.startswith("\ufeffname\r\n")
    assert "'=cmd" in body and "山田" in body
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
