"""Photo uploads: accept real images only, honour EXIF orientation, make thumbnails."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 60_000_000  # well above any phone camera, far below a decompression bomb
MAX_EDGE = 2560
THUMBNAIL_EDGE = 320
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
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            detected = probe.format
            probe.verify()
        upload.seek(0)
        image = Image.open(upload)
        if image.width * image.height > MAX_PIXELS:
            raise ValidationError(_("%(name)s has too many pixels.") % {"name": name})
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise ValidationError(_("%(name)s is not a photo we can read (JPEG, PNG or WebP).") % {"name": name}) from error
    if detected not in EXTENSIONS:
        raise ValidationError(_("%(name)s is not a JPEG, PNG or WebP photo.") % {"name": name})
    if Path(name).suffix.lower() not in EXTENSIONS[detected]:
        raise ValidationError(
            _("%(name)s is named like another kind of file than it contains. Please upload the original photo.")
            % {"name": name}
        )
    # Turn the pixels the way the camera meant; dropping EXIF on re-encoding
    # also drops the GPS position phones record in it.
    image = ImageOps.exif_transpose(image).convert("RGB")
    image.thumbnail((MAX_EDGE, MAX_EDGE))
    full = _jpeg(image, quality=85)
    thumb = image.copy()
    thumb.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE))
    stem = Path(name).stem[:80] or "photo"
    return Photo(
        image=ContentFile(full, name=f"{stem}.jpg"),
        thumbnail=ContentFile(_jpeg(thumb, quality=75), name=f"{stem}-thumb.jpg"),
        original_name=name[:200],
        size=len(full),
    )


def _jpeg(image: Image.Image, *, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()
