"""Build the demo dealership. Safe to run again: it creates nothing twice."""

from __future__ import annotations

import random

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

# The four logins the README documents, one per role, all in 東京東店.
DEMO_LOGINS = ("sales@example.com", "technician@example.com", "advisor@example.com", "manager@example.com")


class Command(BaseCommand):
    help = "Create the demo dealership (branches, staff, customers, jobs). Idempotent."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the database already holds a dealership."
        )

    def handle(self, *args, **options) -> None:
        from dealership.models import Branch

        if options["if_empty"] and Branch.objects.exists():
            self.stdout.write("The database already holds a dealership; nothing seeded.")
            if options["verbosity"] >= 1:
                self.write_logins()
            return
        # The wiring may import every app; each app seeds its own data, in
        # dependency order, from its demo.py.
        from accounts import demo as accounts_demo
        from dealership import demo as core_demo

        rng = random.Random(20261127)
        with transaction.atomic():
            data = core_demo.seed(rng)
            data |= accounts_demo.seed(data)
            for module in self.app_demos():
                data |= module.seed(data, rng) or {}
        if options["verbosity"] < 1:
            return
        self.stdout.write(self.style.SUCCESS("Demo dealership is ready."))
        self.write_logins()
        if data.get("status_link_url"):
            self.stdout.write(f"A customer's status link (no login): {settings.SITE_URL}{data['status_link_url']}")
        if data.get("survey_link_url"):
            self.stdout.write(f"A customer's survey link (no login): {settings.SITE_URL}{data['survey_link_url']}")

    def write_logins(self) -> None:
        """The documented demo logins, when they exist: `make run` prints them only through here."""
        from accounts.demo import DEMO_PASSWORD
        from accounts.models import User

        if not User.objects.filter(email__in=DEMO_LOGINS).exists():
            return
        self.stdout.write(f"Demo logins (password: {DEMO_PASSWORD}):")
        self.stdout.write("  " + "  ".join(DEMO_LOGINS))

    def app_demos(self) -> list:
        """Each portal app's demo.py, in dependency order (customers ← repairs ← feedback ← events ← goals)."""
        import importlib

        modules = []
        for app in ("customers", "repairs", "feedback", "events", "goals"):
            try:
                modules.append(importlib.import_module(f"{app}.demo"))
            except ModuleNotFoundError:
                continue  # the app has no demo data yet
        return modules
