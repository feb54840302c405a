"""The KPI dashboard, drill-downs, CSV export, goal and figure screens through the client:
who may see and do what (allowed, forbidden, bad input), "no data", and a query
count that does not grow with the data."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Department, Role
from goals import services as kpi_services
from goals.metrics import METRICS
from goals.models import Goal, GoalPeriod, KpiSnapshot, ManualKpiValue
from tests.factories import UserFactory

from .test_metrics import at, job, response

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("goals:kpi_dashboard")
OCTOBER = {"period": "month", "month": "2026-10"}
BOTH = [Department.SALES, Department.SERVICE]


@pytest.fixture
def all_branch_manager(branch):
    return UserFactory(
        email="hq@example.com",
        role=Role.MANAGER,
        department=Department.MANAGEMENT,
        branch=branch,
        all_branches=True,
    )


def set_goal(by, *, metric="jobs_delivered", target=10, branch="own", start=None, period=GoalPeriod.MONTH) -> Goal:
    return kpi_services.create_goal(
        by=by,
        metric=metric,
        target=Decimal(target),
        period=period,
        start_date=start or timezone.localdate(),
        branch=by.branch if branch == "own" else branch,
        departments=BOTH,
    )


# --- the dashboard ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["sales_rep", "technician", "advisor", "manager"])
def test_everyone_of_the_branch_sees_its_dashboard(persona, request, client_for):
    response_ = client_for(request.getfixturevalue(persona)).get(DASHBOARD)
    assert response_.status_code == 200
    assert len(response_.context["figures"]) == len(METRICS)
    assert response_.context["branch"] == request.getfixturevalue("branch")


def test_the_dashboard_shows_each_figure_beside_the_period_before_and_no_data_as_no_data(branch, manager, client_for):
    job(branch, delivered_at=at(5))
    job(branch, delivered_at=at(6))
    job(branch, delivered_at=at(20, month=9))
    response(branch, overall=4, nps=9, submitted=at(7))  # its job was delivered on the 5th: a third delivery
    page = client_for(manager).get(DASHBOARD, OCTOBER)
    figures = {figure.metric.key: figure for figure in page.context["figures"]}
    assert (figures["jobs_delivered"].value, figures["jobs_delivered"].previous) == (3, 1)
    assert figures["csat"].value == 4 and figures["csat"].previous is None
    html = page.content.decode()
    row = html.split('data-metric="csat"')[1].split("</tr>")[0]
    assert "no data" in row or "データなし" in row


def test_another_branch_s_figures_are_404_for_a_branch_manager(manager, other_branch, client_for):
    assert client_for(manager).get(DASHBOARD, {"branch": other_branch.pk}).status_code == 404
    assert client_for(manager).get(DASHBOARD, {"branch": "all"}).status_code == 404
    assert client_for(manager).get(DASHBOARD, {"branch": "x"}).status_code == 404


def test_the_other_branch_s_manager_sees_only_their_own_branch(branch, other_branch_manager, client_for):
    job(branch, delivered_at=at(5))
    page = client_for(other_branch_manager).get(DASHBOARD, OCTOBER)
    assert page.context["branch"] == other_branch_manager.branch
    figures = {figure.metric.key: figure.value for figure in page.context["figures"]}
    assert figures["jobs_delivered"] == 0
    url = reverse("goals:kpi_drilldown", args=["jobs_delivered"])
    assert client_for(other_branch_manager).get(url, {"branch": branch.pk}).status_code == 404


def test_an_all_branch_manager_sees_all_branches_together_and_each_one(
    branch, other_branch, all_branch_manager, client_for
):
    job(branch, delivered_at=at(5))
    job(other_branch, delivered_at=at(5))
    client = client_for(all_branch_manager)
    together = client.get(DASHBOARD, OCTOBER)
    assert together.context["branch"] is None
    assert {f.metric.key: f.value for f in together.context["figures"]}["jobs_delivered"] == 2
    one = client.get(DASHBOARD, {**OCTOBER, "branch": other_branch.pk})
    assert {f.metric.key: f.value for f in one.context["figures"]}["jobs_delivered"] == 1


def test_the_dashboard_s_query_count_does_not_grow_with_the_data(
    branch, manager, client_for, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    set_goal(manager, start=date(2026, 10, 1))
    set_goal(manager, metric="csat", target=4, start=date(2026, 10, 1))
    client = client_for(manager)

    def build(count: int) -> None:
        for index in range(count):
            job(
                branch,
                kind="pdi" if index % 3 else "repair",
                delivered_at=at(1 + index % 28, 10),
                ready_at=at(1 + index % 28, 9),
            )
            response(branch, overall=1 + index % 5, nps=index % 11, submitted=at(1 + index % 28, 15))
        kpi_services.backfill(date(2026, 10, 1), date(2026, 10, 31))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(DASHBOARD, OCTOBER).status_code == 200
        return len(captured)

    build(10)
    small = queries()
    build(190)
    assert queries() == small
    with django_assert_max_num_queries(small):
        client.get(DASHBOARD, OCTOBER)


def test_the_trend_charts_carry_the_daily_snapshots_and_their_numbers_as_a_table(branch, manager, client_for):
    job(branch, delivered_at=at(5, 10))
    kpi_services.backfill(date(2026, 10, 1), date(2026, 10, 31))
    page = client_for(manager).get(DASHBOARD, OCTOBER)
    chart = page.context["charts"]["jobs_delivered"]
    assert len(chart["labels"]) == 31
    assert chart["values"][4] == 1 and chart["values"][3] == 0
    assert chart["labels"][4] == "2026-10-05"
    html = page.content.decode()
    assert 'id="kpi-chart-data"' in html
    assert 'data-kpi-chart="jobs_delivered"' in html
    trend = html.split('data-testid="trend-jobs_delivered"')[1].split("</section>")[0]
    assert "2026-10-05" in trend


def test_the_csv_export_lists_every_metric_with_both_periods_and_its_formula(branch, manager, client_for):
    job(branch, delivered_at=at(5))
    download = client_for(manager).get(reverse("goals:kpi_export"), OCTOBER)
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.getvalue().decode("utf-8-sig"))))
    assert rows[0][4] == "2026-10-01–2026-10-31" and rows[0][5] == "2026-09-01–2026-09-30"
    by_key = {row[0]: row for row in rows[1:]}
    assert set(by_key) == set(METRICS)
    assert by_key["jobs_delivered"][4] == "1"
    assert by_key["csat"][4] == ""  # no data is empty, not 0
    assert "=" in by_key["csat"][6]


def test_the_csv_export_of_another_branch_is_404(manager, other_branch, client_for):
    assert client_for(manager).get(reverse("goals:kpi_export"), {"branch": other_branch.pk}).status_code == 404


def test_the_csv_export_writes_a_negative_figure_as_a_number_and_rounds_as_the_dashboard(branch, manager, client_for):
    # The CSV helper prefixes text that a spreadsheet would run as a formula ("-…"): figures go in as numbers.
    response(branch, overall=2, nps=0, submitted=at(5))
    response(branch, overall=4, nps=5, submitted=at(6))
    response(branch, overall=3, nps=3, submitted=at(7))
    download = client_for(manager).get(reverse("goals:kpi_export"), OCTOBER)
    by_key = {row[0]: row for row in csv.reader(io.StringIO(download.getvalue().decode("utf-8-sig")))}
    assert by_key["nps"][4] == "-100"
    assert float(by_key["csat"][4]) == 3.0
    assert by_key["jobs_delivered"][4] == "3"


# --- drill-down ---------------------------------------------------------------------------------------------


def test_a_figure_drills_down_to_the_jobs_it_counts_with_its_formula(branch, technician, client_for):
    counted = job(branch, kind="pdi", delivered_at=at(5))
    job(branch, kind="pdi", delivered_at=at(5, month=9))
    job(branch, kind="pdi", status="cancelled", delivered_at=at(6))
    page = client_for(technician).get(reverse("goals:kpi_drilldown", args=["new_car_deliveries"]), OCTOBER)
    assert page.status_code == 200
    assert list(page.context["rows"]) == [counted]
    html = page.content.decode()
    assert counted.number in html
    assert METRICS["new_car_deliveries"].formula.split()[0] in html


@pytest.mark.parametrize("key", list(METRICS))
def test_every_metric_s_drill_down_renders(key, branch, manager, client_for):
    job(branch, delivered_at=at(5), ready_at=at(4), promised_at=at(4, 18))
    response(branch, overall=5, nps=10, submitted=at(6))
    page = client_for(manager).get(reverse("goals:kpi_drilldown", args=[key]), OCTOBER)
    assert page.status_code == 200
    assert 'data-testid="drilldown-rows"' in page.content.decode()


def test_an_unknown_metric_is_404(manager, client_for):
    assert client_for(manager).get(reverse("goals:kpi_drilldown", args=["nope"])).status_code == 404


# --- goals --------------------------------------------------------------------------------------------------


def goal_form(**overrides) -> dict:
    data = {
        "metric": "new_car_deliveries",
        "target": "20",
        "period": "month",
        "start_date": timezone.localdate().isoformat(),
        "end_date": "",
        "departments": ["sales", "service"],
        "note": "納車前整備の前倒し",
    }
    return data | overrides


def test_a_manager_creates_a_goal_and_finds_it_on_the_dashboard(branch, manager, client_for):
    client = client_for(manager)
    assert client.get(reverse("goals:goal_create")).status_code == 200
    created = client.post(reverse("goals:goal_create"), goal_form(branch=branch.pk))
    assert created.status_code == 302
    made = Goal.objects.get()
    assert (made.metric, made.target, made.branch, made.created_by) == ("new_car_deliveries", 20, branch, manager)
    page = client.get(created["Location"])
    assert [card.goal for card in page.context["cards"]] == [made]
    assert f'id="goal-{made.pk}"' in page.content.decode()


@pytest.mark.parametrize("persona", ["sales_rep", "technician", "advisor"])
def test_only_managers_create_goals(persona, request, branch, client_for):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse("goals:goal_create")).status_code == 403
    assert client.post(reverse("goals:goal_create"), goal_form(branch=branch.pk)).status_code == 403
    assert not Goal.objects.exists()


def test_a_goal_form_with_bad_input_is_shown_again_with_its_errors(branch, manager, client_for):
    client = client_for(manager)
    bad = client.post(reverse("goals:goal_create"), goal_form(branch=branch.pk, target="many", metric="nope"))
    assert bad.status_code == 400
    assert {"target", "metric"} <= set(bad.context["form"].errors)
    custom = client.post(reverse("goals:goal_create"), goal_form(branch=branch.pk, period="custom", end_date=""))
    assert custom.status_code == 400 and "end_date" in custom.context["form"].errors
    assert not Goal.objects.exists()


def test_a_branch_manager_cannot_post_a_goal_for_another_branch(manager, other_branch, client_for):
    answer = client_for(manager).post(reverse("goals:goal_create"), goal_form(branch=other_branch.pk))
    assert answer.status_code == 400  # not a choice the form offers
    assert not Goal.objects.exists()


def test_a_manager_edits_and_archives_their_branch_s_goal(manager, client_for):
    made = set_goal(manager)
    client = client_for(manager)
    url = reverse("goals:goal_edit", args=[made.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, goal_form(branch=manager.branch.pk, target="35")).status_code == 302
    made.refresh_from_db()
    assert made.target == 35
    assert client.post(reverse("goals:goal_archive", args=[made.pk])).status_code == 302
    made.refresh_from_db()
    assert made.is_archived
    assert client.get(DASHBOARD).context["cards"] == []


def test_editing_a_goal_is_403_for_staff_and_404_for_another_branch(
    manager, technician, other_branch_manager, client_for
):
    made = set_goal(manager)
    url = reverse("goals:goal_edit", args=[made.pk])
    archive = reverse("goals:goal_archive", args=[made.pk])
    assert client_for(technician).get(url).status_code == 403
    assert client_for(technician).post(archive).status_code == 403
    assert client_for(other_branch_manager).get(url).status_code == 404
    assert client_for(other_branch_manager).post(archive).status_code == 404
    assert client_for(manager).get(archive).status_code == 405
    made.refresh_from_db()
    assert not made.is_archived and made.target == 10


HOME_GOALS = reverse("goals:home_goals")


def test_the_team_s_goals_are_on_everyone_s_home_page_without_names(
    branch, manager, technician, sales_rep, client_for, django_assert_max_num_queries, time_machine
):
    time_machine.move_to(at(15, 12))
    job(branch, delivered_at=at(15, 11))
    made = set_goal(manager, target=10)
    client = client_for(technician)
    home = client.get(reverse("home")).content.decode()
    # The page itself only holds the panel, which loads its cards right after it.
    assert 'data-testid="home-goals"' in home and f'hx-get="{HOME_GOALS}"' in home
    cards = client.get(HOME_GOALS)
    assert [card.goal for card in cards.context["cards"]] == [made]
    html = cards.content.decode()
    assert f'id="goal-{made.pk}"' in html and 'data-testid="goal-value">1<' in html
    assert technician.display_name not in html and sales_rep.display_name not in html
    set_goal(manager, metric="csat", target=4)
    with django_assert_max_num_queries(12):
        assert len(client.get(HOME_GOALS).context["cards"]) == 2


def test_the_home_page_s_goal_panel_costs_no_query(branch, manager, technician, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(technician)
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as before:
        client.get(reverse("home"))
    set_goal(manager)
    set_goal(manager, metric="csat", target=4)
    with CaptureQueriesContext(connection) as after:
        client.get(reverse("home"))
    assert len(after) == len(before)
    assert not any("goals_goal" in query["sql"] for query in after.captured_queries)


def test_another_branch_s_goal_is_not_on_the_home_page(manager, other_branch_user, client_for):
    set_goal(manager)
    assert client_for(other_branch_user).get(HOME_GOALS).context["cards"] == []


def test_an_all_branch_goal_shows_on_every_branch_s_home_page(all_branch_manager, other_branch_user, client_for):
    made = set_goal(all_branch_manager, branch=None)
    assert made.branch is None
    cards = client_for(other_branch_user).get(HOME_GOALS).context["cards"]
    assert [card.goal for card in cards] == [made]


# --- manual figures -----------------------------------------------------------------------------------------


def test_a_manager_enters_a_figure_and_a_second_one_for_the_day_replaces_it(branch, manager, client_for):
    client = client_for(manager)
    url = reverse("goals:kpi_manual")
    assert client.get(url).status_code == 200
    day = (timezone.localdate() - timedelta(days=1)).isoformat()
    form = {"metric": "units_sold", "branch": branch.pk, "date": day, "value": "3"}
    assert client.post(url, form).status_code == 302
    assert client.post(url, form | {"value": "4"}).status_code == 302
    assert ManualKpiValue.objects.get().value == Decimal(4)


@pytest.mark.parametrize("persona", ["sales_rep", "technician", "advisor"])
def test_only_managers_enter_figures(persona, request, branch, client_for):
    client = client_for(request.getfixturevalue(persona))
    url = reverse("goals:kpi_manual")
    assert client.get(url).status_code == 403
    form = {"metric": "units_sold", "branch": branch.pk, "date": "2026-10-01", "value": "3"}
    assert client.post(url, form).status_code == 403
    assert not ManualKpiValue.objects.exists()


def test_a_figure_with_bad_input_is_refused(branch, other_branch, manager, client_for):
    client = client_for(manager)
    url = reverse("goals:kpi_manual")
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    for form in [
        {"metric": "units_sold", "branch": branch.pk, "date": "2026-10-01", "value": "-1"},
        {"metric": "csat", "branch": branch.pk, "date": "2026-10-01", "value": "3"},
        {"metric": "units_sold", "branch": other_branch.pk, "date": "2026-10-01", "value": "3"},
        {"metric": "units_sold", "branch": branch.pk, "date": tomorrow, "value": "3"},
        {"metric": "units_sold", "branch": branch.pk, "date": "2026-02-30", "value": "3"},
    ]:
        assert client.post(url, form).status_code == 400, form
    assert not ManualKpiValue.objects.exists()


def test_the_navigation_offers_goals_and_kpis_to_everyone(technician, client_for):
    home = client_for(technician).get(reverse("home"))
    assert DASHBOARD in home.content.decode()


def test_snapshots_of_another_branch_never_reach_this_branch_s_charts(branch, other_branch, manager, client_for):
    KpiSnapshot.objects.create(metric="csat", branch=other_branch, date=date(2026, 10, 3), value=Decimal(1))
    KpiSnapshot.objects.create(metric="csat", branch=None, date=date(2026, 10, 3), value=Decimal(2))
    KpiSnapshot.objects.create(metric="csat", branch=branch, date=date(2026, 10, 4), value=Decimal(5))
    chart = client_for(manager).get(DASHBOARD, OCTOBER).context["charts"]["csat"]
    assert chart["labels"] == ["2026-10-04"] and chart["values"] == [5.0]


def test_dates_far_in_the_future_or_past_are_refused_not_a_crash(branch, manager, client_for):
    client = client_for(manager)
    for query in [
        {"period": "custom", "start": "9999-12-01", "end": "9999-12-31"},
        {"period": "month", "month": "9999-12"},
        {"period": "quarter", "month": "0001-01"},
    ]:
        assert client.get(DASHBOARD, query).status_code == 200, query
    for start in ("9999-12-31", "1900-01-01"):
        answer = client.post(reverse("goals:goal_create"), goal_form(branch=branch.pk, start_date=start))
        assert answer.status_code == 400, start
    with pytest.raises(kpi_services.GoalError):
        kpi_services.period_dates(GoalPeriod.MONTH, date(9999, 12, 31))
    assert not Goal.objects.exists()
