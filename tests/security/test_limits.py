"""Request size cap (issue 8, finding 6) and NUL bytes in input (finding 8): a page, never a 500."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import Client
from django.urls import reverse
from django.utils.http import urlencode
from PIL import Image

from customers.models import Customer
from repairs.models import Attachment, JobMessage, RepairJob
from tests.factories import CustomerFactory, RepairJobFactory, VehicleFactory

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


@pytest.fixture
def job(branch, sales_rep, advisor, technician):
    customer = CustomerFactory(branch=branch, sales_owner=sales_rep)
    return RepairJobFactory(
        vehicle=VehicleFactory(customer=customer), sales_owner=sales_rep, requested_by=advisor, technician=technician
    )


@pytest.fixture
def english(technician, sales_rep):
    """Personas reading English, so that assertions do not depend on the catalogue."""
    for user in (technician, sales_rep):
        user.language = "en"
        user.save(update_fields=["language"])


@pytest.fixture
def signed_in():
    def client(user) -> Client:
        client = Client(raise_request_exception=False)
        client.force_login(user)
        return client

    return client


@pytest.fixture
def disk_writes(monkeypatch) -> list[str]:
    """Names of uploads Django started writing to a temporary file."""
    started: list[str] = []
    original = TemporaryFileUploadHandler.new_file

    def new_file(handler, field_name, file_name, *args, **kwargs):
        started.append(file_name)
        return original(handler, field_name, file_name, *args, **kwargs)

    monkeypatch.setattr(TemporaryFileUploadHandler, "new_file", new_file)
    return started


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 10)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_a_body_declared_larger_than_the_cap_is_refused_with_413_before_it_is_read(
    signed_in, technician, job, english, disk_writes, settings
):
    settings.MAX_REQUEST_BYTES = 45 * MB
    # The client claims 300 MB but sends a few bytes: had anything read the
    # body, the test client's payload would have raised.
    response = signed_in(technician).generic(
        "POST",
        reverse("repairs:job_message", args=[job.pk]),
        b"body=x",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(300 * MB),
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert "too large" in page
    assert "45 MB" in page
    assert disk_writes == []
    assert not JobMessage.objects.exists()


def test_an_upload_over_the_cap_is_never_written_to_disk(signed_in, technician, job, english, disk_writes, settings):
    settings.MAX_REQUEST_BYTES = 1 * MB
    big = SimpleUploadedFile("big.jpg", jpeg_bytes() + b"\0" * (2 * MB), content_type="image/jpeg")
    response = signed_in(technician).post(
        reverse("repairs:job_message", args=[job.pk]), {"body": "x", "kind": "note", "photos": [big]}
    )
    assert response.status_code == 413
    assert disk_writes == []
    assert not JobMessage.objects.exists()


def test_a_message_with_four_photos_fits_under_the_default_cap(signed_in, technician, job, settings):
    assert settings.MAX_REQUEST_BYTES >= 4 * 10 * MB + MB
    photos = [SimpleUploadedFile(f"p{n}.jpg", jpeg_bytes(), content_type="image/jpeg") for n in range(4)]
    response = signed_in(technician).post(
        reverse("repairs:job_message", args=[job.pk]), {"body": "4枚", "kind": "note", "photos": photos}
    )
    assert response.status_code == 302
    assert JobMessage.objects.get().attachments.count() == 4


def test_form_fields_beyond_the_in_memory_limit_get_the_413_page_too(signed_in, technician, job, english, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = signed_in(technician).post(
        reverse("repairs:job_message", args=[job.pk]), {"body": "x" * 20_000, "kind": "note"}
    )
    assert response.status_code == 413
    assert not JobMessage.objects.exists()


@pytest.mark.parametrize(
    ("url_name", "params"),
    [
        ("repairs:job_list", {"q": "abc\x00def"}),
        ("repairs:my_cars", {"q": "\x00"}),
        ("repairs:job_create_customers", {"customer_search": "佐藤\x00"}),
        ("repairs:job_list", {"status\x00": "received"}),
    ],
)
def test_a_nul_byte_in_a_search_box_gets_the_400_page(signed_in, sales_rep, english, url_name, params):
    response = signed_in(sales_rep).get(f"{reverse(url_name)}?{urlencode(params)}")
    assert response.status_code == 400
    assert "could not understand" in response.content.decode()
    # Rendered for the signed-in user: the navigation shows their name.
    assert sales_rep.display_name in response.content.decode()


def test_a_nul_byte_in_a_posted_field_is_refused_and_nothing_is_saved(signed_in, sales_rep, english, branch):
    customers = Customer.objects.count()
    response = signed_in(sales_rep).post(
        reverse("repairs:job_create"),
        {
            "new_customer_name": "山田\x00太郎",
            "new_vehicle_make": "Toyota",
            "new_vehicle_model": "Aqua",
            "kind": "repair",
            "title": "点検",
            "priority": "2",
        },
    )
    assert response.status_code == 400
    assert Customer.objects.count() == customers
    assert not RepairJob.objects.exists()


def test_a_nul_byte_in_an_uploaded_file_name_is_refused(signed_in, technician, job, english):
    photo = SimpleUploadedFile("brake\x00.jpg", jpeg_bytes(), content_type="image/jpeg")
    response = signed_in(technician).post(
        reverse("repairs:job_message", args=[job.pk]), {"body": "x", "kind": "note", "photos": [photo]}
    )
    assert response.status_code in {302, 400}
    # Either the name was cleaned on the way in or the request was refused;
    # no NUL ever reaches the database.
    assert all("\x00" not in name for name in Attachment.objects.values_list("original_name", flat=True))


def test_a_nul_byte_in_the_session_cookie_reads_as_signed_out_instead_of_failing():
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_a_nul_byte_in_an_invitation_token_in_the_path_gets_400_not_500():
    response = Client(raise_request_exception=False).get("/staff/invitation/abc%00def/")
    assert response.status_code in {400, 404}
