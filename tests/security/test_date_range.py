"""One date range for everything a person types, and for dates in query strings (issue 17).

The outside probe stored an event in 1 BC (year 1 in Tokyo), after which the
branch's event list answered 500; a results period ending 9999-12-31 and a
KPI import cell of 131,073 characters were 500s too, and so was the .ics of
an event whose title held a line break.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import icalendar
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Department
from dealership import dates
from events import services
from events.models import ActionItem, EventKind, TeamEvent
from feedback import services as feedback_services
from feedback.models import CustomerVoice, VoiceCategory, VoiceSource
from goals import services as kpi_services
from goals.models import ManualKpiValue
from tests.events import conftest as events_conftest
from tests.events.conftest import tomorrow_at
from tests.factories import CustomerFactory, VehicleFactory
from tests.feedback.conftest import answers, delivered_job

pytestmark = pytest.mark.django_db

plan = events_conftest.plan  # the team-event tests' fixture: `plan(**overrides)` plans an event

HOSTILE_DAYS = ["0001-01-01", "1999-12-31", "2101-01-01", "9999-12-31", "10000-01-01", "2026-13-45", "0000-00-00"]


def in_japanese(message, params: dict | None = None) -> str:
    with translation.override("ja"):
        text = translation.gettext(message) if isinstance(message, str) else str(message)
        return text % params if params else text


OUT_OF_RANGE = in_japanese(dates.OUT_OF_RANGE, dates.RANGE)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- The shared rule ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [*HOSTILE_DAYS, "2026-1-5", "２０２６-０１-０１", "20260101", "2026-01-01T00:00", "x"])
def test_a_query_day_outside_the_range_or_malformed_is_refused_with_a_message(text):
    with pytest.raises(dates.DateRefused) as refused:
        dates.parse_day(text)
    assert "2000" in str(refused.value) and "2100" in str(refused.value)


def test_a_query_day_in_the_range_is_read_and_a_blank_one_is_none():
    assert dates.parse_day(" 2000-01-01 ") == date(2000, 1, 1)
    assert dates.parse_day("2100-12-31") == date(2100, 12, 31)
    assert dates.parse_day("") is None
    assert dates.parse_day(None) is None
    assert dates.parse_month("2026-02") == date(2026, 2, 1)
    assert dates.parse_month("") is None
    for text in ("0001-01", "9999-12", "2026-13", "0000-00", "2026-02-01"):
        with pytest.raises(dates.DateRefused):
            dates.parse_month(text)


def test_a_refused_value_is_shortened_and_stripped_of_control_characters_in_the_message():
    with pytest.raises(dates.DateRefused) as refused:
        dates.parse_day("\x1b[31m" + "9" * 5000)
    assert "\x1b" not in str(refused.value)
    assert "9" * 21 not in str(refused.value)


def test_a_time_whose_local_day_cannot_exist_is_out_of_range_not_an_overflow():
    latest = datetime(9999, 12, 31, 23, 0, tzinfo=dates.UTC)  # 9999-12-32 08:00 in Tokyo
    assert not dates.is_in_range(latest)
    with pytest.raises(ValidationError):
        dates.validate_in_range(latest)
    dates.validate_in_range(timezone.now())
    dates.validate_in_range(None)


def test_the_date_pickers_offer_only_the_range(manager, client_for):
    html = client_for(manager).get(reverse("events:event_create")).content.decode()
    assert 'min="2000-01-01T00:00"' in html
    assert 'max="2100-12-31T23:59"' in html


# --- Forms ----------------------------------------------------------------------------------------


def event_data(**overrides) -> dict:
    data = {
        "kind": EventKind.STUDY,
        "title": "ブレーキの仕組み 勉強会",
        "starts_at": timezone.localtime(tomorrow_at(18)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": timezone.localtime(tomorrow_at(19)).strftime("%Y-%m-%dT%H:%M"),
        "invited_departments": [Department.SALES, Department.SERVICE],
    }
    return data | overrides


@pytest.mark.parametrize("moment", ["0001-01-01T00:00", "1999-12-31T23:59", "2101-01-01T00:00"])
def test_an_event_starting_outside_the_range_is_refused_and_the_list_still_answers(
    moment, manager, sales_rep, client_for
):
    client = client_for(manager)
    response = client.post(reverse("events:event_create"), event_data(starts_at=moment))

    assert response.status_code == 400
    assert response.context["form"].errors["starts_at"] == [OUT_OF_RANGE]
    assert not TeamEvent.objects.exists()
    assert client.get(reverse("events:event_list")).status_code == 200


def test_an_event_ending_in_9999_is_refused(manager, client_for):
    response = client_for(manager).post(reverse("events:event_create"), event_data(ends_at="9999-12-31T23:59"))
    assert response.status_code == 400
    assert response.context["form"].errors["ends_at"] == [OUT_OF_RANGE]
    assert not TeamEvent.objects.exists()


def test_an_event_at_the_edges_of_the_range_is_planned(manager, client_for):
    client = client_for(manager)
    first = client.post(
        reverse("events:event_create"), event_data(starts_at="2000-01-01T00:00", ends_at="2000-01-01T01:00")
    )
    last = client.post(
        reverse("events:event_create"), event_data(starts_at="2100-12-31T22:00", ends_at="2100-12-31T23:59")
    )
    assert (first.status_code, last.status_code) == (302, 302)
    assert TeamEvent.objects.count() == 2


def test_an_action_item_due_outside_the_range_is_refused(plan, manager, sales_rep, client_for):
    event = plan()
    response = client_for(manager).post(
        reverse("events:action_item_add", args=[event.pk]),
        {"text": "見積の見直し", "assignee": sales_rep.pk, "due_date": "9999-12-31"},
    )
    assert response.status_code == 400
    assert response.context["action_form"].errors["due_date"] == [OUT_OF_RANGE]
    assert not ActionItem.objects.exists()


@pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31"])
def test_a_manual_figure_dated_before_the_range_is_refused(day, branch, manager, client_for):
    response = client_for(manager).post(
        reverse("goals:kpi_manual"), {"metric": "walk_ins", "branch": branch.pk, "date": day, "value": "3"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["date"] == [OUT_OF_RANGE]
    assert not ManualKpiValue.objects.exists()
    with pytest.raises(kpi_services.GoalError):
        kpi_services.record_manual_value(
            by=manager, metric="walk_ins", branch=branch, day=date.fromisoformat(day), value=3
        )


def test_a_goal_outside_the_range_is_refused_by_the_service_too(branch, manager):
    with pytest.raises(kpi_services.GoalError):
        kpi_services.create_goal(
            by=manager,
            metric="new_car_deliveries",
            target=5,
            period="custom",
            start_date=date(1999, 12, 1),
            end_date=date(2000, 1, 31),
            branch=branch,
            departments=[Department.SALES],
        )


@pytest.fixture
def customer(branch, sales_rep):
    return CustomerFactory(branch=branch, sales_owner=sales_rep)


def test_a_voice_item_due_outside_the_range_is_refused(customer, sales_rep, client_for):
    response = client_for(sales_rep).post(
        f"{reverse('feedback:voice_create')}?customer={customer.pk}",
        {
            "category": VoiceCategory.REQUEST,
            "source": VoiceSource.PHONE,
            "title": "代車の相談",
            "assignee": sales_rep.pk,
            "due_date": "0001-01-01",
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["due_date"] == [OUT_OF_RANGE]
    assert not CustomerVoice.objects.exists()


def test_a_voice_item_cannot_be_given_a_due_date_outside_the_range(customer, sales_rep, manager, client_for):
    voice = feedback_services.record_voice(
        by=sales_rep,
        customer=customer,
        source=VoiceSource.PHONE,
        category=VoiceCategory.REQUEST,
        title="代車の相談",
        assignee=sales_rep,
    )
    response = client_for(manager).post(
        reverse("feedback:voice_assign", args=[voice.pk]), {"assignee": sales_rep.pk, "due_date": "9999-12-31"}
    )
    assert response.status_code == 302
    voice.refresh_from_db()
    assert voice.due_date is None


def test_a_shaken_expiry_outside_the_range_is_refused_with_the_shared_message(customer, sales_rep, client_for):
    vehicle = VehicleFactory(customer=customer)
    client = client_for(sales_rep)
    response = client.post(
        reverse("customers:vehicle_shaken_expiry", args=[customer.pk, vehicle.pk]), {"shaken_expiry": "9999-12-31"}
    )
    assert response.status_code == 302
    vehicle.refresh_from_db()
    assert vehicle.shaken_expiry is None
    assert OUT_OF_RANGE in messages_of(client.get(response["Location"]))


def test_a_promised_time_in_9999_is_refused_at_intake(sales_rep, client_for):
    response = client_for(sales_rep).post(
        reverse("repairs:job_create"),
        {
            "new_customer_name": "山田 太郎",
            "new_vehicle_make": "Toyota",
            "new_vehicle_model": "Aqua",
            "kind": "repair",
            "title": "異音点検",
            "priority": "2",
            "promised_at": "9999-12-31T23:59",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["promised_at"] == [OUT_OF_RANGE]


def test_the_models_refuse_dates_outside_the_range_too(plan, manager, sales_rep):
    event = plan()
    event.starts_at = datetime(1, 1, 1, tzinfo=timezone.get_current_timezone())
    with pytest.raises(ValidationError) as error:
        event.full_clean()
    assert "starts_at" in error.value.message_dict
    item = ActionItem(event=event, text="x", assignee=sales_rep, due_date=date(9999, 12, 31))
    with pytest.raises(ValidationError) as error:
        item.full_clean(exclude=["event"])
    assert "due_date" in error.value.message_dict


# --- Query strings --------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "end"), [("9999-12-31", "9999-12-31"), ("0001-01-01", "2026-01-01")])
def test_a_results_period_outside_the_range_shows_the_default_period_with_a_message(start, end, manager, client_for):
    client = client_for(manager)
    query = {"period": "custom", "start": start, "end": end}

    page = client.get(reverse("feedback:results"), query)
    download = client.get(reverse("feedback:results_csv"), query)

    assert page.status_code == 200
    assert page.context["filters"].period == "90"
    assert any(start in message and "2100" in message for message in messages_of(page))
    assert download.status_code == 200
    assert b"".join(download.streaming_content).decode().lstrip("\ufeff").startswith("submitted_at")


def test_a_results_period_in_the_range_shows_no_message(manager, client_for):
    page = client_for(manager).get(
        reverse("feedback:results"), {"period": "custom", "start": "2100-12-31", "end": "2100-12-31"}
    )
    assert page.status_code == 200
    assert page.context["filters"].end == date(2100, 12, 31)
    assert not messages_of(page)


@pytest.mark.parametrize(
    "query", [{"period": "month", "month": "0001-01"}, {"period": "custom", "start": "0000-00-00"}]
)
def test_a_kpi_period_outside_the_range_shows_this_month_with_a_message(query, manager, client_for):
    page = client_for(manager).get(reverse("goals:kpi_dashboard"), query)
    assert page.status_code == 200
    assert page.context["period"].start == timezone.localdate().replace(day=1)
    assert len(messages_of(page)) == 1


def test_the_first_month_of_the_range_compares_with_the_month_before_it(manager, client_for):
    client = client_for(manager)
    for query in ({"period": "month", "month": "2000-01"}, {"period": "quarter", "month": "2000-02"}):
        page = client.get(reverse("goals:kpi_dashboard"), query)
        assert page.status_code == 200
        assert page.context["previous"].start.year == 1999
        assert client.get(reverse("goals:kpi_export"), query).status_code == 200


def test_a_month_outside_the_range_shows_this_month_with_a_message(manager, client_for):
    page = client_for(manager).get(reverse("events:event_month"), {"month": "9999-12"})
    assert page.status_code == 200
    assert page.context["month"] == timezone.localdate().replace(day=1)
    assert len(messages_of(page)) == 1


# --- Files: the KPI import, the calendar, the results CSV -----------------------------------------


def test_a_kpi_import_with_a_cell_beyond_the_csv_field_limit_is_refused_with_a_clear_error(manager, client_for):
    text = "date,branch,metric,value\n" + f'2026-01-01,tokyo-east,walk_ins,"{"9" * 140_000}"\n'
    response = client_for(manager).post(
        reverse("goals:kpi_manual_import"),
        {"file": SimpleUploadedFile("figures.csv", text.encode(), content_type="text/csv")},
    )
    assert response.status_code == 400
    [error] = response.context["import_result"].errors
    assert error.line == 2
    assert error.reason == in_japanese(
        "This line cannot be read: a cell is far too long or a quotation mark is not closed."
    )
    assert not ManualKpiValue.objects.exists()


def test_a_kpi_import_row_dated_outside_the_range_is_listed(branch, manager):
    result = kpi_services.import_manual_csv(
        by=manager, text="date,branch,metric,value\n0001-01-01,tokyo-east,walk_ins,3\n"
    )
    assert [(error.line, error.reason) for error in result.errors] == [(2, str(dates.OUT_OF_RANGE % dates.RANGE))]
    assert not ManualKpiValue.objects.exists()


def test_line_breaks_and_control_characters_in_an_event_stay_inside_its_calendar_values(plan, manager, client_for):
    manager.display_name = "店長\r\n一郎"
    manager.save(update_fields=["display_name"])
    event = plan(title="勉強会\r\nX-INJECTED:1", place="2階\n会議室\x0b", agenda="1. 安全\r\n2. 質疑\x1b応答\x07")
    services.cancel_event(event, by=manager, reason="台風\rのため")

    response = client_for(manager).get(reverse("events:event_ics", args=[event.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert "\nX-INJECTED" not in body
    assert not any(char in body.replace("\r\n", "") for char in "\r\n\x0b\x1b\x07")
    [entry] = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert str(entry["summary"]).endswith("勉強会 X-INJECTED:1")
    assert str(entry["location"]) == "2階 会議室"
    assert "1. 安全\n2. 質疑応答" in str(entry["description"])
    assert "台風\nのため" in str(entry["description"])
    assert entry["organizer"].params["cn"] == "店長 一郎"


def test_a_line_break_in_the_calendar_name_stays_inside_it(plan, sales_rep, client_for):
    sales_rep.display_name = "営業\r\n花子"
    sales_rep.save(update_fields=["display_name"])
    plan()
    client = client_for(sales_rep)
    feed_url = client.get(reverse("events:calendar")).context["feed_url"]

    response = client.get(feed_url)

    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(b"".join([response.content]))
    assert "営業 花子" in str(calendar["x-wr-calname"])


def test_a_comment_with_line_breaks_is_one_cell_of_the_results_csv(branch, sales_rep, advisor, manager, client_for):
    job = delivered_job(customer=CustomerFactory(branch=branch), sales_owner=sales_rep, advisor=advisor)
    invitation, _created = feedback_services.create_invitation(job, deliver=False)
    feedback_services.record_survey_sent(invitation)
    feedback_services.submit_survey(invitation, answers=answers(comment="一行目\r\n=二行目\r三行目"))

    response = client_for(manager).get(reverse("feedback:results_csv"))

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode().lstrip("\ufeff"))))
    assert [row["comment"] for row in rows] == ["一行目\r\n=二行目\r三行目"]
