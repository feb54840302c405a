from __future__ import annotations

import pytest

from tests.factories import CustomerFactory, RepairJobFactory, VehicleFactory


@pytest.fixture
def customer(branch, sales_rep):
    return CustomerFactory(branch=branch, sales_owner=sales_rep, name="佐藤 健一", name_kana="サトウ ケンイチ")


@pytest.fixture
def vehicle(customer):
    return VehicleFactory(customer=customer, plate_number="品川 300 あ 12-34")


@pytest.fixture
def job(vehicle, sales_rep, advisor):
    return RepairJobFactory(vehicle=vehicle, sales_owner=sales_rep, requested_by=advisor, service_advisor=advisor)


@pytest.fixture
def make_job(branch, sales_rep, advisor):
    """More jobs of the branch: `make_job(status="ready", technician=t)`."""

    def make(**fields):
        customer = CustomerFactory(branch=fields.pop("branch", branch), sales_owner=sales_rep)
        vehicle = VehicleFactory(customer=customer)
        fields.setdefault("sales_owner", sales_rep)
        fields.setdefault("requested_by", advisor)
        return RepairJobFactory(vehicle=vehicle, **fields)

    return make


@pytest.fixture
def other_branch_job(other_branch, other_branch_user):
    customer = CustomerFactory(branch=other_branch)
    return RepairJobFactory(vehicle=VehicleFactory(customer=customer), requested_by=other_branch_user)
