"""The customer's page (顧客カルテ), the customer search and the 車検 date: allowed, forbidden and bad input."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Vehicle
from feedback import services
from repairs.models import JobEvent
from repairs.services import record_event
from tests.factories import CustomerFactory, VehicleFactory
from tests.feedback.conftest import answers, delivered_job

pytestmark = pytest.mark.django_db


# --- the customer's page -----------------------------------------------------------------------------------


@pytest.fixture
def full_customer(customer, sales_rep, advisor, technician, make_delivered_job):
    """A customer with data of every kind: vehicles, jobs with timelines, an approval, a lead, answers, voice items."""
    vehicle = VehicleFactory(customer=customer, shaken_expiry=date(2027, 3, 31), plate_number="品川 300 あ 12-34")
    job = make_delivered_job(customer=customer, vehicle=vehicle)
    record_event(job, kind=JobEvent.Kind.STATUS, by=technician, from_status="ready", to_status="delivered")
    record_event(job, kind=JobEvent.Kind.APPROVAL_REQUESTED, by=technician, work="ブレーキ交換", estimate="32,000")
    record_event(job, kind=JobEvent.Kind.LEAD_FLAGGED, by=technician, reason="車検が近い")
    invitation, _ = services.create_invitation(job, deliver=False)
    services.submit_survey(invitation, answers=answers(overall=2, nps=3, comment="連絡がなかった"))
    services.record_voice(
        by=sales_rep, customer=customer, job=job, source="phone", category="request", title="土曜の入庫を希望"
    )
    return customer


def test_the_customers_page_shows_everything_both_departments_need(client_for, sales_rep, full_customer):
    response = client_for(sales_rep).get(f"/customers/{full_customer.pk}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert full_customer.name in page
    assert full_customer.email in page and full_customer.phone in page
    assert "2027-03-31" in page and "品川 300 あ 12-34" in page
    job = full_customer.jobs.get()
    assert job.number in page and f'href="{job.get_absolute_url()}"' in page
    assert "ブレーキ交換" in page and "車検が近い" in page  # approval and lead, from the timeline
    assert 'data-kind="survey_answered"' in page
    assert "連絡がなかった" in page  # the survey answer
    assert "土曜の入庫を希望" in page and "アンケート低評価" in page  # voice items, the recovery one too
    assert len(response.context["approvals"]) == 1 and len(response.context["leads"]) == 1


def test_a_technician_sees_the_customers_page_without_contact_details(client_for, technician, full_customer):
    response = client_for(technician).get(f"/customers/{full_customer.pk}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert full_customer.name in page
    assert full_customer.email not in page and full_customer.phone not in page
    assert 'data-testid="customer-phone"' not in page


def test_another_branchs_customer_page_is_404(client_for, other_branch_user, full_customer):
    assert client_for(other_branch_user).get(f"/customers/{full_customer.pk}/").status_code == 404


def page_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_customers_page_query_count_does_not_grow_with_jobs_and_answers(
    client_for, sales_rep, advisor, technician, full_customer
):
    client = client_for(sales_rep)
    url = f"/customers/{full_customer.pk}/"
    few = page_queries(client, url)
    for index in range(6):
        job = delivered_job(customer=full_customer, sales_owner=sales_rep, advisor=advisor, technician=technician)
        record_event(
            job, kind=JobEvent.Kind.APPROVAL_DECIDED, by=sales_rep, work="x", decision="ok", contact="電話", waited="1h"
        )
        invitation, _ = services.create_invitation(job, deliver=False)
        services.submit_survey(invitation, answers=answers(overall=1 + index % 5, nps=index))
        VehicleFactory(customer=full_customer)
    many = page_queries(client, url)

    assert few == many
    assert many <= 16


def test_the_customer_search_finds_by_kana_phone_and_plate_within_the_branch(
    client_for, sales_rep, full_customer, other_branch
):
    CustomerFactory(branch=other_branch, name="佐藤 遠方", name_kana="サトウ エンポウ")
    client = client_for(sales_rep)

    for term in ("サトウ", "300 あ", full_customer.phone[:6]):
        customers = client.get("/customers/", {"q": term}).context["customers"]
        assert customers == [full_customer]


def test_staff_edit_the_shaken_expiry_and_a_technician_may_not(client_for, sales_rep, technician, full_customer):
    vehicle = full_customer.vehicles.get(plate_number="品川 300 あ 12-34")
    url = f"/customers/{full_customer.pk}/vehicles/{vehicle.pk}/shaken/"

    assert client_for(technician).post(url, {"shaken_expiry": "2028-01-31"}).status_code == 403
    ok = client_for(sales_rep).post(url, {"shaken_expiry": "2028-01-31"})
    assert ok.status_code == 302
    assert Vehicle.objects.get(pk=vehicle.pk).shaken_expiry == date(2028, 1, 31)

    client_for(sales_rep).post(url, {"shaken_expiry": "31/01/2029"})
    assert Vehicle.objects.get(pk=vehicle.pk).shaken_expiry == date(2028, 1, 31)


def test_editing_a_vehicle_of_another_branch_or_another_customer_is_404(
    client_for, sales_rep, other_branch_user, full_customer, branch
):
    vehicle = full_customer.vehicles.first()
    stranger = VehicleFactory(customer=CustomerFactory(branch=branch))

    foreign = client_for(other_branch_user).post(
        f"/customers/{full_customer.pk}/vehicles/{vehicle.pk}/shaken/", {"shaken_expiry": "2028-01-31"}
    )
    mismatched = client_for(sales_rep).post(
        f"/customers/{full_customer.pk}/vehicles/{stranger.pk}/shaken/", {"shaken_expiry": "2028-01-31"}
    )

    assert foreign.status_code == mismatched.status_code == 404


# --- the old addresses, the menu and notifications about a customer ----------------------------------------


def test_the_old_addresses_under_voice_redirect_permanently_to_the_customers_pages(client_for, sales_rep, customer):
    vehicle = VehicleFactory(customer=customer)
    client = client_for(sales_rep)

    search = client.get("/voice/customers/", {"q": "サトウ"})
    page = client.get(f"/voice/customers/{customer.pk}/")
    # 308 keeps a POST a POST: a form left open on the old address still saves.
    shaken = client.post(
        f"/voice/customers/{customer.pk}/vehicles/{vehicle.pk}/shaken/", {"shaken_expiry": "2028-01-31"}
    )

    assert (search.status_code, search["Location"]) == (308, "/customers/?q=%E3%82%B5%E3%83%88%E3%82%A6")
    assert (page.status_code, page["Location"]) == (308, f"/customers/{customer.pk}/")
    assert (shaken.status_code, shaken["Location"]) == (308, f"/customers/{customer.pk}/vehicles/{vehicle.pk}/shaken/")
    assert client.get(search["Location"]).context["customers"] == [customer]


def test_find_a_customer_stays_in_the_customers_menu_beside_the_survey_results_and_the_voice_items(
    client_for, technician
):
    from dealership.context_processors import navigation_menus

    menus = [menu for menu in navigation_menus(technician) if menu.get("items")]
    customers_menu = [menu for menu in menus if any(item["name"] == "customers" for item in menu["items"])]

    assert len(customers_menu) == 1
    assert [item["url"] for item in customers_menu[0]["items"]] == ["/voice/results/", "/voice/items/", "/customers/"]
    labels = [str(menu["label"]) for menu in menus]
    assert len(set(labels)) == len(labels)  # no second menu under the same name


def test_only_staff_who_may_open_the_customers_page_hear_about_the_customer(sales_rep, other_branch_user, customer):
    from dealership.notifications import may_hear_about

    assert may_hear_about(sales_rep, customer)
    assert not may_hear_about(other_branch_user, customer)
