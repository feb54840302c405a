"""The cross-department participation figure against a hand-made dataset."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Department, Role
from events.models import EventKind, EventParticipant, TeamEvent
from events.selectors import cross_department_participation
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
TOKYO = ZoneInfo("Asia/Tokyo")


def event(branch, kind, day: date, *, cancelled=False, hour=18) -> TeamEvent:
    start = datetime(day.year, day.month, day.day, hour, tzinfo=TOKYO)
    return TeamEvent.objects.create(
        branch=branch,
        kind=kind,
        title=f"{kind} {day}",
        starts_at=start,
        ends_at=start.replace(hour=hour + 1),
        cancelled_at=start if cancelled else None,
    )


def came(event: TeamEvent, *people, attended=True) -> None:
    for person in people:
        EventParticipant.objects.create(event=event, user=person, attended=attended)


@pytest.fixture
def staff(branch, other_branch):
    """Ten active people at the branch (4 sales, 5 service, 1 manager), one inactive, two elsewhere."""

    def person(name, department, role, **extra):
        return UserFactory(display_name=name, department=department, role=role, branch=extra.pop("at", branch), **extra)

    people = {
        **{f"sales{i}": person(f"営業{i}", Department.SALES, Role.SALES_REP) for i in range(1, 5)},
        **{f"tech{i}": person(f"整備{i}", Department.SERVICE, Role.TECHNICIAN) for i in range(1, 6)},
        "manager": person("店長", Department.MANAGEMENT, Role.MANAGER),
        "gone": person("退職者", Department.SALES, Role.SALES_REP, is_active=False),
        "yokohama_sales": person("横浜営業", Department.SALES, Role.SALES_REP, at=other_branch),
        "yokohama_tech": person("横浜整備", Department.SERVICE, Role.TECHNICIAN, at=other_branch),
    }
    return people


def test_the_share_counts_staff_who_attended_shadowing_or_study_with_another_department(branch, other_branch, staff):
    s = staff
    november = date(2026, 11, 10)
    # Counts: a study session where sales1 and tech1 both came → both joined.
    came(event(branch, EventKind.STUDY, november), s["sales1"], s["tech1"])
    # Counts: shadowing, tech2 with sales2 → both; tech2 twice is still one person.
    shadowing = event(branch, EventKind.SHADOWING, date(2026, 11, 12))
    came(shadowing, s["tech2"], s["sales2"])
    came(event(branch, EventKind.STUDY, date(2026, 11, 20)), s["tech2"], s["manager"])  # manager counts too
    # Does not count: only service came (tech3, tech4); sales3 was invited but did not come.
    only_service = event(branch, EventKind.STUDY, date(2026, 11, 14))
    came(only_service, s["tech3"], s["tech4"])
    came(only_service, s["sales3"], attended=False)
    # Does not count: a social and a meeting, however mixed.
    came(event(branch, EventKind.SOCIAL, november), s["sales4"], s["tech5"])
    came(event(branch, EventKind.MEETING, november), s["sales4"], s["tech5"])
    # Does not count: cancelled, outside the period, another branch, an inactive colleague.
    came(event(branch, EventKind.STUDY, november, cancelled=True), s["sales3"], s["tech3"])
    came(event(branch, EventKind.STUDY, date(2026, 10, 31)), s["sales4"], s["tech4"])
    came(event(other_branch, EventKind.STUDY, november), s["yokohama_sales"], s["yokohama_tech"])
    came(event(branch, EventKind.SHADOWING, november), s["gone"], s["tech5"])

    figure = cross_department_participation(branch, date(2026, 11, 1), date(2026, 11, 30))

    # Joined: sales1, tech1, tech2, sales2, manager. Staff: ten active people.
    # tech5 was with an inactive colleague from sales: that still counts for tech5
    # (they did shadow someone of another department).
    assert (figure.joined, figure.staff) == (6, 10)
    assert figure.rate == pytest.approx(0.6)
    assert figure.percent == 60.0


def test_the_last_day_of_the_period_counts_in_tokyo_time(branch, staff):
    # 23:00 on 30 November in Tokyo is 14:00 UTC: inside a period ending on the 30th.
    late = event(branch, EventKind.STUDY, date(2026, 11, 30), hour=22)
    came(late, staff["sales1"], staff["tech1"])

    assert cross_department_participation(branch, date(2026, 11, 1), date(2026, 11, 30)).joined == 2
    assert cross_department_participation(branch, date(2026, 12, 1), date(2026, 12, 31)).joined == 0


def test_all_branches_together_and_an_empty_branch(branch, other_branch, staff):
    came(event(other_branch, EventKind.STUDY, date(2026, 11, 5)), staff["yokohama_sales"], staff["yokohama_tech"])

    everywhere = cross_department_participation(None, date(2026, 11, 1), date(2026, 11, 30))
    assert (everywhere.joined, everywhere.staff) == (2, 12)

    from tests.factories import BranchFactory

    empty = cross_department_participation(BranchFactory(code="empty"), date(2026, 11, 1), date(2026, 11, 30))
    assert (empty.joined, empty.staff, empty.rate, empty.percent) == (0, 0, None, None)


def test_the_figure_is_one_query(branch, staff, django_assert_num_queries):
    came(event(branch, EventKind.STUDY, date(2026, 11, 5)), staff["sales1"], staff["tech1"])
    with django_assert_num_queries(1):
        cross_department_participation(branch, date(2026, 11, 1), date(2026, 11, 30))
