from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from dealership.models import Notification
from repairs import services
from repairs.models import Attachment, JobMessage, RepairJob

pytestmark = pytest.mark.django_db


def photo(name: str = "brake.jpg", *, size=(400, 300), fmt: str = "JPEG", orientation: int | None = None):
    image = Image.new("RGB", size, (200, 30, 30))
    buffer = io.BytesIO()
    if orientation:
        exif = Image.Exif()
        exif[0x0112] = orientation
        image.save(buffer, format=fmt, exif=exif)
    else:
        image.save(buffer, format=fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def kinds_by_recipient() -> dict[str, str]:
    return dict(Notification.objects.values_list("recipient__email", "kind"))


@pytest.fixture
def staffed_job(job, technician):
    job.technician = technician
    job.save()
    return job


def post(client, job, **data):
    payload = {"body": "", "kind": "note"} | data
    return client.post(reverse("repairs:job_message", args=[job.pk]), payload)


def test_a_note_notifies_everyone_on_the_job_but_its_author(client_for, staffed_job, technician, sales_rep, advisor):
    response = post(client_for(technician), staffed_job, body="ブレーキパッド残り2mm")
    assert response.status_code == 302
    assert kinds_by_recipient() == {sales_rep.email: "message", advisor.email: "message"}
    assert JobMessage.objects.get().author == technician


def test_earlier_posters_hear_about_later_messages(client_for, staffed_job, technician, sales_rep, manager):
    post(client_for(manager), staffed_job, body="確認お願いします")
    Notification.objects.all().delete()
    post(client_for(sales_rep), staffed_job, body="了解です")
    assert "manager@example.com" in kinds_by_recipient()


def test_a_mention_is_told_once_as_a_mention(client_for, staffed_job, technician, sales_rep, manager):
    post(client_for(technician), staffed_job, body="店長、見てください", mentions=[manager.pk, sales_rep.pk])
    kinds = kinds_by_recipient()
    assert kinds[manager.email] == "mention"
    assert kinds[sales_rep.email] == "mention"
    assert Notification.objects.filter(recipient=sales_rep).count() == 1


def test_a_customer_request_alerts_the_technician_and_the_advisor(
    client_for, staffed_job, technician, sales_rep, advisor
):
    post(client_for(sales_rep), staffed_job, body="夕方17時以降に引き取り希望", kind="customer_request")
    kinds = kinds_by_recipient()
    assert kinds == {technician.email: "customer_request", advisor.email: "customer_request"}
    assert JobMessage.objects.get().is_customer_request


def test_the_author_is_never_notified_even_when_mentioning_themselves(client_for, staffed_job, technician):
    post(client_for(technician), staffed_job, body="自分メモ", mentions=[technician.pk])
    assert not Notification.objects.filter(recipient=technician).exists()


def test_preferences_switch_the_email_off_but_keep_the_in_app_notification(
    client_for, staffed_job, technician, sales_rep
):
    sales_rep.email_preferences = {"message": False}
    sales_rep.save()
    post(client_for(technician), staffed_job, body="連絡です")
    notification = Notification.objects.get(recipient=sales_rep)
    assert notification.send_status == "skipped"
    assert Notification.objects.exclude(recipient=sales_rep).get().send_status in ("pending", "sent")


def test_an_empty_message_is_refused_with_a_message(client_for, staffed_job, technician):
    response = post(client_for(technician), staffed_job, body="   ")
    assert response.status_code == 400
    assert response.context["message_form"].non_field_errors()
    assert not JobMessage.objects.exists()


def test_another_branch_gets_404_on_the_thread_and_cannot_post(client_for, other_branch_user, staffed_job):
    client = client_for(other_branch_user)
    assert client.get(reverse("repairs:job_thread", args=[staffed_job.pk])).status_code == 404
    assert post(client, staffed_job, body="x").status_code == 404
    assert not JobMessage.objects.exists()


def test_posting_answers_405_to_get(client_for, technician, staffed_job):
    assert client_for(technician).get(reverse("repairs:job_message", args=[staffed_job.pk])).status_code == 405


def test_a_photo_is_stored_upright_with_a_thumbnail(client_for, staffed_job, technician):
    # EXIF orientation 6 means "rotate 90° clockwise to view": a 400×300 sensor image is a portrait photo.
    post(client_for(technician), staffed_job, body="写真", photos=[photo(orientation=6)])
    attachment = Attachment.objects.get()
    assert (attachment.width, attachment.height) == (300, 400)
    with attachment.thumbnail.open() as thumb, Image.open(thumb) as image:
        assert max(image.size) <= 320
    assert attachment.original_name == "brake.jpg"


@pytest.mark.parametrize(
    ("upload", "expected"),
    [
        (SimpleUploadedFile("note.jpg", b"this is not an image at all", content_type="image/jpeg"), "JPEG, PNG"),
        (photo("actually-png.jpg", fmt="PNG"), "named like another kind"),
    ],
)
def test_bad_uploads_are_refused_with_a_clear_message(client_for, staffed_job, technician, upload, expected, settings):
    settings.LANGUAGE_CODE = "en"
    technician.language = "en"
    technician.save()
    response = post(client_for(technician), staffed_job, body="見てください", photos=[upload])
    assert response.status_code == 400
    assert expected in " ".join(response.context["message_form"].errors["photos"])
    assert not JobMessage.objects.exists()
    assert not Attachment.objects.exists()


def test_a_photo_over_10_mb_is_refused(client_for, staffed_job, technician, monkeypatch):
    from repairs import images

    monkeypatch.setattr(images, "MAX_UPLOAD_BYTES", 1000)
    response = post(client_for(technician), staffed_job, body="大きい", photos=[photo(size=(800, 800))])
    assert response.status_code == 400
    assert "10 MB" in " ".join(response.context["message_form"].errors["photos"])
    assert not JobMessage.objects.exists()


def test_the_thread_answers_304_until_someone_posts(client_for, staffed_job, technician, sales_rep):
    client = client_for(sales_rep)
    url = reverse("repairs:job_thread", args=[staffed_job.pk])
    etag = client.get(url, HTTP_HX_REQUEST="true")["ETag"]
    assert client.get(url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag).status_code == 304
    services.post_message(staffed_job, by=technician, body="新しいメッセージ")
    response = client.get(url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert "新しいメッセージ" in response.content.decode()


def test_the_thread_costs_the_same_queries_for_1_and_20_messages(
    client_for, staffed_job, technician, sales_rep, manager
):
    from repairs.images import process_photo

    client = client_for(sales_rep)
    url = reverse("repairs:job_thread", args=[staffed_job.pk])

    def count() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    services.post_message(staffed_job, by=technician, body="1", photos=[process_photo(photo())], mentions=[manager])
    few = count()
    for index in range(19):
        services.post_message(
            staffed_job, by=technician, body=str(index), photos=[process_photo(photo())], mentions=[manager]
        )
    assert count() == few


def test_lists_show_unread_messages_until_the_thread_is_read(client_for, staffed_job, technician, sales_rep):
    services.post_message(staffed_job, by=technician, body="見積もりが出ました")
    client = client_for(sales_rep)
    assert 'data-testid="unread"' in client.get(reverse("repairs:my_cars")).content.decode()
    client.get(reverse("repairs:job_thread", args=[staffed_job.pk]))  # reading writes nothing...
    assert 'data-testid="unread"' in client.get(reverse("repairs:my_cars")).content.decode()
    client.post(reverse("repairs:job_thread_read", args=[staffed_job.pk]))  # ...the fragment's POST does
    assert 'data-testid="unread"' not in client.get(reverse("repairs:my_cars")).content.decode()
    # Own messages never count as unread.
    services.post_message(staffed_job, by=sales_rep, body="了解")
    assert 'data-testid="unread"' not in client.get(reverse("repairs:my_cars")).content.decode()


def test_the_bell_answers_304_until_a_notification_arrives(client_for, staffed_job, technician, sales_rep):
    client = client_for(sales_rep)
    url = reverse("notifications_badge")
    first = client.get(url, HTTP_HX_REQUEST="true")
    assert 'data-unread="0"' in first.content.decode()
    assert client.get(url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    services.post_message(staffed_job, by=technician, body="連絡")
    client.force_login(sales_rep)
    changed = client.get(url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert 'data-unread="1"' in changed.content.decode()


def test_the_notification_centre_lists_filters_and_marks_read(client_for, staffed_job, technician, sales_rep, advisor):
    services.post_message(staffed_job, by=technician, body="その1")
    services.post_message(staffed_job, by=technician, body="その2")
    client = client_for(sales_rep)
    assert len(client.get(reverse("notifications")).context["page"]) == 2
    first = Notification.objects.filter(recipient=sales_rep).first()
    response = client.get(reverse("notification_open", args=[first.pk]))
    assert response["Location"] == first.url and first.url.startswith(staffed_job.get_absolute_url())
    assert len(client.get(reverse("notifications")).context["page"]) == 1
    assert len(client.get(reverse("notifications"), {"show": "all"}).context["page"]) == 2
    client.post(reverse("notifications_mark_all_read"))
    assert not Notification.objects.filter(recipient=sales_rep, read_at__isnull=True).exists()
    # Someone else's notification is not there for me.
    others = Notification.objects.filter(recipient=advisor).first()
    assert client.get(reverse("notification_open", args=[others.pk])).status_code == 404
    assert client.post(reverse("notification_mark_read", args=[others.pk])).status_code == 404


def test_overdue_and_at_risk_jobs_alert_advisor_and_sales_owner_once_per_promise(make_job, sales_rep, advisor):
    now = timezone.now()
    late = make_job(service_advisor=advisor, promised_at=now - timedelta(minutes=5))
    soon = make_job(service_advisor=advisor, promised_at=now + timedelta(minutes=30))
    make_job(service_advisor=advisor, promised_at=now + timedelta(hours=3))
    make_job(service_advisor=advisor, promised_at=now - timedelta(hours=1), status="ready")
    assert services.alert_jobs_at_risk() == 2
    assert set(Notification.objects.values_list("recipient__email", "kind")) == {
        (sales_rep.email, "job_overdue"),
        (advisor.email, "job_overdue"),
    }
    assert Notification.objects.count() == 4
    assert services.alert_jobs_at_risk() == 0
    services.change_promised_time(late, promised_at=now + timedelta(minutes=20), reason="部品遅延", by=advisor)
    assert services.alert_jobs_at_risk() == 1
    assert RepairJob.objects.get(pk=soon.pk).at_risk_alerted_for == soon.promised_at


def test_the_periodic_alert_is_scheduled_every_five_minutes(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["alert-jobs-at-risk"]
    assert (entry["task"], entry["schedule"]) == ("repairs.tasks.alert_jobs_at_risk", 300.0)


def test_writing_at_name_in_the_message_mentions_that_colleague(staffed_job, technician, sales_rep, manager):
    services.post_message(staffed_job, by=technician, body="@店長一郎 見積もり確認お願いします。@sales もどうぞ")
    kinds = kinds_by_recipient()
    assert kinds[manager.email] == "mention"
    assert kinds[sales_rep.email] == "mention"
    assert set(JobMessage.objects.get().mentions.all()) == {manager, sales_rep}


def test_an_unknown_or_foreign_handle_mentions_nobody(staffed_job, technician, other_branch_user):
    services.post_message(staffed_job, by=technician, body="@誰か @yokohama.advisor 確認")
    assert not JobMessage.objects.get().mentions.exists()


def test_board_cards_show_unread_messages(client_for, staffed_job, technician, sales_rep):
    services.post_message(staffed_job, by=technician, body="確認お願いします")
    body = client_for(sales_rep).get(reverse("repairs:board")).content.decode()
    card = body.split(f'data-job="{staffed_job.number}"', 1)[1].split("</article>", 1)[0]
    assert 'data-testid="unread"' in card


def test_photos_are_served_only_to_people_who_see_the_job(
    client_for, staffed_job, technician, sales_rep, other_branch_user
):
    from repairs.images import process_photo

    message = services.post_message(staffed_job, by=technician, body="写真", photos=[process_photo(photo())])
    attachment = message.attachments.get()
    for variant in ("thumb", "full"):
        url = reverse("repairs:attachment_file", args=[staffed_job.pk, attachment.pk, variant])
        response = client_for(sales_rep).get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert b"".join(response.streaming_content).startswith(b"\xff\xd8")
        assert client_for(other_branch_user).get(url).status_code == 404
    other_job_url = reverse("repairs:attachment_file", args=[staffed_job.pk + 999, attachment.pk, "full"])
    assert client_for(sales_rep).get(other_job_url).status_code == 404
