"""Photo uploads: accept real images only, honour EXIF orientation, make thumbnails.

Uploads come from anyone signed in, so every step assumes a hostile file. A
tiny file can claim a huge picture (a 238 KB PNG of 1 × 49,000,000 pixels,
a 190 KB 7000 × 7000 PNG), and decoding it once cost a gunicorn worker 1.2 GB
and its 30-second timeout. So what a photo may cost is decided from its
header, before a single pixel is decoded:

- at most 10 MB of file and 50 megapixels (the largest phone camera), with the
  long side at most 8 times the short side (a phone panorama; a strip of one
  pixel is not a photo);
- a baseline JPEG is decoded at a reduced scale (1/2, 1/4 or 1/8: libjpeg
  does that for free) that still covers what we store, and never at more than
  MAX_JPEG_DECODED_PIXELS, so a 50-megapixel photo costs about what a
  12-megapixel one does;
- PNG and WebP cannot be decoded at a reduced scale, and a progressive JPEG
  (or any JPEG but a one-pass baseline one) keeps the whole picture's
  coefficients while it decodes, so they pay for every pixel:
  FULL_DECODE_MAX_PIXELS keeps each of them under ~150 MB and about a second
  (a phone screenshot is 3-6 megapixels; the camera writes baseline JPEG);
- one message carries at most MAX_PHOTOS_PER_MESSAGE photos and
  MAX_DECODING_COST_PER_MESSAGE in all (decoded pixels, those of PNG, WebP
  and progressive JPEG counted double), checked for every photo before the
  first is decoded; photos are decoded one after another, so a request holds
  one photo's memory and lasts a few seconds at most;
- a process works on at most CONCURRENT_IMAGE_WORK images at once.

tests/security/test_image_budgets.py builds the probe's files and measures the
worst accepted ones.

Nothing but the pixels survives re-encoding.
"""

from __future__ import annotations

import io
import logging
import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# A 50-megapixel phone camera is the largest we expect. A 7 KB 1-bit PNG can
# claim 7,700 × 7,700 pixels and cost ~450 MB to decode, so the header decides.
MAX_PIXELS = 50_000_000
# Pillow's own guard (a warning above the limit, an error above twice it) backs
# ours up for any other code in the process that opens images.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# Phone panoramas stay within 1:8; beyond it a picture is a decoding trap
# (a PNG of one pixel per row decodes row by row for seconds), not a photo.
MAX_ASPECT_RATIO = 8
# The long side of the stored photo.
MAX_EDGE = 2560
# A JPEG under 5,120 pixels on its long side must be decoded whole to store
# MAX_EDGE; a 4:3 photo that size has at most 19.6 megapixels. A larger one,
# closer to square, decodes at half scale and is stored a little smaller.
MAX_JPEG_DECODED_PIXELS = 20_000_000
# Decoding a whole picture costs, at the peak with resampling (Pillow 13):
# PNG ~8 bytes a pixel, WebP ~17 (libwebp's canvas and Pillow's copies),
# progressive JPEG ~6-8 for its coefficients on top of the pixels. These limits
# keep each under ~150 MB: a 4000 × 4000 PNG, a 4000 × 3000 progressive JPEG,
# a 4000 × 2000 WebP. "progressive JPEG" stands for every JPEG libjpeg does
# not decode in one pass (see _is_one_pass_jpeg).
FULL_DECODE_MAX_PIXELS = {"PNG": 16_000_000, "WEBP": 8_000_000, "progressive JPEG": 12_000_000}
MAX_PHOTOS_PER_MESSAGE = 4
# What one message may cost to decode, in decoded pixels: four photos from a
# 16-megapixel phone camera. A pixel of PNG, WebP or progressive JPEG takes
# two to three times as long as one of baseline JPEG, so it counts double:
# two of the largest PNGs fill a message, four phone screenshots do not.
MAX_DECODING_COST_PER_MESSAGE = 64_000_000
FULL_DECODE_COST = 2
THUMBNAIL_EDGE = 320
# Decoding a large photo takes up to ~150 MB; a threaded server must not do
# many at once. Beyond this, uploads wait their turn for a while.
CONCURRENT_IMAGE_WORK = 2
WAIT_FOR_SLOT_SECONDS = 30
_work_slots = threading.BoundedSemaphore(CONCURRENT_IMAGE_WORK)
# What each accepted format may be called. A file whose name claims another
# format than its content is refused: it is either broken or lying.
EXTENSIONS = {"JPEG": {".jpg", ".jpeg"}, "PNG": {".png"}, "WEBP": {".webp"}}


@dataclass
class Photo:
    image: ContentFile
    thumbnail: ContentFile
    original_name: str
    size: int


@dataclass(frozen=True)
class _Checked:
    """An upload whose header was read and found affordable."""

    upload: UploadedFile
    name: str
    decoding_cost: int


def process_photos(uploads: Sequence[UploadedFile]) -> list[Photo]:
    """One message's photos, or a ValidationError with a sentence for each refusal.

    Every header is read before the first photo is decoded, so a message over
    its budget is refused in milliseconds and no photo is half-processed.
    """
    if len(uploads) > MAX_PHOTOS_PER_MESSAGE:
        raise ValidationError(_("Attach at most %(count)d photos to one message.") % {"count": MAX_PHOTOS_PER_MESSAGE})
    checked, errors = [], []
    for upload in uploads:
        try:
            checked.append(_check(upload))
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError(errors)
    if sum(item.decoding_cost for item in checked) > MAX_DECODING_COST_PER_MESSAGE:
        raise ValidationError(_("These photos are too large to send together. Send them in two messages."))
    photos = []
    for item in checked:
        try:
            photos.append(_process(item))
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError(errors)
    return photos


def process_photo(upload: UploadedFile) -> Photo:
    return _process(_check(upload))


def _process(checked: _Checked) -> Photo:
    name = checked.name
    if not _work_slots.acquire(timeout=WAIT_FOR_SLOT_SECONDS):
        raise ValidationError(_("The server is busy with other photos. Please send %(name)s again.") % {"name": name})
    try:
        image = _decode(checked.upload, name)
        full = _jpeg(image, quality=85)
        thumb = image.copy()
        thumb.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE))
        thumbnail = _jpeg(thumb, quality=75)
    finally:
        _work_slots.release()
    stem = Path(name).stem[:80] or "photo"
    return Photo(
        image=ContentFile(full, name=f"{stem}.jpg"),
        thumbnail=ContentFile(thumbnail, name=f"{stem}-thumb.jpg"),
        original_name=name[:200],
        size=len(full),
    )


def _check(upload: UploadedFile) -> _Checked:
    """Read the upload without decoding its pixels, and refuse it unless decoding is affordable."""
    name = Path(upload.name or "photo").name
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("%(name)s is larger than 10 MB. Take the photo again at a lower resolution.") % {"name": name}
        )
    with _refusing_unreadable(name):
        upload.seek(0)
        one_pass = _is_one_pass_jpeg(upload)
        upload.seek(0)
        with Image.open(upload) as probe:
            _check_shape(probe.size, name)
            # Many phones write a multi-picture JPEG (MPO: the photo, then a
            # depth map or a preview). It is a JPEG whose first picture we keep.
            detected = "JPEG" if probe.format == "MPO" else probe.format
            kind = "progressive JPEG" if detected == "JPEG" and not one_pass else detected
            if kind in FULL_DECODE_MAX_PIXELS and math.prod(probe.size) > FULL_DECODE_MAX_PIXELS[kind]:
                raise ValidationError(_full_decode_message(name, kind))
            if kind in FULL_DECODE_MAX_PIXELS:
                cost = FULL_DECODE_COST * math.prod(probe.size)
            else:
                # Decoded at the scale _decode will ask for (draft() only sets it up).
                probe.draft("RGB", _draft_box(probe.size))
                cost = math.prod(probe.size)
            probe.verify()
        if detected not in EXTENSIONS:
            raise ValidationError(_("%(name)s is not a JPEG, PNG or WebP photo.") % {"name": name})
        if Path(name).suffix.lower() not in EXTENSIONS[detected]:
            raise ValidationError(
                _("%(name)s is named like another kind of file than it contains. Please upload the original photo.")
                % {"name": name}
            )
    return _Checked(upload=upload, name=name, decoding_cost=cost)


def _decode(upload: UploadedFile, name: str) -> Image.Image:
    """The upload's pixels, upright, at most MAX_EDGE on the long side, in L or
    RGB, and nothing else: no EXIF (GPS position), XMP, ICC, comment or PNG text."""
    with _refusing_unreadable(name):
        upload.seek(0)
        image = Image.open(upload)
        image.draft("RGB", _draft_box(image.size))
        image.load()
        if image.mode not in {"L", "RGB", "CMYK"}:
            # 1-bit stays one byte per pixel; palettes and alpha become RGB so
            # that resampling sees real colours.
            image = image.convert("L" if image.mode == "1" else "RGB")
        image.thumbnail((MAX_EDGE, MAX_EDGE))
        if image.mode == "CMYK":
            # Converted once shrunk: a second full-size copy would double the cost.
            image = image.convert("RGB")
        # Turn the pixels the way the camera meant (a malformed EXIF block
        # fails here, inside the net), then forget all metadata.
        image = ImageOps.exif_transpose(image)
        image.info = {}
    return image


@contextmanager
def _refusing_unreadable(name: str) -> Iterator[None]:
    """Turn whatever Pillow raises for a hostile file into a refusal, never a server error."""
    try:
        yield
    except ValidationError:
        raise
    except Image.DecompressionBombError as error:
        # Over twice MAX_PIXELS: Pillow refuses in the header, before we can.
        raise ValidationError(_pixels_message(name)) from error
    except Exception as error:
        # Pillow's decoders answer hostile files with many exception types
        # (OSError, SyntaxError, ValueError for a PNG text or ICC chunk over its
        # limit, struct.error, EOFError, libjpeg over JPEG_DECODER_MEMORY…).
        # Every one means "not a photo we can read".
        logger.info("Refused photo %r: %r", name, error)
        raise ValidationError(_("%(name)s is not a photo we can read (JPEG, PNG or WebP).") % {"name": name}) from error


def _check_shape(size: tuple[int, int], name: str) -> None:
    width, height = size
    if width * height > MAX_PIXELS:
        raise ValidationError(_pixels_message(name))
    if max(width, height) > MAX_ASPECT_RATIO * max(1, min(width, height)):
        raise ValidationError(
            _(
                "%(name)s is too long and narrow for a photo (%(width)d × %(height)d pixels). "
                "Crop it so that its long side is at most %(ratio)d times its short side."
            )
            % {"name": name, "width": width, "height": height, "ratio": MAX_ASPECT_RATIO}
        )


def _pixels_message(name: str) -> str:
    return _("%(name)s has more than %(megapixels)d megapixels. Take the photo again at a lower resolution.") % {
        "name": name,
        "megapixels": MAX_PIXELS // 1_000_000,
    }


def _full_decode_message(name: str, kind: str) -> str:
    kinds = {"PNG": "PNG", "WEBP": "WebP", "progressive JPEG": _("progressive JPEG")}
    return _(
        "%(name)s is too large for a %(kind)s image (at most %(megapixels)d megapixels). "
        "Send the camera's original JPEG photo or a smaller image."
    ) % {"name": name, "kind": kinds[kind], "megapixels": FULL_DECODE_MAX_PIXELS[kind] // 1_000_000}


# Sequential Huffman-coded frames: baseline and extended. Every other start of
# frame (progressive, lossless, arithmetic-coded) is decoded in several passes.
ONE_PASS_FRAMES = {0xC0, 0xC1}
START_OF_FRAME = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
START_OF_SCAN = 0xDA


def _is_one_pass_jpeg(file: UploadedFile) -> bool:
    """Whether libjpeg decodes this JPEG strip by strip, in little memory and at
    a reduced scale: a sequential Huffman frame whose first scan carries every
    colour. Any other JPEG makes libjpeg keep the coefficients of the whole
    picture while it decodes; Pillow reports only the progressive ones, and a
    550 KB file of 8000 × 6000 whose colours come in separate scans takes
    320 MB. Reads the markers up to the first scan; False for anything else.
    """
    if file.read(2) != b"\xff\xd8":
        return False
    frame, colours = None, 0
    while file.read(1) == b"\xff":
        marker = file.read(1)
        while marker == b"\xff":  # fill bytes
            marker = file.read(1)
        length = int.from_bytes(file.read(2), "big")
        if not marker or length < 2:
            return False
        segment = file.read(length - 2)
        if marker[0] in START_OF_FRAME and len(segment) >= 6:
            frame, colours = marker[0], segment[5]
        elif marker[0] == START_OF_SCAN:
            return frame in ONE_PASS_FRAMES and bool(segment) and segment[0] == colours
    return False


def _draft_box(size: tuple[int, int]) -> tuple[int, int]:
    """The size a JPEG of `size` is decoded at: the smallest of 1/1, 1/2, 1/4 and
    1/8 scale whose long side still covers MAX_EDGE, halved again while it
    would be over MAX_JPEG_DECODED_PIXELS. Pillow's draft() picks exactly this
    scale when asked for this box."""
    width, height = size
    scale = 1
    while scale < 8 and (
        math.ceil(max(size) / (scale * 2)) >= MAX_EDGE or width * height / scale**2 > MAX_JPEG_DECODED_PIXELS
    ):
        scale *= 2
    return max(1, width // scale), max(1, height // scale)


def _jpeg(image: Image.Image, *, quality: int) -> bytes:
    buffer = io.BytesIO()
    # `info` is empty (see _decode), and JPEG writes no EXIF, ICC or XMP
    # unless asked; the explicit empty comment stops Pillow copying a COM segment.
    image.save(buffer, format="JPEG", quality=quality, optimize=True, comment=b"")
    return buffer.getvalue()
