"""factory-boy factories for the portal's models."""

from __future__ import annotations

import factory

from accounts.models import Department, Role, User
from customers.models import Customer, Vehicle
from dealership.models import Branch

PASSWORD = "correct-horse-battery"


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"branch-{n}")
    name = factory.Sequence(lambda n: f"支店{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Sequence(lambda n: f"スタッフ{n}")
    role = Role.SALES_REP
    department = Department.SALES
    branch = factory.SubFactory(BranchFactory)
    language = "ja"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    branch = factory.SubFactory(BranchFactory)
    name = factory.Sequence(lambda n: f"顧客 {n}号")
    name_kana = factory.Sequence(lambda n: f"コキャク {n}")
    phone = "090-0000-0000"
    email = factory.Sequence(lambda n: f"customer{n}@example.jp")


class VehicleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vehicle

    customer = factory.SubFactory(CustomerFactory)
    make = "Toyota"
    model = "Prius"
    year = 2020
    plate_number = factory.Sequence(lambda n: f"品川 300 あ {1000 + n}")
    vin = factory.Sequence(lambda n: f"ZVW-{n:07d}")
    mileage = 42000


class RepairJobFactory(factory.django.DjangoModelFactory):
    """A job built like `create_job` builds one (number, initial history)."""

    class Meta:
        model = "repairs.RepairJob"
        skip_postgeneration_save = True

    vehicle = factory.SubFactory(VehicleFactory)
    customer = factory.SelfAttribute("vehicle.customer")
    branch = factory.SelfAttribute("customer.branch")
    kind = "repair"
    title = "ブレーキ異音の修理"
    customer_request = "キーキー鳴る"

    @factory.post_generation
    def numbered(obj, create, extracted, **kwargs):
        if create:
            from repairs.models import JobEvent

            obj.number = f"R-2026-{obj.pk:05d}"
            obj.save(update_fields=["number"])
            JobEvent.objects.create(job=obj, kind=JobEvent.Kind.CREATED, to_status="received", by=obj.requested_by)
