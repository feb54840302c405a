"""Shared goals in the browser: the manager sets a goal and sees it on the KPI dashboard
with its trend chart; a technician finds it on the home page. Every goals and KPI
screen has zero axe violations at desktop size and at 360 px, without sideways scroll.

Fields are found by their ids and test ids, so the journey holds in Japanese and English.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from goals.models import Goal

from .test_journeys import report, signed_in, sweep
from .test_personas import assert_no_horizontal_scroll

pytestmark = pytest.mark.browser

MANAGER = "manager@example.com"
TECHNICIAN = "technician@example.com"
NOTE = "整備から営業への紹介を月末までに成約につなげる"


def test_the_manager_sets_a_goal_sees_it_with_its_chart_and_a_technician_sees_it_at_home(demo_site, new_page):
    manager = signed_in(new_page, demo_site, MANAGER)
    manager.goto(f"{demo_site}/team/kpis/")
    manager.get_by_test_id("new-goal").click()
    expect(manager).to_have_url(f"{demo_site}/team/goals/new/")
    manager.locator("#id_metric").select_option("lead_conversions")
    manager.locator("#id_target").fill("4")
    manager.locator("input[name=period][value=month]").check()
    manager.locator("#id_note").fill(NOTE)
    manager.locator("[data-testid=goal-form] button[type=submit]").click()

    expect(manager).to_have_url(re.compile(r"/team/kpis/\?.*#goal-\d+$"))
    goal = Goal.objects.get(note=NOTE)
    assert (goal.metric, goal.target, goal.branch.code) == ("lead_conversions", 4, "tokyo-east")
    card = manager.locator(f"#goal-{goal.pk}")
    expect(card).to_be_visible()
    expect(card).to_contain_text(NOTE)
    expect(card.get_by_test_id("goal-target")).to_have_text("4")
    expect(card.locator("progress")).to_be_visible()
    # Its metric's daily trend is drawn, with the numbers in a table beside it.
    chart = manager.locator("canvas[data-kpi-chart=lead_conversions]")
    expect(chart).to_have_attribute("data-drawn", "true")
    trend = manager.get_by_test_id("trend-lead_conversions")
    trend.locator("summary").click()
    expect(trend.locator("table tbody tr").first).to_be_visible()

    # A technician sees the team's goal on the home page, and nobody's name with it.
    phone = signed_in(new_page, demo_site, TECHNICIAN, "phone")
    goals = phone.get_by_test_id("home-goals")
    expect(goals.locator(f"#goal-{goal.pk}")).to_be_visible()
    expect(goals.locator(f"#goal-{goal.pk}")).to_contain_text(NOTE)
    assert_no_horizontal_scroll(phone)


def test_a_manager_drills_down_from_a_figure_to_the_jobs_it_counts(demo_site, new_page):
    manager = signed_in(new_page, demo_site, MANAGER)
    manager.goto(f"{demo_site}/team/kpis/")
    manager.locator("tr[data-metric=jobs_delivered] th a").click()
    expect(manager).to_have_url(re.compile(r"/team/kpis/jobs_delivered/\?"))
    expect(manager.get_by_test_id("formula")).to_be_visible()
    expect(manager.get_by_test_id("drilldown-rows")).to_be_visible()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_every_goals_and_kpi_screen_has_zero_axe_violations_and_fits_a_phone(demo_site, new_page, viewport):
    goal = Goal.objects.filter(branch__code="tokyo-east").order_by("pk").first()
    pages = {
        MANAGER: [
            "/team/kpis/",
            "/team/kpis/?period=quarter",
            "/team/kpis/csat/",
            "/team/kpis/on_time_rate/",
            "/team/kpis/cross_department_participation/",
            "/team/kpis/units_sold/",
            "/team/goals/new/",
            f"/team/goals/{goal.pk}/edit/",
            "/team/kpis/manual/",
            "/",
        ],
        TECHNICIAN: ["/", "/team/kpis/", "/team/kpis/jobs_delivered/"],
    }
    found = sweep(new_page, demo_site, pages, viewport, only_ok=True)
    assert not any(found.values()), report(found)
