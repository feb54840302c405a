"""Service → sales leads, and the sales rep's "My requests"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from dealership.models import Notification
from repairs import leads, services
from repairs.models import JobEvent, RepairJob, SalesLead
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def told(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient__email", flat=True))


@pytest.fixture
def lead(job, technician):
    lead = leads.flag_sales_lead(job, by=technician, reason="costly_repair", note="13年目、修理費20万円超")
    Notification.objects.all().delete()
    return lead


# --- flagging -----------------------------------------------------------------------


def test_a_technician_flags_a_lead_and_only_the_sales_owner_hears_of_it(job, technician, sales_rep, advisor):
    lead = leads.flag_sales_lead(job, by=technician, reason="new_models", note="新型ハイブリッドに興味あり")

    assert lead.owner == sales_rep
    assert lead.branch_id == job.branch_id
    assert lead.status == "new"
    assert told("sales_lead") == {sales_rep.email}
    assert not Notification.objects.exclude(kind="sales_lead").exists()
    event = JobEvent.objects.filter(job=job).first()
    assert event.kind == "lead_flagged"
    assert event.by == technician


def test_a_lead_without_sales_owner_goes_to_the_branch_managers(make_job, advisor, manager):
    job = make_job(sales_owner=None)
    job.customer.sales_owner = None
    job.customer.save()

    leads.flag_sales_lead(job, by=advisor, reason="inspection_due")

    assert told("sales_lead") == {manager.email}


@pytest.mark.parametrize("persona", ["sales_rep", "manager"])
def test_sales_and_managers_do_not_flag_leads(request, job, persona):
    with pytest.raises(PermissionDenied):
        leads.flag_sales_lead(job, by=request.getfixturevalue(persona), reason="other", note="x")


@pytest.mark.parametrize("final", ["cancelled", "delivered"])
def test_no_lead_on_a_cancelled_or_delivered_job(make_job, advisor, final):
    job = make_job(status=final)
    with pytest.raises((services.JobError, PermissionDenied)):
        leads.flag_sales_lead(job, by=advisor, reason="wear_parts")
    assert not SalesLead.objects.exists()


def test_an_unknown_reason_or_an_unexplained_other_is_refused(job, technician):
    with pytest.raises(services.JobError):
        leads.flag_sales_lead(job, by=technician, reason="gut_feeling")
    with pytest.raises(services.JobError):
        leads.flag_sales_lead(job, by=technician, reason="other", note="  ")
    assert not SalesLead.objects.exists()


# --- following up -------------------------------------------------------------------


def test_the_sales_owner_updates_the_lead_and_the_technician_hears_what_became_of_it(lead, sales_rep, technician):
    leads.update_lead(lead, by=sales_rep, status="converted", outcome_note="新車ご成約")

    lead.refresh_from_db()
    assert (lead.status, lead.outcome_note) == ("converted", "新車ご成約")
    assert told("lead_updated") == {technician.email}
    assert JobEvent.objects.filter(job=lead.job, kind="lead_updated").count() == 1


def test_nothing_is_written_when_nothing_changes(lead, sales_rep):
    leads.update_lead(lead, by=sales_rep, status="new", outcome_note="")
    assert not JobEvent.objects.filter(kind="lead_updated").exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize("persona", ["technician", "advisor", "colleague"])
def test_only_the_leads_sales_owner_or_a_manager_updates_it(request, lead, persona, branch):
    person = (
        UserFactory(role="sales_rep", department="sales", branch=branch)
        if persona == "colleague"
        else request.getfixturevalue(persona)
    )
    with pytest.raises(PermissionDenied):
        leads.update_lead(lead, by=person, status="dismissed")
    assert SalesLead.objects.get(pk=lead.pk).status == "new"


def test_a_manager_may_update_any_lead_of_the_branch(lead, manager, technician):
    leads.update_lead(lead, by=manager, status="dismissed", outcome_note="買い替え予定なし")
    assert SalesLead.objects.get(pk=lead.pk).status == "dismissed"
    assert told("lead_updated") == {technician.email}


# --- the screens ----------------------------------------------------------------------


def test_a_technician_flags_a_lead_from_the_job(client_for, job, technician, sales_rep):
    client = client_for(technician)
    url = reverse("repairs:lead_new", args=[job.pk])
    assert client.get(url).status_code == 200

    response = client.post(url, {"reason": "wear_parts", "note": "タイヤ残溝2mm"})

    assert response.status_code == 302
    assert SalesLead.objects.get().reason == "wear_parts"
    assert told("sales_lead") == {sales_rep.email}


def test_the_lead_form_refuses_an_unknown_reason(client_for, job, technician):
    response = client_for(technician).post(reverse("repairs:lead_new", args=[job.pk]), {"reason": "hunch"})
    assert response.status_code == 400
    assert not SalesLead.objects.exists()


def test_a_sales_rep_may_not_open_the_lead_form(client_for, job, sales_rep):
    assert client_for(sales_rep).get(reverse("repairs:lead_new", args=[job.pk])).status_code == 403


def test_the_leads_page_lists_the_branch_leads_with_who_flagged_them(client_for, lead, technician, sales_rep):
    body = client_for(technician).get(reverse("repairs:leads")).content.decode()
    assert lead.job.number in body
    assert technician.display_name in body
    assert reverse("repairs:lead_update", args=[lead.pk]) not in body  # the technician only reads


def test_the_sales_owner_updates_a_lead_from_the_leads_page(client_for, lead, sales_rep, technician):
    client = client_for(sales_rep)
    assert reverse("repairs:lead_update", args=[lead.pk]) in client.get(reverse("repairs:leads")).content.decode()

    response = client.post(
        reverse("repairs:lead_update", args=[lead.pk]), {"status": "contacted", "outcome_note": "来週試乗"}
    )

    assert response.status_code == 302
    assert SalesLead.objects.get(pk=lead.pk).status == "contacted"
    assert told("lead_updated") == {technician.email}
    body = client.get(reverse("repairs:leads") + "?status=contacted").content.decode()
    assert "来週試乗" in body


def test_the_leads_page_filters_by_status(client_for, lead, sales_rep):
    body = client_for(sales_rep).get(reverse("repairs:leads") + "?status=converted").content.decode()
    assert lead.job.number not in body


def test_a_bad_lead_update_changes_nothing(client_for, lead, sales_rep):
    response = client_for(sales_rep).post(reverse("repairs:lead_update", args=[lead.pk]), {"status": "won"})
    assert response.status_code == 302
    assert SalesLead.objects.get(pk=lead.pk).status == "new"


def test_a_technician_may_not_update_a_lead(client_for, lead, technician):
    response = client_for(technician).post(reverse("repairs:lead_update", args=[lead.pk]), {"status": "dismissed"})
    assert response.status_code == 403
    assert SalesLead.objects.get(pk=lead.pk).status == "new"


def test_another_branch_never_sees_or_touches_the_leads(client_for, lead, other_branch_manager):
    client = client_for(other_branch_manager)
    assert lead.job.number not in client.get(reverse("repairs:leads")).content.decode()
    assert client.post(reverse("repairs:lead_update", args=[lead.pk]), {"status": "dismissed"}).status_code == 404
    assert client.get(reverse("repairs:lead_new", args=[lead.job_id])).status_code == 404
    assert SalesLead.objects.get(pk=lead.pk).status == "new"


def test_the_leads_page_costs_the_same_queries_for_many_leads(
    client_for, make_job, technician, sales_rep, django_assert_max_num_queries
):
    for index in range(8):
        leads.flag_sales_lead(make_job(), by=technician, reason="other", note=f"メモ{index}")
    client = client_for(sales_rep)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("repairs:leads"))
    assert response.content.decode().count('data-testid="lead"') == 8


# --- My requests ----------------------------------------------------------------------


@pytest.fixture
def pdi(make_job, sales_rep):
    return make_job(
        kind="pdi", title="新車納車前整備", requested_by=sales_rep, promised_at=timezone.now() + timedelta(minutes=30)
    )


def test_my_requests_lists_the_internal_requests_with_due_time_and_risk(client_for, pdi, job, sales_rep):
    body = client_for(sales_rep).get(reverse("repairs:my_requests")).content.decode()
    assert pdi.number in body
    assert job.number not in body  # a repair the advisor opened is not the rep's request
    assert f'data-job="{pdi.number}" data-risk="at_risk"' in body  # due within the hour


def test_the_sales_rep_confirms_the_handover_of_a_ready_request(client_for, pdi, sales_rep, advisor):
    for status in ("in_progress", "quality_check", "ready"):
        services.change_status(pdi, to=status, by=advisor, expected_version=pdi.version)
    client = client_for(sales_rep)
    assert reverse("repairs:handover", args=[pdi.pk]) in client.get(reverse("repairs:my_requests")).content.decode()

    response = client.post(reverse("repairs:handover", args=[pdi.pk]), {"version": pdi.version})

    assert response.status_code == 302
    pdi.refresh_from_db()
    assert pdi.status == "delivered"
    assert JobEvent.objects.filter(job=pdi, kind="status", to_status="delivered", by=sales_rep).exists()


def test_a_stale_handover_is_refused(client_for, pdi, sales_rep, advisor):
    for status in ("in_progress", "quality_check", "ready"):
        services.change_status(pdi, to=status, by=advisor, expected_version=pdi.version)
    client_for(sales_rep).post(reverse("repairs:handover", args=[pdi.pk]), {"version": pdi.version - 1})
    assert RepairJob.objects.get(pk=pdi.pk).status == "ready"


def test_a_technician_may_not_confirm_a_handover(client_for, pdi, technician):
    response = client_for(technician).post(reverse("repairs:handover", args=[pdi.pk]), {"version": pdi.version})
    assert response.status_code == 403


def test_another_branch_gets_404_on_the_handover(client_for, pdi, other_branch_manager):
    response = client_for(other_branch_manager).post(reverse("repairs:handover", args=[pdi.pk]), {"version": 1})
    assert response.status_code == 404


# --- the admin ----------------------------------------------------------------------


def test_the_admin_updates_a_lead_only_through_the_service(client, branch, lead, technician):
    superuser = UserFactory(email="root@example.com", branch=branch, is_staff=True, is_superuser=True, role="manager")
    client.force_login(superuser)
    response = client.post(
        reverse("admin:repairs_saleslead_change", args=[lead.pk]), {"status": "converted", "outcome_note": "成約"}
    )
    assert response.status_code == 302
    assert SalesLead.objects.get(pk=lead.pk).status == "converted"
    assert JobEvent.objects.filter(job=lead.job, kind="lead_updated", by=superuser).exists()
    assert told("lead_updated") == {technician.email}
