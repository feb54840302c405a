"""What decoding a photo may cost is decided from its header (issue 17, "hostile input").

An outside probe took gunicorn workers down with tiny files that claim huge
pictures: a 238 KB PNG of 1 × 49,000,000 pixels (17 s, 1.2 GB; four in one
message hit the 30 s timeout), a 190 KB 7000 × 7000 PNG (10 s, 457 MB), an
85 KB 16000 × 3000 WebP (816 MB). The same files are built here and must be
refused before a pixel is decoded; the worst photos still accepted are decoded
in child processes whose peak memory is measured.
"""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageFile

from repairs import images
from repairs.images import process_photo, process_photos
from repairs.models import Attachment, JobMessage
from tests.factories import CustomerFactory, RepairJobFactory, VehicleFactory

from .test_images import png_chunk

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


def streamed_png(width: int, height: int, *, bit_depth: int = 8, colour: int = 6) -> bytes:
    """A blank PNG compressed as hard as zlib can, a few MB of rows at a time."""
    channels = {0: 1, 2: 3, 6: 4}[colour]
    row = b"\0" + bytes(width * channels * bit_depth // 8)
    rows_at_a_time = max(1, 4_000_000 // len(row))
    compressor = zlib.compressobj(9)
    data = []
    for start in range(0, height, rows_at_a_time):
        data.append(compressor.compress(row * min(rows_at_a_time, height - start)))
    data.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    return b"".join(
        [b"\x89PNG\r\n\x1a\n", png_chunk(b"IHDR", header), png_chunk(b"IDAT", b"".join(data)), png_chunk(b"IEND", b"")]
    )


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">HH", marker, len(payload) + 2) + payload


def blank_jpeg(width: int, height: int, *, separate_scans: bool = False, frame: int = 0xFFC0) -> bytes:
    """A mid-grey baseline JPEG (4:4:4) written by hand, so that any size costs next to nothing to build.

    Both Huffman tables hold one code, "0": every block is "DC unchanged, end
    of block", two zero bits. With `separate_scans` the three colours come one
    after another, which makes libjpeg hold the whole picture's coefficients.
    Another `frame` marker only labels the file (its data stays Huffman-coded).
    """
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    components = (1, 2, 3)
    parts = [
        b"\xff\xd8",
        jpeg_segment(0xFFDB, b"\x00" + bytes([1] * 64)),
        jpeg_segment(
            frame, struct.pack(">BHHB", 8, height, width, 3) + b"".join(bytes([c, 0x11, 0]) for c in components)
        ),
        jpeg_segment(0xFFC4, b"\x00" + bytes([1] + [0] * 15) + b"\x00"),
        jpeg_segment(0xFFC4, b"\x10" + bytes([1] + [0] * 15) + b"\x00"),
    ]
    scans = [(c,) for c in components] if separate_scans else [components]
    for scan in scans:
        header = bytes([len(scan)]) + b"".join(bytes([c, 0x00]) for c in scan) + bytes([0, 63, 0])
        parts += [jpeg_segment(0xFFDA, header), bytes((blocks * len(scan) * 2 + 7) // 8)]
    parts.append(b"\xff\xd9")
    return b"".join(parts)


def pillow_file(size: tuple[int, int], fmt: str, mode: str = "RGB", colour=(200, 30, 30, 255), **save) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour[: len(mode)]).save(buffer, format=fmt, **save)
    return buffer.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


@pytest.fixture(scope="module")
def strip_png() -> bytes:
    """The probe's first file: one pixel wide, 49 million rows, RGBA, 238 KB."""
    return streamed_png(1, 49_000_000)


@pytest.fixture
def no_decoding(monkeypatch) -> list:
    """Records every picture decoded; a refusal from the header leaves it empty."""
    decoded = []
    original = ImageFile.ImageFile.load

    def spying_load(image):
        decoded.append(image.size)
        return original(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spying_load)
    return decoded


@pytest.fixture
def job(branch, sales_rep, advisor, technician):
    customer = CustomerFactory(branch=branch, sales_owner=sales_rep)
    return RepairJobFactory(
        vehicle=VehicleFactory(customer=customer), sales_owner=sales_rep, requested_by=advisor, technician=technician
    )


@pytest.fixture
def uploader(technician):
    technician.language = "en"
    technician.save(update_fields=["language"])
    return technician


def test_four_one_pixel_wide_pngs_in_one_message_are_refused_without_decoding_and_keep_the_text(
    client_for, job, uploader, strip_png, no_decoding
):
    assert len(strip_png) < 250_000
    typed = "左後輪のブレーキ鳴き、写真4枚"
    photos = [upload(f"strip{index}.png", strip_png) for index in range(4)]

    response = client_for(uploader).post(
        reverse("repairs:job_message", args=[job.pk]), {"body": typed, "kind": "customer_request", "photos": photos}
    )

    assert response.status_code == 400
    form = response.context["message_form"]
    errors = form.errors["photos"]
    assert len(errors) == 4
    assert all("too long and narrow for a photo (1 × 49000000 pixels)" in error for error in errors)
    assert form["body"].value() == typed
    assert form["kind"].value() == "customer_request"
    assert typed in response.content.decode()
    assert no_decoding == []
    assert not JobMessage.objects.exists()


@pytest.mark.parametrize(
    ("name", "build", "expected"),
    [
        pytest.param(
            "square.png",
            lambda: streamed_png(7000, 7000),
            "too large for a PNG image (at most 16 megapixels)",
            id="7000x7000-RGBA-PNG",
        ),
        pytest.param(
            "wide.webp",
            lambda: pillow_file((16000, 3000), "WEBP", "RGBA", lossless=True, method=0, quality=0),
            "too large for a WebP image (at most 8 megapixels)",
            id="16000x3000-WebP",
        ),
        pytest.param(
            "progressive.jpg",
            lambda: pillow_file((8000, 6000), "JPEG", progressive=True, subsampling=0),
            "too large for a progressive JPEG image (at most 12 megapixels)",
            id="8000x6000-progressive-JPEG",
        ),
        pytest.param(
            "scans.jpg",
            lambda: blank_jpeg(8000, 6000, separate_scans=True),
            "too large for a progressive JPEG image (at most 12 megapixels)",
            id="8000x6000-JPEG-in-separate-scans",
        ),
        pytest.param(
            "ratio.png",
            lambda: streamed_png(2401, 300, colour=2),
            "Crop it so that its long side is at most 8 times its short side",
            id="just-over-1-to-8",
        ),
    ],
)
def test_a_picture_too_costly_to_decode_is_refused_from_its_header(name, build, expected, no_decoding):
    with pytest.raises(ValidationError) as refused:
        process_photos([upload(name, build())])

    assert expected in " ".join(refused.value.messages)
    assert no_decoding == []


@pytest.mark.parametrize(
    ("build", "one_pass"),
    [
        pytest.param(lambda: pillow_file((64, 48), "JPEG"), True, id="baseline"),
        pytest.param(lambda: blank_jpeg(64, 48), True, id="handmade-baseline"),
        pytest.param(
            lambda: pillow_file((64, 48), "JPEG", comment=pillow_file((8, 8), "JPEG", progressive=True)),
            True,
            id="baseline-carrying-a-progressive-jpeg-in-a-comment",
        ),
        pytest.param(lambda: pillow_file((64, 48), "JPEG", progressive=True), False, id="progressive"),
        # Pillow calls these baseline; libjpeg holds the whole picture for both.
        pytest.param(lambda: blank_jpeg(64, 48, separate_scans=True), False, id="colours-in-separate-scans"),
        pytest.param(lambda: blank_jpeg(64, 48, frame=0xFFC9), False, id="arithmetic-coded"),
        pytest.param(lambda: pillow_file((64, 48), "PNG"), False, id="not-a-jpeg"),
    ],
)
def test_only_a_jpeg_that_libjpeg_decodes_in_one_pass_counts_as_baseline(build, one_pass):
    assert images._is_one_pass_jpeg(io.BytesIO(build())) is one_pass


def test_a_small_jpeg_in_separate_scans_is_a_photo_like_any_other():
    assert process_photo(upload("scans.jpg", blank_jpeg(640, 480, separate_scans=True))).size > 0


@pytest.mark.parametrize(
    ("size", "decoded"),
    [
        ((640, 480), (640, 480)),
        ((4032, 3024), (4032, 3024)),  # a 12-megapixel phone photo is decoded whole to store 2560 pixels
        ((5056, 3792), (5056, 3792)),  # 19.2 megapixels, under MAX_JPEG_DECODED_PIXELS
        ((5119, 5119), (2560, 2560)),  # 26 megapixels: half scale still covers 2560
        ((5000, 4200), (2500, 2100)),  # 21 megapixels: half scale, stored a little smaller
        ((8000, 6000), (4000, 3000)),
        ((20000, 2500), (5000, 625)),  # a 1:8 panorama of 50 megapixels
    ],
)
def test_a_baseline_jpeg_is_decoded_at_the_smallest_scale_that_covers_what_is_stored(size, decoded):
    with Image.open(io.BytesIO(blank_jpeg(*size))) as image:
        image.draft("RGB", images._draft_box(image.size))
        assert image.size == decoded


def test_large_but_sane_photos_are_still_stored_at_2560_pixels(client_for, job, uploader):
    photos = [
        upload("screen.png", streamed_png(4000, 3000, colour=2)),
        upload("camera.jpg", pillow_file((8000, 6000), "JPEG")),
        upload("panorama.jpg", blank_jpeg(20000, 2500)),
        upload("chat.webp", pillow_file((4000, 2000), "WEBP", quality=50)),
    ]

    response = client_for(uploader).post(
        reverse("repairs:job_message", args=[job.pk]), {"body": "", "kind": "note", "photos": photos}
    )

    assert response.status_code == 302
    sizes = set()
    for attachment in Attachment.objects.all():
        with attachment.image.open("rb") as file, Image.open(file) as image:
            sizes.add(image.size)
    assert sizes == {(2560, 1920), (2560, 320), (2560, 1280)}


def test_four_photos_from_a_16_megapixel_phone_fit_in_one_message(monkeypatch):
    # Under 5,120 pixels wide they are decoded whole: 4 × 15.9 MP. Decoding
    # itself is left out; the test above decodes real large photos.
    monkeypatch.setattr(images, "_process", lambda checked: checked.decoding_cost)
    camera = blank_jpeg(4608, 3456)
    assert process_photos([upload(f"{index}.jpg", camera) for index in range(4)]) == [4608 * 3456] * 4


def test_two_of_the_largest_pngs_fill_a_message_and_a_third_is_refused_before_decoding(monkeypatch, no_decoding):
    # A PNG pixel takes about twice as long to decode as a JPEG one, so it counts double.
    largest = streamed_png(4000, 4000, colour=2)
    with pytest.raises(ValidationError, match="Send them in two messages"):
        process_photos([upload(f"{index}.png", largest) for index in range(3)])
    assert no_decoding == []

    monkeypatch.setattr(images, "_process", lambda checked: checked.decoding_cost)
    assert process_photos([upload(f"{index}.png", largest) for index in range(2)]) == [32_000_000] * 2


def test_a_jpeg_decoded_in_several_passes_counts_at_full_size_and_double(no_decoding):
    # 12 MP each, whole: 3 × 24 MP is over the 64 MP a message may cost, where
    # three baseline photos that size (decoded whole too) would fit.
    several_passes = blank_jpeg(4000, 3000, separate_scans=True)
    with pytest.raises(ValidationError, match="Send them in two messages"):
        process_photos([upload(f"{index}.jpg", several_passes) for index in range(3)])
    assert no_decoding == []


def test_a_message_over_its_decoding_budget_is_refused_before_any_photo_is_decoded(no_decoding):
    # A 20-megapixel JPEG just under 5,120 pixels decodes whole: four are 80 MP,
    # over the 64 MP a message may cost.
    camera = blank_jpeg(5000, 4000)
    with pytest.raises(ValidationError, match="Send them in two messages"):
        process_photos([upload(f"{index}.jpg", camera) for index in range(4)])
    assert no_decoding == []


def test_a_cmyk_jpeg_is_stored_in_its_colours():
    # Cyan ink only: converted to RGB after it was shrunk, it is still cyan.
    photo = process_photo(upload("print.jpg", pillow_file((3000, 2000), "JPEG", "CMYK", colour=(200, 0, 0, 0))))
    with Image.open(photo.image) as image:
        assert image.mode == "RGB"
        assert image.size == (2560, 1707)
        red, green, blue = image.getpixel((100, 100))
        assert red < 80 and green > 240 and blue > 240


MEASURE = """
import resource, sys
from django.core.files.uploadedfile import SimpleUploadedFile
from repairs.images import process_photo
path = sys.argv[1]
data = open(path, "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
process_photo(SimpleUploadedFile(path.rsplit("/", 1)[-1], data))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) * (1 if sys.platform == "darwin" else 1024))
"""


def test_the_worst_accepted_photos_peak_well_under_200_mb(tmp_path: Path):
    worst = {
        "png16.png": streamed_png(4000, 4000, bit_depth=16),  # 16 MP, 16-bit RGBA
        "alpha.webp": pillow_file((2828, 2828), "WEBP", "RGBA", lossless=True, method=0),  # 8 MP
        "progressive.jpg": pillow_file((4000, 3000), "JPEG", progressive=True, subsampling=0),  # 12 MP, 4:4:4
        "whole.jpg": blank_jpeg(5000, 4000),  # 20 MP decoded whole
        "scans.jpg": blank_jpeg(4000, 3000, separate_scans=True),  # 12 MP in separate scans
    }
    children = {}
    for name, data in worst.items():
        (tmp_path / name).write_bytes(data)
        children[name] = subprocess.Popen(
            [sys.executable, "-c", MEASURE, str(tmp_path / name)],
            cwd=settings.BASE_DIR,
            stdout=subprocess.PIPE,
            text=True,
        )
    peaks = {}
    for name, child in children.items():
        output, _ = child.communicate(timeout=120)
        assert child.returncode == 0, name
        peaks[name] = int(output) / 1024 / 1024
    assert all(peak < 200 for peak in peaks.values()), peaks


def test_a_phones_multi_picture_jpeg_is_taken_as_the_jpeg_it_is():
    """MPO: many phones append a second picture (depth map, preview) to the photo."""
    from io import BytesIO

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from repairs.images import process_photo

    buffer = BytesIO()
    photo = Image.new("RGB", (1200, 900), (200, 30, 30))
    photo.save(buffer, "MPO", save_all=True, append_images=[Image.new("RGB", (320, 240), (0, 0, 0))])
    assert Image.open(BytesIO(buffer.getvalue())).format == "MPO"
    stored = process_photo(SimpleUploadedFile("IMG_0001.jpg", buffer.getvalue(), content_type="image/jpeg"))
    with Image.open(stored.image) as image:
        assert image.size == (1200, 900)
        assert image.getpixel((600, 450))[0] > 150
