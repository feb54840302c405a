"""Hostile photos (issue 8, finding 5): refused cheaply, never a 500, no metadata kept.

What a photo may cost to decode is in test_image_budgets.py (issue 17).
"""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageFile, JpegImagePlugin

from repairs import images
from repairs.images import process_photo
from repairs.models import Attachment, JobMessage
from tests.factories import CustomerFactory, RepairJobFactory, VehicleFactory

# The refusals below are matched in English; the staff default is Japanese.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


GPS_IFD = 0x8825
ORIENTATION = 0x0112
SECRET = b"secret-comment-from-the-camera"


@pytest.fixture
def job(branch, sales_rep, advisor, technician):
    customer = CustomerFactory(branch=branch, sales_owner=sales_rep)
    return RepairJobFactory(
        vehicle=VehicleFactory(customer=customer), sales_owner=sales_rep, requested_by=advisor, technician=technician
    )


@pytest.fixture
def uploader(technician):
    """The technician, reading English so that assertions do not depend on the catalogue."""
    technician.language = "en"
    technician.save(update_fields=["language"])
    return technician


def post_photo(client, job, upload):
    return client.post(
        reverse("repairs:job_message", args=[job.pk]), {"body": "写真", "kind": "note", "photos": [upload]}
    )


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def handmade_png(width: int, height: int, *, bit_depth: int = 8, colour: int = 2, before=(), after=()) -> bytes:
    """A PNG written chunk by chunk, so a test can claim any size or add any chunk cheaply."""
    channels = {0: 1, 2: 3}[colour]
    row = b"\0" + bytes((width * channels * bit_depth + 7) // 8)
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            png_chunk(b"IHDR", header),
            *before,
            png_chunk(b"IDAT", zlib.compress(row * height, 9)),
            *after,
            png_chunk(b"IEND", b""),
        ]
    )


def jpeg(size=(400, 300), **save) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="JPEG", **save)
    return SimpleUploadedFile("phone.jpg", buffer.getvalue(), content_type="image/jpeg")


def phone_exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"
    # GPSLatitudeRef, GPSLatitude: where the photo was taken.
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (35.0, 41.0, 22.0)})
    return exif


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # that is the point
def test_a_small_png_claiming_59_megapixels_is_refused_from_its_header(client_for, job, uploader, monkeypatch):
    bomb = handmade_png(7700, 7700, bit_depth=1, colour=0)
    assert len(bomb) < 20_000
    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda image: decoded.append(image.size))

    response = post_photo(client_for(uploader), job, SimpleUploadedFile("bomb.png", bomb, content_type="image/png"))

    assert response.status_code == 400
    assert "50 megapixels" in " ".join(response.context["message_form"].errors["photos"])
    assert decoded == [], "the pixels were decoded before the size was checked"
    assert not JobMessage.objects.exists()


def test_a_png_over_twice_the_pixel_limit_gets_the_same_message():
    bomb = handmade_png(12_000, 12_000, bit_depth=1, colour=0)
    with pytest.raises(ValidationError, match="50 megapixels"):
        process_photo(SimpleUploadedFile("huge.png", bomb))


@pytest.mark.parametrize(
    "where",
    [
        pytest.param({"before": [png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"a" * 2_000_000))]}, id="zTXt"),
        pytest.param({"after": [png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"a" * 2_000_000))]}, id="late-zTXt"),
        pytest.param({"before": [png_chunk(b"iCCP", b"icc\0\0" + zlib.compress(b"\0" * 2_000_000))]}, id="iCCP"),
    ],
)
def test_a_png_whose_text_or_icc_chunk_exceeds_pillows_limit_is_refused_with_a_message(
    client_for, job, uploader, where
):
    upload = SimpleUploadedFile("text.png", handmade_png(4, 4, **where), content_type="image/png")

    response = post_photo(client_for(uploader), job, upload)

    assert response.status_code == 400
    assert "not a photo we can read" in " ".join(response.context["message_form"].errors["photos"])
    assert not JobMessage.objects.exists()


def test_no_comment_exif_gps_icc_or_xmp_survives_in_the_stored_photo_or_thumbnail(client_for, job, uploader):
    upload = jpeg(
        comment=SECRET, exif=phone_exif(), icc_profile=b"ICC-" + SECRET, xmp=b"<x:xmpmeta>" + SECRET + b"</x:xmpmeta>"
    )
    with Image.open(io.BytesIO(upload.read())) as original:
        assert {"comment", "exif", "icc_profile", "xmp"} <= set(original.info)
    upload.seek(0)

    assert post_photo(client_for(uploader), job, upload).status_code == 302

    attachment = Attachment.objects.get()
    for stored in (attachment.image, attachment.thumbnail):
        with stored.open("rb") as file:
            data = file.read()
        assert SECRET not in data
        assert b"PhoneMaker" not in data
        with Image.open(io.BytesIO(data)) as image:
            assert not {"comment", "exif", "icc_profile", "xmp"} & set(image.info)
            assert not image.getexif().get_ifd(GPS_IFD)
            # Orientation 6 was applied to the pixels: 400×300 became portrait.
            assert image.height > image.width


def test_a_normal_phone_photo_is_stored_upright_at_2560_pixels_with_a_thumbnail(client_for, job, uploader):
    upload = jpeg(size=(4032, 3024), exif=phone_exif(orientation=6), quality=90)

    response = post_photo(client_for(uploader), job, upload)

    assert response.status_code == 302
    attachment = Attachment.objects.get()
    with attachment.image.open("rb") as file, Image.open(file) as image:
        assert image.size == (1920, 2560)
        assert image.format == "JPEG"
    with attachment.thumbnail.open("rb") as file, Image.open(file) as thumb:
        assert thumb.size == (240, 320)


def test_a_large_jpeg_is_decoded_at_a_reduced_scale(monkeypatch):
    decoded = []
    original_load = JpegImagePlugin.JpegImageFile.load

    def spying_load(image):
        decoded.append(image.size)
        return original_load(image)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", spying_load)

    photo = process_photo(jpeg(size=(5400, 3600)))

    # Half scale (2700 × 1800) still covers the 2560 px we keep; the full 19 MP never existed in memory.
    assert decoded[0] == (2700, 1800)
    with Image.open(photo.image) as image:
        assert image.size == (2560, 1707)


def test_image_work_is_bounded_per_process_and_a_waiting_upload_gets_a_message(monkeypatch):
    monkeypatch.setattr(images, "WAIT_FOR_SLOT_SECONDS", 0.01)
    taken = 0
    while images._work_slots.acquire(blocking=False):
        taken += 1
    try:
        assert taken == images.CONCURRENT_IMAGE_WORK == 2
        with pytest.raises(ValidationError, match="busy"):
            process_photo(jpeg())
    finally:
        for _ in range(taken):
            images._work_slots.release()
    assert process_photo(jpeg()).size > 0


@pytest.mark.parametrize("variant", ["full", "thumb"])
def test_a_photo_is_not_kept_in_the_browser_cache_after_sign_out(client_for, job, uploader, variant):
    # Issue 17: workshop tablets are shared; photos were cached privately for a day.
    assert post_photo(client_for(uploader), job, jpeg()).status_code == 302
    attachment = Attachment.objects.get()

    response = client_for(uploader).get(reverse("repairs:attachment_file", args=[job.pk, attachment.pk, variant]))

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
