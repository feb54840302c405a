"""The shared results page, checked against a small hand-made dataset whose figures are written out here."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feedback import selectors, services
from feedback.models import SurveyOptOut
from tests.factories import CustomerFactory, UserFactory

from .conftest import answers, delivered_job

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=TOKYO)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff(branch, sales_rep, technician, other_technician, advisor):
    second_rep = UserFactory(role="sales_rep", branch=branch, display_name="営業 二郎")
    return {"S1": sales_rep, "S2": second_rep, "T1": technician, "T2": other_technician, "advisor": advisor}


def answered(branch, staff, *, day: date, kind: str, tech: str, rep: str, **scores):
    """One delivered job of the branch answered at noon (Tokyo) on `day`, through the services."""
    at = datetime(day.year, day.month, day.day, 12, 0, tzinfo=TOKYO)
    customer = CustomerFactory(branch=branch, sales_owner=staff[rep])
    job = delivered_job(
        customer=customer,
        sales_owner=staff[rep],
        advisor=staff["advisor"],
        technician=staff[tech],
        kind=kind,
        delivered_ago=NOW - at + timedelta(days=1),
    )
    invitation, _ = services.create_invitation(job, at=at - timedelta(hours=20), deliver=False)
    services.record_survey_sent(invitation, at=at - timedelta(hours=20))
    return services.submit_survey(invitation, answers=answers(**scores), at=at)


@pytest.fixture
def dataset(frozen, branch, other_branch, staff, other_branch_user):
    """Six answers in the last 90 days, one older, one of another branch; plus unanswered and skipped invitations."""
    d = date
    rows = [
        # day, kind, technician, sales rep, overall, explanation, quality, timeliness, nps
        (d(2026, 6, 27), "repair", "T1", "S1", 5, 5, 5, 4, 10),
        (d(2026, 6, 20), "repair", "T1", "S1", 4, 4, None, 3, 9),
        (d(2026, 6, 20), "maintenance", "T2", "S1", 4, 3, 4, 4, 8),
        (d(2026, 6, 10), "maintenance", "T2", "S2", 3, 3, 3, 2, 9),
        (d(2026, 5, 21), "repair", "T1", "S2", 2, 2, 3, 1, 4),
        (d(2026, 5, 1), "shaken", "T2", "S2", 1, None, 2, 1, 0),
        (d(2026, 3, 22), "repair", "T1", "S1", 5, 5, 5, 5, 10),  # 100 days ago: outside 90 days
    ]
    for day, kind, tech, rep, overall, explanation, quality, timeliness, nps in rows:
        answered(
            branch,
            staff,
            day=day,
            kind=kind,
            tech=tech,
            rep=rep,
            overall=overall,
            explanation=explanation,
            quality=quality,
            timeliness=timeliness,
            nps=nps,
            comment=f"comment {overall}/{nps}",
        )
    # Another branch's answer never counts for this branch.
    foreign = {"S1": other_branch_user, "T1": other_branch_user, "advisor": other_branch_user}
    answered(other_branch, foreign, day=d(2026, 6, 25), kind="repair", tech="T1", rep="S1", overall=1, nps=0)
    # Two sent but unanswered, one without e-mail, one opted out.
    for email in ("a@example.jp", "b@example.jp", "", "c@example.jp"):
        customer = CustomerFactory(branch=branch, sales_owner=staff["S1"], email=email)
        if email == "c@example.jp":
            SurveyOptOut.objects.create(customer=customer)
        job = delivered_job(
            customer=customer, sales_owner=staff["S1"], advisor=staff["advisor"], delivered_ago=timedelta(days=3)
        )
        invitation, _ = services.create_invitation(job, at=NOW - timedelta(days=2), deliver=False)
        if invitation.send_status == "pending":
            services.record_survey_sent(invitation, at=NOW - timedelta(days=2))


def figures(user, **query):
    return selectors.results(user, selectors.ResultFilters.from_query(query))


def test_every_figure_matches_the_hand_computed_dataset(dataset, manager):
    result = figures(manager)

    summary = result["summary"]
    assert summary["count"] == 6
    assert round(summary["avg_overall"], 4) == round(19 / 6, 4)  # 5+4+4+3+2+1
    assert round(summary["avg_explanation"], 4) == 3.4  # 5+4+3+3+2 over five (one skipped)
    assert round(summary["avg_quality"], 4) == 3.4  # 5+4+3+3+2 over five
    assert round(summary["avg_timeliness"], 4) == 2.5  # 4+3+4+2+1+1 over six
    assert (summary["promoters"], summary["passives"], summary["detractors"]) == (3, 1, 2)
    assert summary["nps"] == 17  # (3 − 2) / 6 = 16.7 %
    assert result["overall_distribution"] == [(1, 1), (2, 1), (3, 1), (4, 2), (5, 1)]
    assert dict(result["nps_distribution"]) == {0: 1, 1: 0, 2: 0, 3: 0, 4: 1, 5: 0, 6: 0, 7: 0, 8: 1, 9: 2, 10: 1}
    assert result["invitations"] == {
        "total": 10,
        "sent": 8,
        "answered": 6,
        "no_email": 1,
        "opted_out": 1,
        "response_rate": 75,
    }
    # Newest first; the two answers of 2026-06-20 share a time, the later one recorded first.
    assert [response.comment for response in result["latest_comments"]] == [
        "comment 5/10",
        "comment 4/8",
        "comment 4/9",
        "comment 3/9",
        "comment 2/4",
        "comment 1/0",
    ]


def test_the_weekly_and_monthly_trends_match_the_dataset(dataset, manager):
    weekly = [
        (row["bucket"].astimezone(TOKYO).date(), row["count"], round(row["avg_overall"], 2), row["nps"])
        for row in figures(manager, grain="week")["trend"]
    ]
    monthly = [
        (row["bucket"].astimezone(TOKYO).date(), row["count"], round(row["avg_overall"], 2), row["nps"])
        for row in figures(manager, grain="month")["trend"]
    ]

    assert weekly == [
        (date(2026, 4, 27), 1, 1.0, -100),
        (date(2026, 5, 18), 1, 2.0, -100),
        (date(2026, 6, 8), 1, 3.0, 100),
        (date(2026, 6, 15), 2, 4.0, 50),
        (date(2026, 6, 22), 1, 5.0, 100),
    ]
    assert monthly == [(date(2026, 5, 1), 2, 1.5, -100), (date(2026, 6, 1), 4, 4.0, 75)]


def test_the_filters_narrow_every_figure(dataset, manager, staff):
    by_technician = figures(manager, technician=str(staff["T1"].pk))["summary"]
    assert (by_technician["count"], by_technician["nps"]) == (3, 33)  # 10, 9, 4
    assert round(by_technician["avg_overall"], 2) == 3.67

    assert figures(manager, kind="maintenance")["summary"]["nps"] == 50  # 8, 9
    assert figures(manager, sales_rep=str(staff["S2"].pk))["summary"]["nps"] == -33  # 9, 4, 0
    last_30 = figures(manager, period="30")["summary"]
    assert (last_30["count"], last_30["nps"]) == (4, 75)  # 10, 9, 8, 9
    custom = figures(manager, period="custom", start="2026-03-01", end="2026-03-31")["summary"]
    assert (custom["count"], custom["nps"]) == (1, 100)
    assert figures(manager, kind="pdi")["summary"]["nps"] is None
    typed_over_preset = figures(manager, period="90", start="2026-05-01", end="2026-05-31")["summary"]
    assert (typed_over_preset["count"], typed_over_preset["nps"]) == (2, -100)  # 4 and 0
    reversed_dates = selectors.ResultFilters.from_query(
        {"period": "custom", "start": "2026-06-01", "end": "2026-05-01"}
    )
    assert (reversed_dates.period, reversed_dates.end) == ("90", date(2026, 6, 30))


def test_another_branch_sees_only_its_own_answers(dataset, other_branch_user, manager, branch):
    theirs = figures(other_branch_user)["summary"]
    assert (theirs["count"], theirs["nps"]) == (1, -100)
    # A branch filter cannot reach into a branch the user may not see.
    assert figures(other_branch_user, branch=str(branch.pk))["summary"]["count"] == 0
    chief = UserFactory(role="manager", branch=branch, all_branches=True)
    assert figures(chief)["summary"]["count"] == 7


def test_the_results_page_shows_the_figures_with_tables_and_chart_data(dataset, client_for, technician):
    response = client_for(technician).get("/voice/results/")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="response-count">6<' in page
    assert 'data-testid="nps">17<' in page
    assert 'data-testid="avg-overall">3.17<' in page
    assert 'data-testid="promoters">3<' in page and 'data-testid="detractors">2<' in page
    assert 'data-testid="nps-distribution"' in page
    assert '<script id="chart-data" type="application/json">' in page
    assert "js/charts.js" in page and "vendor/chartjs/chart.umd.min.js" in page
    assert "<script>" not in page  # nothing inline (strict CSP)
    chart_data = response.context["charts"]
    assert chart_data["nps"]["values"] == [2, 1, 3]
    assert chart_data["overall"]["values"] == [1, 1, 1, 2, 1]
    for response_row in response.context["page"]:
        assert f'href="/jobs/{response_row.job_id}/"' in page


def results_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/voice/results/?period=365").status_code == 200
    return len(queries)


def test_the_results_page_query_count_does_not_grow_with_the_answers(frozen, branch, staff, client_for, manager):
    client = client_for(manager)
    for index in range(3):
        answered(
            branch,
            staff,
            day=date(2026, 6, 1 + index),
            kind="repair",
            tech="T1",
            rep="S1",
            overall=4,
            nps=8,
            comment="ok",
        )
    few = results_queries(client)
    for index in range(30):
        day = date(2026, 1 + index % 5, 1 + index % 27)
        answered(
            branch,
            staff,
            day=day,
            kind="maintenance",
            tech="T2",
            rep="S2",
            overall=1 + index % 5,
            nps=index % 11,
            comment="x",
        )
    many = results_queries(client)

    assert few == many
    assert many <= 16


def test_the_csv_export_lists_the_answers_without_running_formulas(dataset, client_for, manager):
    response = client_for(manager).get("/voice/results/responses.csv?period=365")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 7
    assert {row["overall"] for row in rows} == {"1", "2", "3", "4", "5"}
    assert sorted(int(row["nps"]) for row in rows) == [0, 4, 8, 9, 9, 10, 10]
    assert all(row["comment"].startswith("comment ") for row in rows)


def test_a_comment_that_looks_like_a_formula_is_exported_as_text(frozen, branch, staff, client_for, manager):
    answered(
        branch,
        staff,
        day=date(2026, 6, 29),
        kind="repair",
        tech="T1",
        rep="S1",
        overall=5,
        nps=10,
        comment="=HYPERLINK(1)",
    )

    body = b"".join(client_for(manager).get("/voice/results/responses.csv").streaming_content).decode()

    assert "'=HYPERLINK(1)" in body


def test_signed_out_visitors_are_sent_to_the_login_page(client):
    response = client.get("/voice/results/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
