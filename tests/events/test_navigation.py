"""The events' screens stay where people know them after moving out of goals (issue 18):
in the Team menu before the goals, and on the home page after the team's goals."""

from __future__ import annotations

import pytest
from django.utils import translation

from dealership.context_processors import navigation_menus
from dealership.views import home_panels

pytestmark = pytest.mark.django_db


def team_menu(user) -> list[str]:
    with translation.override("en"):
        menus = [menu for menu in navigation_menus(user) if str(menu["label"]) == "Team"]
    assert len(menus) == 1
    return [item["name"] for item in menus[0]["items"]]


def test_the_team_menu_holds_events_then_goals_then_staff_for_a_manager(manager):
    assert team_menu(manager) == ["event_list", "kpi", "team"]


def test_the_team_menu_holds_events_then_goals_for_a_technician(technician):
    assert team_menu(technician) == ["event_list", "kpi"]


def test_the_home_page_shows_the_team_goals_then_my_events_then_my_action_items(sales_rep):
    templates = [panel["template"] for panel in home_panels(sales_rep)]
    assert templates[-3:] == [
        "goals/partials/goal_home_panel.html",
        "events/partials/home_events.html",
        "events/partials/home_action_items.html",
    ]
