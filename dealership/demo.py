"""Demo data of the core: the two branches (customers/demo.py adds their customers).

Idempotent: every row is found by a natural key before it is created, so
running `seed_demo` twice creates nothing twice.
"""

from __future__ import annotations

import random

from .models import Branch

BRANCHES = [
    ("tokyo-east", "東京東店", "東京都江東区豊洲3-2-1", "03-5555-0101"),
    ("yokohama", "横浜港北店", "神奈川県横浜市港北区新横浜2-5-8", "045-555-0202"),
]


def seed(rng: random.Random) -> dict[str, list]:
    branches = [
        Branch.objects.get_or_create(code=code, defaults={"name": name, "address": address, "phone": phone})[0]
        for code, name, address, phone in BRANCHES
    ]
    return {"branches": branches}
