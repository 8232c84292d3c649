"""Uploaded pictures, made safe to keep and to show.

A photo of a doorway or a leaking pipe is evidence, and also personal data: phones write
where it was taken (EXIF GPS), when, and on which device into the file. And an upload is
hostile input: a name ending in `.jpg` says nothing about what the bytes are. So
`image_clean` judges a file by its content only, refuses anything Pillow cannot fully
decode as a photo format, refuses sizes and pixel counts that would exhaust the server
(decompression bombs: a few kilobytes that expand to gigabytes), turns the picture
upright by its EXIF orientation, and writes a new file from the pixels alone — no EXIF,
no GPS, no ICC profile, no comments, nothing a crafted file carried along.
"""

import io
from pathlib import PurePath
from typing import Any

from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

from .errors import ValidationFailed

# What a phone or a screenshot produces; the JPEG opener also takes MPO, which is how many
# phones write a JPEG (with a depth or preview image appended). GIF is kept for old phones,
# as a still.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
# Photographs stay JPEG; pictures that were lossless (PNG, GIF) or have transparency stay
# PNG, so a screenshot's text does not blur.
LOSSLESS_FORMATS = frozenset({"PNG", "GIF"})
JPEG_QUALITY = 85
# A photo of up to 50 megapixels (8,660 × 5,773: every phone's normal mode). Decoding one
# takes about 150 MB; a crafted file claiming more is refused before any decoding.
MAX_PHOTO_PIXELS = 50_000_000


def image_clean(uploaded_file: Any, *, max_bytes: int, max_pixels: int) -> ContentFile:
    """A clean copy of an uploaded picture, or `ValidationFailed` (field `photos`).

    Accepted by content, whatever the name says: JPEG (and phones' MPO), PNG, WebP, and
    GIF (its first frame). Refused: anything else (SVG, HTML, PDF, …), files over
    `max_bytes`, pictures over `max_pixels`, truncated or corrupt files. The copy is
    re-encoded from the pixels — JPEG for photographs, PNG for lossless or transparent
    pictures — after applying the EXIF orientation, so it carries no metadata at all. Its
    name keeps the upload's stem with the extension of what it now is.
    """
    data = _read(uploaded_file, max_bytes=max_bytes)
    # Registers every format plugin (WebP is not among the few Pillow loads up front), so
    # `formats=` can name them; a no-op after the first call.
    Image.init()
    try:
        with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as probe:
            source_format = probe.format
            _check_pixels(probe.size, max_pixels=max_pixels)
            # verify() reads the whole stream and checks its structure (PNG CRCs, …);
            # the image must be opened again before decoding.
            probe.verify()
        with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as image:
            image.seek(0)
            # load() decodes every pixel: a truncated or corrupt file fails here.
            image.load()
            upright = ImageOps.exif_transpose(image)
            pixels, out_format = _pixels(upright, source_format=source_format or "")
    except ValidationFailed:
        raise
    except Image.DecompressionBombError:
        raise _too_many_pixels(max_pixels) from None
    except Exception:  # Pillow raises many kinds (OSError, SyntaxError, ValueError, …)
        raise ValidationFailed(
            _("“%(name)s”不是有效或完整的图片，请上传 JPEG、PNG 或 WebP 格式的照片。")
            % {"name": _name(uploaded_file)},
            code="invalid_photo",
            field="photos",
        ) from None

    out = io.BytesIO()
    if out_format == "JPEG":
        pixels.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        pixels.save(out, format="PNG", optimize=True)
    stem = PurePath(_name(uploaded_file) or "photo").stem or "photo"
    extension = ".jpg" if out_format == "JPEG" else ".png"
    return ContentFile(out.getvalue(), name=f"{stem[:80]}{extension}")


def _read(uploaded_file: Any, *, max_bytes: int) -> bytes:
    size = getattr(uploaded_file, "size", None)
    if size is not None and size > max_bytes:
        raise _too_large(max_bytes)
    uploaded_file.seek(0)
    # Read one byte past the limit: a file whose size was not declared (or lied about)
    # is refused without reading it all.
    data = uploaded_file.read(max_bytes + 1)
    uploaded_file.seek(0)
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    if not data:
        raise ValidationFailed(
            _("“%(name)s”是空文件。") % {"name": _name(uploaded_file)},
            code="invalid_photo",
            field="photos",
        )
    return data


def _name(uploaded_file: Any) -> str:
    return PurePath(getattr(uploaded_file, "name", "") or "").name


def _check_pixels(size: tuple[int, int], *, max_pixels: int) -> None:
    width, height = size
    if width <= 0 or height <= 0 or width * height > max_pixels:
        raise _too_many_pixels(max_pixels)


def _pixels(image: Image.Image, *, source_format: str) -> tuple[Image.Image, str]:
    """The picture's pixels in a mode the output format takes, with no metadata."""
    has_alpha = image.mode in {"RGBA", "LA", "PA"} or (
        image.mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        converted, out_format = image.convert("RGBA"), "PNG"
    elif source_format in LOSSLESS_FORMATS:
        converted, out_format = image.convert("L" if image.mode in {"1", "L"} else "RGB"), "PNG"
    else:
        converted, out_format = image.convert("L" if image.mode == "L" else "RGB"), "JPEG"
    # A fresh image from the pixels alone: whatever the upload carried in `info` (EXIF,
    # ICC profile, XMP, comments, text chunks) cannot reach the saved file.
    clean = Image.new(converted.mode, converted.size)
    clean.paste(converted)
    return clean, out_format


def _too_large(max_bytes: int) -> ValidationFailed:
    return ValidationFailed(
        _("每张照片不能超过 %(mb)sMB。") % {"mb": f"{max_bytes / (1024 * 1024):g}"},
        code="photo_too_large",
        field="photos",
    )


def _too_many_pixels(max_pixels: int) -> ValidationFailed:
    return ValidationFailed(
        _("图片尺寸过大：最多 %(mp)s 百万像素。") % {"mp": f"{max_pixels / 1_000_000:g}"},
        code="photo_too_many_pixels",
        field="photos",
    )
