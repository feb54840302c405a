"""Photo uploads: accept real images only, honour EXIF orientation, make thumbnails.

Uploads come from anyone signed in, so every step assumes a hostile file: the
pixel count is read from the header before anything is decoded, JPEGs are
decoded at the reduced scale we store, only a few images are worked on at once
per process, and nothing but the pixels survives re-encoding.
"""

from __future__ import annotations

import io
import logging
import math
import threading
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
MAX_EDGE = 2560
THUMBNAIL_EDGE = 320
# Decoding a large photo takes up to a few hundred MB; a threaded server must
# not do many at once. Beyond this, uploads wait their turn for a while.
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


def process_photo(upload: UploadedFile) -> Photo:
    name = Path(upload.name or "photo").name
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("%(name)s is larger than 10 MB. Take the photo again at a lower resolution.") % {"name": name}
        )
    if not _work_slots.acquire(timeout=WAIT_FOR_SLOT_SECONDS):
        raise ValidationError(_("The server is busy with other photos. Please send %(name)s again.") % {"name": name})
    try:
        image = _decode(upload, name)
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


def _decode(upload: UploadedFile, name: str) -> Image.Image:
    """The upload's pixels, upright, at most MAX_EDGE on the long side, in L or
    RGB, and nothing else: no EXIF (GPS position), XMP, ICC, comment or PNG text."""
    unreadable = ValidationError(_("%(name)s is not a photo we can read (JPEG, PNG or WebP).") % {"name": name})
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            detected = probe.format
            _check_pixels(probe.size, name)
            probe.verify()
        if detected not in EXTENSIONS:
            raise ValidationError(_("%(name)s is not a JPEG, PNG or WebP photo.") % {"name": name})
        if Path(name).suffix.lower() not in EXTENSIONS[detected]:
            raise ValidationError(
                _("%(name)s is named like another kind of file than it contains. Please upload the original photo.")
                % {"name": name}
            )
        upload.seek(0)
        image = Image.open(upload)
        _check_pixels(image.size, name)
        # JPEG decodes at 1/2, 1/4 or 1/8 scale for free: ask for the smallest
        # scale that still covers what we store.
        image.draft("RGB", _covering_box(image.size, MAX_EDGE))
        image.load()
        if image.mode not in {"L", "RGB"}:
            # 1-bit stays one byte per pixel; palettes, alpha and CMYK become RGB
            # so that resampling and JPEG encoding see real colours.
            image = image.convert("L" if image.mode == "1" else "RGB")
        image.thumbnail((MAX_EDGE, MAX_EDGE))
        # Turn the pixels the way the camera meant (a malformed EXIF block
        # fails here, inside the net below), then forget all metadata.
        image = ImageOps.exif_transpose(image)
        image.info = {}
    except ValidationError:
        raise
    except Image.DecompressionBombError as error:
        # Over twice MAX_PIXELS: Pillow refuses in the header, before we can.
        raise ValidationError(_pixels_message(name)) from error
    except Exception as error:
        # Pillow's decoders answer hostile files with many exception types
        # (OSError, SyntaxError, ValueError for a PNG text or ICC chunk over its
        # limit, struct.error, EOFError…). Every one means "not a photo we can
        # read", never a server error.
        logger.info("Refused photo %r: %r", name, error)
        raise unreadable from error
    return image


def _check_pixels(size: tuple[int, int], name: str) -> None:
    width, height = size
    if width * height > MAX_PIXELS:
        raise ValidationError(_pixels_message(name))


def _pixels_message(name: str) -> str:
    return _("%(name)s has more than %(megapixels)d megapixels. Take the photo again at a lower resolution.") % {
        "name": name,
        "megapixels": MAX_PIXELS // 1_000_000,
    }


def _covering_box(size: tuple[int, int], edge: int) -> tuple[int, int]:
    """The size `size` scales down to when its long side becomes `edge` (never up)."""
    width, height = size
    factor = min(1.0, edge / max(width, height, 1))
    return max(1, math.ceil(width * factor)), max(1, math.ceil(height * factor))


def _jpeg(image: Image.Image, *, quality: int) -> bytes:
    buffer = io.BytesIO()
    # `info` is empty (see process_photo), and JPEG writes no EXIF, ICC or XMP
    # unless asked; the explicit empty comment stops Pillow copying a COM segment.
    image.save(buffer, format="JPEG", quality=quality, optimize=True, comment=b"")
    return buffer.getvalue()
