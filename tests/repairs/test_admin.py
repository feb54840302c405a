from __future__ import annotations

import pytest
from django.urls import reverse

from repairs.models import JobEvent, RepairJob
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for(client, branch):
    superuser = UserFactory(email="root@example.com", branch=branch, is_staff=True, is_superuser=True, role="manager")
    client.force_login(superuser)
    return client, superuser


def test_the_admin_moves_jobs_only_through_the_service_and_keeps_history(admin_client_for, job):
    client, superuser = admin_client_for
    response = client.post(
        reverse("admin:repairs_repairjob_changelist"),
        {"action": "move_to_on_hold", "_selected_action": [job.pk]},
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "on_hold"
    change = JobEvent.objects.filter(job=job, kind="status").first()
    assert (change.from_status, change.to_status, change.by) == ("received", "on_hold", superuser)


def test_an_illegal_admin_move_is_refused_with_a_message(admin_client_for, make_job):
    client, _superuser = admin_client_for
    delivered = make_job(status="delivered")
    response = client.post(
        reverse("admin:repairs_repairjob_changelist"),
        {"action": "move_to_in_progress", "_selected_action": [delivered.pk]},
        follow=True,
    )
    assert RepairJob.objects.get(pk=delivered.pk).status == "delivered"
    assert any(delivered.number in str(message) for message in response.context["messages"])


def test_the_job_change_page_shows_status_read_only_with_its_history(admin_client_for, job):
    client, _superuser = admin_client_for
    response = client.get(reverse("admin:repairs_repairjob_change", args=[job.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="status"' not in body
    assert "events-TOTAL_FORMS" in body


@pytest.mark.parametrize("model", ["repairjob", "jobevent", "jobmessage", "jobreadmarker"])
def test_every_repairs_model_has_an_admin_page(admin_client_for, model):
    client, _superuser = admin_client_for
    assert client.get(reverse(f"admin:repairs_{model}_changelist")).status_code == 200


def test_a_message_page_links_its_photos_to_the_permission_checked_view(admin_client_for, job, technician):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from repairs import services
    from repairs.images import process_photo

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30)).save(buffer, format="PNG")
    photo = process_photo(SimpleUploadedFile("p.png", buffer.getvalue()))
    message = services.post_message(job, by=technician, body="写真", photos=[photo])
    client, _superuser = admin_client_for
    body = client.get(reverse("admin:repairs_jobmessage_change", args=[message.pk])).content.decode()
    attachment = message.attachments.get()
    assert reverse("repairs:attachment_file", args=[job.pk, attachment.pk, "full"]) in body


def admin_form(job, **changes) -> dict:
    data = {
        "technician": job.technician_id or "",
        "promised_at_0": "",
        "promised_at_1": "",
        "promise_reason": "",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "0",
    }
    return data | changes


def test_assigning_in_the_admin_goes_through_the_service(admin_client_for, job, technician):
    from dealership.models import Notification

    client, superuser = admin_client_for
    response = client.post(
        reverse("admin:repairs_repairjob_change", args=[job.pk]), admin_form(job, technician=technician.pk)
    )
    assert response.status_code == 302
    assert RepairJob.objects.get(pk=job.pk).technician == technician
    event = JobEvent.objects.get(job=job, kind="assigned")
    assert event.by == superuser
    assert Notification.objects.filter(recipient=technician, kind="job_assigned").exists()


def test_a_new_promise_in_the_admin_needs_a_reason_and_goes_through_the_service(admin_client_for, job, sales_rep):
    from dealership.models import Notification

    client, _superuser = admin_client_for
    url = reverse("admin:repairs_repairjob_change", args=[job.pk])
    when = {"promised_at_0": "2030-01-02", "promised_at_1": "10:00"}
    refused = client.post(url, admin_form(job, **when))
    assert refused.status_code == 200  # the form comes back with the error
    assert RepairJob.objects.get(pk=job.pk).promised_at is None
    accepted = client.post(url, admin_form(job, promise_reason="部品の入荷遅れ", **when))
    assert accepted.status_code == 302
    assert JobEvent.objects.get(job=job, kind="promise").note == "部品の入荷遅れ"
    assert Notification.objects.filter(recipient=sales_rep, kind="promise_changed").exists()


def test_the_admin_cannot_edit_other_fields_add_or_delete_jobs(admin_client_for, job):
    client, _superuser = admin_client_for
    client.post(reverse("admin:repairs_repairjob_change", args=[job.pk]), admin_form(job, title="書き換え", branch=""))
    assert RepairJob.objects.get(pk=job.pk).title == job.title
    assert client.get(reverse("admin:repairs_repairjob_add")).status_code == 403
    assert client.get(reverse("admin:repairs_repairjob_delete", args=[job.pk])).status_code == 403
    assert client.get(reverse("admin:repairs_jobevent_add")).status_code == 403
