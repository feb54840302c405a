"""Each KPI against a small hand-made dataset, with the expected value written in the test.

The builders at the top (rows with exactly the times a test names, in Tokyo
local time) are shared by the other KPI tests.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from accounts.models import Department, Role
from events.models import EventKind, EventParticipant, TeamEvent
from feedback.models import (
    CustomerVoice,
    SurveyInvitation,
    SurveyResponse,
    VoiceCategory,
    VoiceSource,
    VoiceStatus,
)
from goals.metrics import METRICS, MedianTurnaround, Unit, get_metric
from goals.models import ManualKpiValue
from repairs.models import ApprovalRequest, RepairJob, SalesLead
from tests.factories import CustomerFactory, RepairJobFactory, UserFactory, VehicleFactory

TOKYO = ZoneInfo("Asia/Tokyo")
OCTOBER = (date(2026, 10, 1), date(2026, 11, 1))


def at(day: int, hour: int = 12, minute: int = 0, *, month: int = 10, year: int = 2026) -> datetime:
    """A local (Asia/Tokyo) time; October 2026 unless told otherwise."""
    return datetime(year, month, day, hour, minute, tzinfo=TOKYO)


def vehicle(branch):
    return VehicleFactory(customer=CustomerFactory(branch=branch))


def job(branch, *, kind="repair", status="delivered", car=None, **times) -> RepairJob:
    """A job with the given status and timestamps (received_at defaults to a day before anything else)."""
    car = car or vehicle(branch)
    made = RepairJobFactory(vehicle=car, kind=kind)
    known = [value for value in times.values() if value is not None]
    times.setdefault("received_at", (min(known) if known else at(1)) - timedelta(days=1))
    RepairJob.objects.filter(pk=made.pk).update(status=status, **times)
    made.refresh_from_db()
    return made


def invitation(target: RepairJob, *, created: datetime, sent: bool = True, answered: datetime | None = None):
    return SurveyInvitation.objects.create(
        job=target,
        customer=target.customer,
        token=secrets.token_urlsafe(16),
        created_at=created,
        expires_at=created + timedelta(days=30),
        send_status=SurveyInvitation.SendStatus.SENT if sent else SurveyInvitation.SendStatus.SKIPPED,
        answered_at=answered,
    )


def response(branch, *, overall: int, nps: int, submitted: datetime) -> SurveyResponse:
    target = job(branch, delivered_at=submitted - timedelta(days=2))
    invited = invitation(target, created=submitted - timedelta(days=1), answered=submitted)
    return SurveyResponse.objects.create(
        invitation=invited, job=target, overall=overall, nps=nps, submitted_at=submitted
    )


def approval(target: RepairJob, *, requested: datetime, seconds: int | None, status="approved") -> ApprovalRequest:
    decided = requested + timedelta(seconds=seconds) if seconds is not None else None
    return ApprovalRequest.objects.create(
        job=target,
        work="ブレーキパッド交換",
        estimate_yen=20000,
        status=status,
        requested_at=requested,
        decided_at=decided,
        response_seconds=seconds,
    )


def voice(branch, *, created: datetime, resolved: datetime | None) -> CustomerVoice:
    return CustomerVoice.objects.create(
        branch=branch,
        customer=CustomerFactory(branch=branch),
        source=VoiceSource.PHONE,
        category=VoiceCategory.REQUEST,
        title="代車の案内",
        status=VoiceStatus.RESOLVED if resolved else VoiceStatus.OPEN,
        created_at=created,
        resolved_at=resolved,
    )


def lead(branch, *, created: datetime, status="new", updated: datetime | None = None) -> SalesLead:
    target = job(branch, status="in_progress", received_at=created - timedelta(hours=1))
    return SalesLead.objects.create(
        job=target,
        branch=branch,
        customer=target.customer,
        reason=SalesLead.Reason.NEW_MODELS,
        status=status,
        created_at=created,
        updated_at=updated or created,
    )


pytestmark = pytest.mark.django_db


def figure(key: str, branch, start=OCTOBER[0], end=OCTOBER[1]):
    return get_metric(key).compute(branch, start, end)


# --- the registry -------------------------------------------------------------------------------------------


def test_every_metric_has_a_key_label_unit_direction_and_a_written_formula():
    assert len(METRICS) >= 15
    for key, metric in METRICS.items():
        assert metric.key == key
        assert str(metric.label)
        assert metric.unit in Unit.LABELS
        assert metric.direction in ("higher", "lower")
        assert " = " in metric.formula, key


def test_every_formula_reads_in_japanese_for_a_japanese_reader():
    for key, metric in METRICS.items():
        with translation.override("en"):
            english = str(metric.formula)
        with translation.override("ja"):
            japanese = str(metric.formula)
        assert japanese != english, key
        assert " = " in japanese, key


def test_the_issue_s_metrics_are_all_registered():
    assert {
        "new_car_deliveries",
        "jobs_delivered",
        "avg_turnaround_hours",
        "median_turnaround_hours",
        "on_time_rate",
        "comeback_rate",
        "csat",
        "nps",
        "survey_response_rate",
        "approval_response_hours",
        "voice_resolution_days",
        "leads_flagged",
        "lead_conversions",
        "cross_department_participation",
        "units_sold",
    } <= set(METRICS)


def test_with_no_data_counts_are_zero_and_rates_and_averages_are_none(branch):
    counts = {"new_car_deliveries", "jobs_delivered", "leads_flagged", "lead_conversions"}
    for key in METRICS:
        value = figure(key, branch)
        if key in counts:
            assert value == 0, key
        else:
            assert value is None, key
    # And for all branches together, and over a single day.
    assert figure("csat", None, date(2026, 10, 5), date(2026, 10, 6)) is None


# --- jobs ---------------------------------------------------------------------------------------------------


def test_new_car_deliveries_count_pdi_jobs_delivered_in_the_local_month_only(branch, other_branch):
    job(branch, kind="pdi", delivered_at=at(1, 0, 30))  # 2026-09-30 15:30 UTC: still October in Tokyo
    job(branch, kind="pdi", delivered_at=at(31, 23, 59))
    job(branch, kind="pdi", delivered_at=at(1, 0, 0, month=11))  # first moment of November: out
    job(branch, kind="pdi", delivered_at=at(30, 23, 59, month=9))  # September: out
    job(branch, kind="repair", delivered_at=at(10))  # not a new car
    job(branch, kind="pdi", status="ready", ready_at=at(10))  # not handed over yet
    job(branch, kind="pdi", status="cancelled", delivered_at=at(11))  # cancelled: out
    job(other_branch, kind="pdi", delivered_at=at(12))
    assert figure("new_car_deliveries", branch) == 2
    assert figure("new_car_deliveries", None) == 3


def test_jobs_delivered_count_every_kind_but_not_cancelled_jobs(branch):
    job(branch, kind="pdi", delivered_at=at(3))
    job(branch, kind="repair", delivered_at=at(4))
    job(branch, kind="shaken", delivered_at=at(5))
    job(branch, kind="repair", status="cancelled", delivered_at=at(6))
    job(branch, kind="repair", delivered_at=at(5, month=11))
    assert figure("jobs_delivered", branch) == 3


@pytest.fixture
def turnarounds(branch):
    """Jobs ready in October after 10, 20 and 30 hours (the last received in September) and 100 hours."""
    job(branch, received_at=at(5, 0), ready_at=at(5, 10))
    job(branch, received_at=at(6, 0), ready_at=at(6, 20))
    job(branch, received_at=at(30, 20, month=9), ready_at=at(2, 2))  # crosses into October: counts there
    job(branch, received_at=at(10, 0), ready_at=at(14, 4))
    job(branch, status="cancelled", received_at=at(7, 0), ready_at=at(9, 0))  # 48 h, cancelled: out
    job(branch, received_at=at(31, 0), ready_at=at(1, 5, month=11))  # ready in November: out
    job(branch, status="in_progress", received_at=at(8, 0))  # not ready: out


def test_average_turnaround_is_the_mean_of_received_to_ready_hours_of_jobs_ready_in_the_period(branch, turnarounds):
    assert figure("avg_turnaround_hours", branch) == pytest.approx((10 + 20 + 30 + 100) / 4)


def test_median_turnaround_with_an_even_count_is_the_mean_of_the_two_middle_jobs(branch, turnarounds):
    assert figure("median_turnaround_hours", branch) == pytest.approx(25)


def test_median_turnaround_with_an_odd_count_is_the_middle_job(branch, turnarounds):
    job(branch, received_at=at(20, 0), ready_at=at(20, 1))  # 1 hour
    assert figure("median_turnaround_hours", branch) == pytest.approx(20)


def test_the_portable_median_agrees_with_the_database_median(branch, turnarounds):
    metric = MedianTurnaround()
    rows = metric.rows(branch, *OCTOBER)
    assert metric._portable_median(rows) == pytest.approx(25)
    job(branch, received_at=at(20, 0), ready_at=at(20, 1))
    assert metric._portable_median(metric.rows(branch, *OCTOBER)) == pytest.approx(20)


def test_on_time_rate_counts_a_job_still_not_ready_after_its_promise_as_late(branch):
    job(branch, promised_at=at(10, 17), ready_at=at(10, 16))  # on time
    job(branch, promised_at=at(11, 17), ready_at=at(11, 17))  # exactly on the promise: on time
    job(branch, promised_at=at(12, 17), ready_at=at(12, 18))  # an hour late
    job(branch, status="awaiting_parts", promised_at=at(13, 17))  # never ready: late
    job(branch, status="cancelled", promised_at=at(14, 17))  # cancelled: out
    job(branch, promised_at=at(2, 17, month=11), ready_at=at(2, 10, month=11))  # November: out
    job(branch, received_at=at(20), ready_at=at(21))  # no promise: out
    assert figure("on_time_rate", branch) == pytest.approx(50.0)


def test_on_time_rate_leaves_out_promises_still_in_the_future(branch, time_machine):
    time_machine.move_to(at(15, 12))
    job(branch, promised_at=at(10, 17), ready_at=at(10, 12))
    job(branch, status="in_progress", promised_at=at(20, 17))  # not due yet
    assert figure("on_time_rate", branch) == pytest.approx(100.0)


def test_comeback_rate_is_the_share_of_deliveries_whose_car_came_back_for_repair_within_30_days(branch):
    first, second, third, fourth = (vehicle(branch) for _ in range(4))
    job(branch, kind="maintenance", car=first, delivered_at=at(5))
    job(branch, kind="repair", car=first, status="in_progress", received_at=at(20))  # back after 15 days
    job(branch, kind="maintenance", car=second, delivered_at=at(6))
    job(branch, kind="repair", car=second, status="received", received_at=at(10, month=11))  # 35 days: too late
    job(branch, kind="shaken", car=third, delivered_at=at(7))
    job(branch, kind="warranty", car=third, status="cancelled", received_at=at(8))  # cancelled comeback: no
    job(branch, kind="repair", car=fourth, delivered_at=at(8))
    job(branch, kind="maintenance", car=fourth, status="received", received_at=at(9))  # not a repair: no
    assert figure("comeback_rate", branch) == pytest.approx(25.0)


def test_a_warranty_job_on_day_30_after_delivery_is_a_comeback(branch):
    car = vehicle(branch)
    job(branch, kind="repair", car=car, delivered_at=at(1, 10))
    job(branch, kind="warranty", car=car, status="received", received_at=at(31, 10))
    assert figure("comeback_rate", branch) == pytest.approx(100.0)


# --- customer voice -----------------------------------------------------------------------------------------


@pytest.fixture
def answers(branch, other_branch):
    response(branch, overall=5, nps=10, submitted=at(3))
    response(branch, overall=4, nps=9, submitted=at(4))
    response(branch, overall=3, nps=8, submitted=at(5))
    response(branch, overall=2, nps=5, submitted=at(31, 23, 59))
    response(branch, overall=1, nps=0, submitted=at(30, month=9))  # September: out
    response(other_branch, overall=1, nps=0, submitted=at(6))


def test_csat_is_the_average_overall_score_of_the_period_s_answers(branch, answers):
    assert figure("csat", branch) == pytest.approx((5 + 4 + 3 + 2) / 4)
    assert figure("csat", None) == pytest.approx((5 + 4 + 3 + 2 + 1) / 5)


def test_nps_is_promoters_minus_detractors_over_all_answers(branch, answers):
    assert figure("nps", branch) == pytest.approx(100 * (2 - 1) / 4)
    assert figure("nps", None) == pytest.approx(100 * (2 - 2) / 5)


def test_survey_response_rate_is_answered_over_sent_invitations_of_the_period(branch):
    targets = [job(branch, delivered_at=at(day)) for day in (2, 3, 4, 5, 6)]
    invitation(targets[0], created=at(3), answered=at(4))
    invitation(targets[1], created=at(4))
    invitation(targets[2], created=at(5))
    invitation(targets[3], created=at(6), sent=False)  # no e-mail address: not sent, not counted
    invitation(targets[4], created=at(7), answered=at(2, month=11))  # answered later: counts for October
    assert figure("survey_response_rate", branch) == pytest.approx(50.0)


def test_voice_resolution_time_is_the_mean_days_from_recorded_to_resolved(branch):
    voice(branch, created=at(1, 12), resolved=at(3, 12))  # 2 days
    voice(branch, created=at(28, 12, month=9), resolved=at(2, 12))  # 4 days, resolved in October
    voice(branch, created=at(5), resolved=None)  # still open: out
    voice(branch, created=at(30), resolved=at(1, 12, month=11))  # resolved in November: out
    assert figure("voice_resolution_days", branch) == pytest.approx(3.0)


# --- cross-department loops ---------------------------------------------------------------------------------


def test_approval_response_time_is_the_mean_hours_from_request_to_decision(branch):
    target = job(branch, status="in_progress", received_at=at(1))
    approval(target, requested=at(5, 9), seconds=3600)
    approval(target, requested=at(6, 9), seconds=2 * 3600, status="declined")
    approval(target, requested=at(7, 9), seconds=None, status="pending")  # undecided: out
    approval(target, requested=at(8, 9), seconds=None, status="unreachable")  # out
    approval(target, requested=at(31, 23), seconds=3 * 3600)  # decided in November: out
    cancelled = job(branch, status="cancelled", received_at=at(1))
    approval(cancelled, requested=at(9, 9), seconds=10 * 3600)  # cancelled job: out
    assert figure("approval_response_hours", branch) == pytest.approx(1.5)


def test_leads_count_what_the_workshop_flagged_and_conversions_count_when_sales_converted(branch):
    lead(branch, created=at(2))
    lead(branch, created=at(3), status="converted", updated=at(20))
    lead(branch, created=at(25, month=9), status="converted", updated=at(5))  # flagged in September
    lead(branch, created=at(4), status="converted", updated=at(3, month=11))  # converted in November
    lead(branch, created=at(5), status="dismissed", updated=at(6))
    assert figure("leads_flagged", branch) == 4
    assert figure("lead_conversions", branch) == 2


# --- team life and manual figures ---------------------------------------------------------------------------


def test_cross_department_participation_is_the_share_of_staff_who_joined_a_mixed_session(branch):
    sales = UserFactory(branch=branch, role=Role.SALES_REP, department=Department.SALES)
    technician = UserFactory(branch=branch, role=Role.TECHNICIAN, department=Department.SERVICE)
    UserFactory(branch=branch, role=Role.MANAGER, department=Department.MANAGEMENT)
    UserFactory(branch=branch, role=Role.SALES_REP, department=Department.SALES)
    study = TeamEvent.objects.create(
        branch=branch, kind=EventKind.STUDY, title="勉強会", starts_at=at(10, 18), ends_at=at(10, 19)
    )
    EventParticipant.objects.create(event=study, user=sales, attended=True)
    EventParticipant.objects.create(event=study, user=technician, attended=True)
    assert figure("cross_department_participation", branch) == pytest.approx(50.0)
    assert figure("cross_department_participation", branch, date(2026, 9, 1), date(2026, 10, 1)) == 0


def test_units_sold_sum_the_entered_days_of_the_period(branch, other_branch):
    for place, day, value in [(branch, 1, 3), (branch, 31, 2), (other_branch, 15, 4)]:
        ManualKpiValue.objects.create(metric="units_sold", branch=place, date=date(2026, 10, day), value=value)
    ManualKpiValue.objects.create(metric="units_sold", branch=branch, date=date(2026, 11, 1), value=9)
    ManualKpiValue.objects.create(metric="other_metric", branch=branch, date=date(2026, 10, 2), value=9)
    assert figure("units_sold", branch) == 5
    assert figure("units_sold", None) == 9
    assert figure("units_sold", branch, date(2026, 8, 1), date(2026, 9, 1)) is None


# --- daily figures (the snapshots) --------------------------------------------------------------------------


def test_every_metric_s_daily_figures_equal_its_figure_for_each_single_day(branch, turnarounds, answers):
    job(branch, kind="pdi", delivered_at=at(5, 9))
    job(branch, promised_at=at(5, 17), ready_at=at(5, 16))
    lead(branch, created=at(5, 8), status="converted", updated=at(6))
    ManualKpiValue.objects.create(metric="units_sold", branch=branch, date=date(2026, 10, 5), value=2)
    study = TeamEvent.objects.create(
        branch=branch, kind=EventKind.SHADOWING, title="現場体験", starts_at=at(5, 23, 30), ends_at=at(5, 23, 50)
    )
    for department, role in [(Department.SALES, Role.SALES_REP), (Department.SERVICE, Role.TECHNICIAN)]:
        person = UserFactory(branch=branch, role=role, department=department)
        EventParticipant.objects.create(event=study, user=person, attended=True)
    UserFactory(branch=branch, role=Role.SALES_REP, department=Department.SALES)
    start, end = date(2026, 10, 2), date(2026, 10, 8)
    for key, metric in METRICS.items():
        daily = metric.daily(branch, start, end)
        assert list(daily) == [start + timedelta(days=offset) for offset in range(6)], key
        for day, value in daily.items():
            expected = metric.compute(branch, day, day + timedelta(days=1))
            assert value == pytest.approx(expected), (key, day)
    participation = METRICS["cross_department_participation"].daily(branch, start, end)
    assert participation[date(2026, 10, 5)] == pytest.approx(200 / 3)
    assert participation[date(2026, 10, 6)] == 0


def test_every_metric_computes_several_periods_in_one_go_as_it_does_one_by_one(branch, turnarounds, answers):
    job(branch, kind="pdi", delivered_at=at(20, 9, month=9))
    job(branch, promised_at=at(5, 17), ready_at=at(5, 18))
    lead(branch, created=at(15, month=9), status="converted", updated=at(6))
    ManualKpiValue.objects.create(metric="units_sold", branch=branch, date=date(2026, 9, 5), value=2)
    periods = [OCTOBER, (date(2026, 9, 1), date(2026, 10, 1)), (date(2026, 8, 1), date(2026, 8, 2))]
    for key, metric in METRICS.items():
        together = metric.compute_periods(branch, periods)
        apart = [metric.compute(branch, start, end) for start, end in periods]
        assert together == pytest.approx(apart), key
        assert metric.compute_periods(None, periods) == pytest.approx([metric.compute(None, *p) for p in periods]), key
