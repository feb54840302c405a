from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, Vehicle
from repairs import selectors
from repairs.models import JobEvent, RepairJob

pytestmark = pytest.mark.django_db

PERSONAS = ["sales_rep", "technician", "advisor", "manager"]
POST_ONLY = ["repairs:job_status", "repairs:job_claim", "repairs:job_assign", "repairs:job_promise"]
JOB_PAGES = ["repairs:job_detail", *POST_ONLY]


def future(hours: int = 24) -> str:
    return (timezone.localtime() + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", ["repairs:job_list", "repairs:my_cars", "repairs:my_queue", "repairs:board"])
def test_every_role_sees_the_branch_screens(request, client_for, persona, name, job):
    response = client_for(request.getfixturevalue(persona)).get(reverse(name) + "?scope=branch")
    assert response.status_code == 200
    if name != "repairs:my_queue" or persona == "technician":
        assert job.number in response.content.decode()


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_role_opens_a_job_page_of_their_branch(request, client_for, persona, job):
    response = client_for(request.getfixturevalue(persona)).get(job.get_absolute_url())
    assert response.status_code == 200
    assert job.number in response.content.decode()


@pytest.mark.parametrize("name", JOB_PAGES)
def test_a_user_of_another_branch_gets_404_on_every_job_url(client_for, other_branch_user, job, name):
    client = client_for(other_branch_user)
    response = (
        client.get(reverse(name, args=[job.pk]))
        if name == "repairs:job_detail"
        else client.post(reverse(name, args=[job.pk]), {"to": "diagnosing", "version": job.version})
    )
    assert response.status_code == 404


def test_another_branchs_jobs_never_appear_in_lists(client_for, sales_rep, other_branch_job):
    for name in ["repairs:job_list", "repairs:board", "repairs:my_queue"]:
        body = client_for(sales_rep).get(reverse(name) + "?scope=branch").content.decode()
        assert other_branch_job.number not in body


@pytest.mark.parametrize("name", POST_ONLY)
def test_post_only_views_answer_405_to_get(client_for, advisor, job, name):
    assert client_for(advisor).get(reverse(name, args=[job.pk])).status_code == 405


def test_technician_moves_their_own_job(client_for, technician, job):
    job.technician = technician
    job.save()
    response = client_for(technician).post(
        reverse("repairs:job_status", args=[job.pk]), {"to": "diagnosing", "version": job.version, "note": "点検開始"}
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "diagnosing"
    assert job.events.filter(kind="status").first().note == "点検開始"


def test_technician_cannot_change_status_of_a_job_assigned_to_someone_else(
    client_for, technician, other_technician, job
):
    job.technician = other_technician
    job.save()
    response = client_for(technician).post(
        reverse("repairs:job_status", args=[job.pk]), {"to": "diagnosing", "version": 1}
    )
    assert response.status_code == 403
    assert RepairJob.objects.get(pk=job.pk).status == "received"


def test_sales_rep_cannot_move_workshop_status(client_for, sales_rep, job):
    response = client_for(sales_rep).post(
        reverse("repairs:job_status", args=[job.pk]), {"to": "diagnosing", "version": 1}
    )
    assert response.status_code == 403


def test_sales_rep_hands_over_their_customers_ready_car(client_for, sales_rep, make_job):
    job = make_job(status="ready", sales_owner=sales_rep)
    client_for(sales_rep).post(
        reverse("repairs:job_status", args=[job.pk]), {"to": "delivered", "version": job.version}
    )
    assert RepairJob.objects.get(pk=job.pk).status == "delivered"


def test_an_illegal_transition_is_refused_with_a_message(client_for, advisor, job):
    response = client_for(advisor).post(
        reverse("repairs:job_status", args=[job.pk]), {"to": "delivered", "version": job.version}, follow=True
    )
    assert RepairJob.objects.get(pk=job.pk).status == "received"
    assert any(message.level_tag == "error" for message in response.context["messages"])


def test_a_stale_form_is_refused_and_says_who_changed_what(client_for, advisor, manager, job):
    seen = job.version
    client_for(manager).post(reverse("repairs:job_status", args=[job.pk]), {"to": "diagnosing", "version": seen})
    response = client_for(advisor).post(
        reverse("repairs:job_status", args=[job.pk]), {"to": "in_progress", "version": seen}, follow=True
    )
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert errors and manager.display_name in errors[0]
    assert RepairJob.objects.get(pk=job.pk).status == "diagnosing"


def test_garbage_status_input_is_refused_without_a_write(client_for, advisor, job):
    response = client_for(advisor).post(reverse("repairs:job_status", args=[job.pk]), {"to": "flying", "version": "x"})
    assert response.status_code == 302
    assert RepairJob.objects.get(pk=job.pk).version == job.version


def test_technician_claims_an_unassigned_job_and_others_cannot(client_for, technician, advisor, job):
    assert client_for(advisor).post(reverse("repairs:job_claim", args=[job.pk])).status_code == 403
    client_for(technician).post(reverse("repairs:job_claim", args=[job.pk]))
    assert RepairJob.objects.get(pk=job.pk).technician == technician


def test_advisor_assigns_a_technician_and_sales_cannot(client_for, advisor, sales_rep, technician, job):
    assert (
        client_for(sales_rep)
        .post(reverse("repairs:job_assign", args=[job.pk]), {"technician": technician.pk})
        .status_code
        == 403
    )
    client_for(advisor).post(reverse("repairs:job_assign", args=[job.pk]), {"technician": technician.pk})
    assert RepairJob.objects.get(pk=job.pk).technician == technician


def test_advisor_changes_the_promise_with_a_reason(client_for, advisor, job):
    client_for(advisor).post(
        reverse("repairs:job_promise", args=[job.pk]), {"promised_at": future(), "reason": "部品遅延"}
    )
    assert JobEvent.objects.get(job=job, kind="promise").note == "部品遅延"


def test_a_promise_in_the_past_or_without_reason_is_refused(client_for, advisor, technician, job):
    client = client_for(advisor)
    client.post(reverse("repairs:job_promise", args=[job.pk]), {"promised_at": future(-2), "reason": "x"})
    client.post(reverse("repairs:job_promise", args=[job.pk]), {"promised_at": future(), "reason": ""})
    assert not JobEvent.objects.filter(kind="promise").exists()
    assert (
        client_for(technician)
        .post(reverse("repairs:job_promise", args=[job.pk]), {"promised_at": future(), "reason": "x"})
        .status_code
        == 403
    )


def new_job_payload(**overrides) -> dict:
    data = {
        "customer": "",
        "new_customer_name": "高橋 美咲",
        "new_customer_kana": "タカハシ ミサキ",
        "new_customer_phone": "090-1111-2222",
        "vehicle": "",
        "new_vehicle_make": "Toyota",
        "new_vehicle_model": "Aqua",
        "new_vehicle_year": "2021",
        "new_vehicle_plate": "品川 500 さ 77-01",
        "kind": "repair",
        "title": "エアコン効きが悪い",
        "customer_request": "夕方までに",
        "promised_at": future(),
        "priority": "3",
    }
    return data | overrides


def test_sales_rep_creates_a_job_for_a_new_customer_and_vehicle(client_for, sales_rep):
    response = client_for(sales_rep).post(reverse("repairs:job_create"), new_job_payload())
    job = RepairJob.objects.get()
    assert response["Location"] == job.get_absolute_url()
    assert (job.customer.name, job.vehicle.model, job.sales_owner) == ("高橋 美咲", "Aqua", sales_rep)


def test_sales_rep_creates_a_job_for_an_existing_customer(client_for, sales_rep, customer, vehicle):
    client_for(sales_rep).post(
        reverse("repairs:job_create"), new_job_payload(customer=customer.pk, vehicle=vehicle.pk, new_customer_name="")
    )
    assert RepairJob.objects.get().vehicle == vehicle
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"promised_at": future(-3)}, "promised_at"),
        ({"customer": "999999", "new_customer_name": ""}, "customer"),
        ({"new_customer_name": ""}, "customer"),
        ({"new_vehicle_make": "", "new_vehicle_model": ""}, "vehicle"),
        ({"title": ""}, "title"),
        ({"kind": "pdi", "promised_at": ""}, "promised_at"),
    ],
)
def test_bad_intake_input_rerenders_with_messages_and_writes_nothing(client_for, sales_rep, overrides, field):
    response = client_for(sales_rep).post(reverse("repairs:job_create"), new_job_payload(**overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not RepairJob.objects.exists()
    assert not Customer.objects.exists()
    assert not Vehicle.objects.exists()


def test_a_customer_of_another_branch_cannot_be_used(client_for, sales_rep, other_branch_job):
    response = client_for(sales_rep).post(
        reverse("repairs:job_create"),
        new_job_payload(
            customer=other_branch_job.customer_id, vehicle=other_branch_job.vehicle_id, new_customer_name=""
        ),
    )
    assert "customer" in response.context["form"].errors
    assert RepairJob.objects.count() == 1


def test_technicians_get_403_on_the_intake_form(client_for, technician):
    assert client_for(technician).get(reverse("repairs:job_create")).status_code == 403


def test_the_vehicle_picker_lists_the_chosen_customers_vehicles(client_for, sales_rep, customer, vehicle):
    response = client_for(sales_rep).get(reverse("repairs:job_create_vehicles") + f"?customer={customer.pk}")
    assert vehicle.plate_number in response.content.decode()


def test_search_finds_jobs_by_plate_kana_and_number(client_for, sales_rep, job, make_job):
    other = make_job()
    client = client_for(sales_rep)
    for term in ["12-34", "サトウ", "佐藤", job.number]:
        body = client.get(reverse("repairs:my_cars"), {"q": term}).content.decode()
        assert job.number in body and other.number not in body


def test_status_and_kind_filters(client_for, advisor, make_job):
    ready = make_job(status="ready")
    pdi = make_job(kind="pdi", promised_at=timezone.now() + timedelta(days=1))
    client = client_for(advisor)
    body = client.get(reverse("repairs:job_list"), {"status": "ready"}).content.decode()
    assert ready.number in body and pdi.number not in body
    body = client.get(reverse("repairs:job_list"), {"kind": "pdi"}).content.decode()
    assert pdi.number in body and ready.number not in body


def test_overdue_and_awaiting_approval_are_highlighted(client_for, sales_rep, make_job):
    late = make_job(promised_at=timezone.now() - timedelta(hours=2))
    waiting = make_job(status="awaiting_approval")
    body = client_for(sales_rep).get(reverse("repairs:my_cars")).content.decode()
    assert f'class="overdue" data-job="{late.number}"' in body
    assert f'class="awaiting" data-job="{waiting.number}"' in body


def test_the_list_paginates(client_for, advisor, make_job):
    for _ in range(30):
        make_job()
    client = client_for(advisor)
    assert len(client.get(reverse("repairs:job_list")).context["page"]) == 25
    assert len(client.get(reverse("repairs:job_list"), {"page": 2}).context["page"]) == 5


@pytest.mark.parametrize("name", ["repairs:job_list", "repairs:my_cars", "repairs:board", "repairs:my_queue"])
def test_polled_lists_answer_304_until_something_changes(client_for, technician, advisor, job, name):
    job.technician = technician  # on the technician's own list too
    job.save()
    client = client_for(technician)
    first = client.get(reverse(name), HTTP_HX_REQUEST="true")
    assert first.status_code == 200
    etag = first["ETag"]
    assert client.get(reverse(name), HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag).status_code == 304
    client_for(advisor).post(reverse("repairs:job_status", args=[job.pk]), {"to": "diagnosing", "version": job.version})
    client.force_login(technician)
    changed = client.get(reverse(name), HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_the_polled_job_page_answers_304_then_200_after_a_change(client_for, advisor, technician, job):
    client = client_for(technician)
    etag = client.get(job.get_absolute_url(), HTTP_HX_REQUEST="true")["ETag"]
    assert client.get(job.get_absolute_url(), HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag).status_code == 304
    client_for(advisor).post(reverse("repairs:job_status", args=[job.pk]), {"to": "diagnosing", "version": job.version})
    client.force_login(technician)
    response = client.get(job.get_absolute_url(), HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert "<html" not in response.content.decode()  # the fragment only


def test_an_assignment_meanwhile_does_not_make_a_status_tap_stale(client_for, advisor, technician, job):
    seen = job.version
    client_for(advisor).post(reverse("repairs:job_assign", args=[job.pk]), {"technician": technician.pk})
    client_for(technician).post(reverse("repairs:job_status", args=[job.pk]), {"to": "diagnosing", "version": seen})
    assert RepairJob.objects.get(pk=job.pk).status == "diagnosing"


def test_the_job_page_shows_a_new_technician_at_once(client_for, advisor, technician, sales_rep, job):
    def shown_technician(client) -> str:
        body = client.get(job.get_absolute_url()).content.decode()
        return body.split('data-testid="technician">', 1)[1].split("<", 1)[0]

    client = client_for(sales_rep)
    assert shown_technician(client) != technician.display_name
    client_for(advisor).post(reverse("repairs:job_assign", args=[job.pk]), {"technician": technician.pk})
    client.force_login(sales_rep)
    assert shown_technician(client) == technician.display_name


def test_assigning_a_technician_of_another_branch_is_refused_with_a_message(client_for, advisor, job, other_branch):
    from tests.factories import UserFactory

    stranger = UserFactory(branch=other_branch, role="technician", department="service")
    response = client_for(advisor).post(
        reverse("repairs:job_assign", args=[job.pk]), {"technician": stranger.pk}, follow=True
    )
    assert any(message.level_tag == "error" for message in response.context["messages"])
    assert RepairJob.objects.get(pk=job.pk).technician is None


def test_the_customer_search_finds_by_kana_phone_and_plate_within_the_branch(
    client_for, advisor, customer, vehicle, other_branch_job
):
    client = client_for(advisor)
    url = reverse("repairs:job_create_customers")
    for term in ["サトウ", "090-0000", "12-34"]:
        body = client.get(url, {"customer_search": term}).content.decode()
        assert f'value="{customer.pk}"' in body
    other = other_branch_job.customer
    assert f'value="{other.pk}"' not in client.get(url, {"customer_search": other.name}).content.decode()
    assert client_for(other_branch_job.requested_by).get(url).status_code == 200


def test_technicians_cannot_search_customers(client_for, technician):
    assert client_for(technician).get(reverse("repairs:job_create_customers")).status_code == 403


def test_a_searched_customer_outside_the_shortlist_can_be_chosen(client_for, sales_rep, branch):
    from tests.factories import CustomerFactory, VehicleFactory

    stranger_customer = CustomerFactory(branch=branch, sales_owner=None, name="遠藤 直樹")
    car = VehicleFactory(customer=stranger_customer)
    client = client_for(sales_rep)
    offered = client.get(reverse("repairs:job_create")).context["form"]["customer"].field.widget.choices
    assert stranger_customer.pk not in [value for value, _label in offered]  # not one of the rep's own customers
    response = client.post(
        reverse("repairs:job_create"),
        new_job_payload(customer=stranger_customer.pk, vehicle=car.pk, new_customer_name=""),
    )
    assert response.status_code == 302
    assert RepairJob.objects.get().customer == stranger_customer


def test_the_queue_badge_tells_the_true_number_of_unassigned_jobs(client_for, technician, make_job):
    for _ in range(53):
        make_job()
    assert selectors.UNASSIGNED_SHOWN < 53
    response = client_for(technician).get(reverse("repairs:my_queue"))
    body = response.content.decode()
    assert 'data-testid="unassigned-count">53<' in body
    assert body.count('class="queue-claim"') == selectors.UNASSIGNED_SHOWN


def test_unassigned_cards_show_plate_kind_promise_and_priority(client_for, technician, make_job):
    job = make_job(priority=1, promised_at=timezone.now() + timedelta(hours=5))
    body = client_for(technician).get(reverse("repairs:my_queue")).content.decode()
    for text in (job.vehicle.plate_number, job.get_kind_display(), job.get_priority_display()):
        assert str(text) in body
    assert timezone.localtime(job.promised_at).strftime("%m/%d %H:%M") in body


def test_a_move_back_asks_to_confirm_before_anything_changes(client_for, advisor, make_job):
    job = make_job(status="ready")
    client = client_for(advisor)
    url = reverse("repairs:job_status", args=[job.pk])
    first = client.post(url, {"to": "in_progress", "version": job.version})
    assert first.status_code == 200
    assert 'data-testid="confirm-move"' in first.content.decode()
    assert RepairJob.objects.get(pk=job.pk).status == "ready"
    second = client.post(url, {"to": "in_progress", "version": job.version, "confirmed": "1", "note": "再調整"})
    assert second.status_code == 302
    assert RepairJob.objects.get(pk=job.pk).status == "in_progress"


def test_staff_screens_use_staff_wording_for_the_approval_wait(client_for, sales_rep, make_job):
    make_job(status="awaiting_approval")
    body = client_for(sales_rep).get(reverse("repairs:my_cars")).content.decode()
    assert "お客様の承認待ち" in body or "Waiting for the customer&#x27;s approval" in body
    assert "ご承認待ち" not in body


def test_a_change_to_a_job_a_list_does_not_show_leaves_that_list_unchanged(client_for, technician, advisor, job):
    # The technician's own list does not show this job (not theirs): another
    # job's move must not re-render it (issue 13: per-screen ETags).
    client = client_for(technician)
    url = reverse("repairs:my_cars")
    etag = client.get(url, HTTP_HX_REQUEST="true")["ETag"]
    client_for(advisor).post(reverse("repairs:job_status", args=[job.pk]), {"to": "diagnosing", "version": job.version})
    client.force_login(technician)
    assert client.get(url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag).status_code == 304
    board = client.get(reverse("repairs:board"), HTTP_HX_REQUEST="true")
    assert board.status_code == 200  # the board shows every job of the branch


def test_a_job_crossing_its_promised_time_changes_the_etag_without_any_write(client_for, advisor, job):
    import time_machine

    RepairJob.objects.filter(pk=job.pk).update(promised_at=timezone.now() + timedelta(minutes=30))
    client = client_for(advisor)
    url = reverse("repairs:board")
    etag = client.get(url, HTTP_HX_REQUEST="true")["ETag"]
    assert client.get(url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag).status_code == 304
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert client.get(url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag).status_code == 304  # no minute tick
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        late = client.get(url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag)
        assert late.status_code == 200
        assert "job-card mb-2 overdue" in late.content.decode()


def test_the_queue_lists_the_most_urgent_of_my_jobs_and_counts_them_all(client_for, technician, make_job):
    for index in range(selectors.MINE_SHOWN + 3):
        make_job(technician=technician, priority=1 if index == 0 else 3)
    body = client_for(technician).get(reverse("repairs:my_queue")).content.decode()
    assert f'data-testid="mine-count">{selectors.MINE_SHOWN + 3}<' in body
    assert "?scope=mine" in body  # the way to all of them
