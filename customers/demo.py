"""Demo customers: ~40 of them across the two branches, with realistic vehicles
and a sales owner of their branch each.

Idempotent: every row is found by a natural key before it is created, so
running `seed_demo` twice creates nothing twice.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from accounts.models import Role, User
from dealership.models import Branch

from .models import Customer, Vehicle

FAMILY = [
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
]
GIVEN = [
    ("健一", "ケンイチ"),
    ("美咲", "ミサキ"),
    ("大輔", "ダイスケ"),
    ("陽子", "ヨウコ"),
    ("翔太", "ショウタ"),
    ("由美", "ユミ"),
    ("誠", "マコト"),
    ("彩", "アヤ"),
    ("隆", "タカシ"),
    ("恵子", "ケイコ"),
]
VEHICLES = [
    ("Toyota", "Prius"),
    ("Toyota", "Aqua"),
    ("Toyota", "Alphard"),
    ("Toyota", "Corolla Touring"),
    ("Toyota", "Harrier"),
    ("Toyota", "Yaris Cross"),
    ("Toyota", "Voxy"),
    ("Toyota", "Crown"),
    ("Toyota", "RAV4"),
    ("Toyota", "Sienta"),
    ("Toyota", "Land Cruiser 250"),
    ("Toyota", "bZ4X"),
]
PLATE_AREAS = {"tokyo-east": ["品川", "足立", "江東"], "yokohama": ["横浜", "川崎", "相模"]}
KANA = "あいうえかきくけこさすせそたちつてとなにぬねのはひふほまみむめもやゆよらりるれろわ"


def seed(data: dict, rng: random.Random) -> dict[str, list]:
    branches = data["branches"]  # the core's two, in order
    customers: list[Customer] = []
    for index in range(40):
        branch = branches[index % 2]
        family, family_kana = FAMILY[index % len(FAMILY)]
        given, given_kana = GIVEN[(index + index // len(FAMILY)) % len(GIVEN)]
        name = f"{family} {given}"
        customer, created = Customer.objects.get_or_create(
            branch=branch,
            name=name,
            defaults={
                "name_kana": f"{family_kana} {given_kana}",
                "phone": f"090-{1000 + index * 37:04d}-{2000 + index * 53:04d}",
                "email": f"customer{index + 1:02d}@example.jp",
                # A few customers prefer English (expats near the Yokohama branch).
                "language": "en" if index % 9 == 4 else "ja",
            },
        )
        if created:
            for vehicle_index in range(1 + (index % 3 == 0)):
                make, model = VEHICLES[(index + vehicle_index * 5) % len(VEHICLES)]
                year = 2014 + (index * 3 + vehicle_index) % 12
                area = PLATE_AREAS[branch.code][index % 3]
                kana = KANA[(index + vehicle_index) % len(KANA)]
                plate = f"{area} {300 + index * 11 % 700} {kana} {rng.randint(10, 99)}-{rng.randint(10, 99)}"
                Vehicle.objects.create(
                    customer=customer,
                    make=make,
                    model=model,
                    year=year,
                    plate_number=plate,
                    vin=f"{model[:3].upper()}{year % 100:02d}-{rng.randint(1000000, 9999999)}",
                    mileage=rng.randint(3, 140) * 1000,
                    shaken_expiry=date.today() + timedelta(days=rng.randint(-20, 720)),
                )
        customers.append(customer)
    assign_sales_owners(branches, data["staff"])
    return {"customers": customers}


def assign_sales_owners(branches: list[Branch], staff: list[User]) -> None:
    """Give every customer without one a sales owner of their branch, round robin."""
    reps = {b.code: [u for u in staff if u.role == Role.SALES_REP and u.branch.code == b.code] for b in branches}
    for index, customer in enumerate(Customer.objects.filter(sales_owner__isnull=True).select_related("branch")):
        candidates = reps[customer.branch.code]
        customer.sales_owner = candidates[index % len(candidates)]
        customer.save(update_fields=["sales_owner"])
