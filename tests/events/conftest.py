"""Shared builders for the team-event tests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Department
from events import services
from events.models import EventKind


def tomorrow_at(hour: int, minute: int = 0):
    """A time tomorrow in the site's zone (Asia/Tokyo), so local dates are unambiguous."""
    local = timezone.localtime() + timedelta(days=1)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0)


@pytest.fixture
def plan(manager):
    """`plan(**overrides)`: a study session tomorrow 18:00–19:30 for sales and service, planned by the manager."""

    def build(**overrides):
        arguments = {
            "by": manager,
            "branch": manager.branch,
            "kind": EventKind.STUDY,
            "title": "ハイブリッド車の基礎 勉強会",
            "agenda": "1. 高電圧系の安全\n2. 質疑応答",
            "starts_at": tomorrow_at(18),
            "ends_at": tomorrow_at(19, 30),
            "place": "2階 会議室",
            "invited_departments": [Department.SALES, Department.SERVICE],
        }
        arguments.update(overrides)
        return services.plan_event(**arguments)

    return build
