"""Fixtures for the reliability tests: the seeded categories and pictures made to order."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from gongzhi.cases.models import Category, Channel
from gongzhi.cases.services import case_report


@pytest.fixture
def category(db):
    """The seeded categories by code."""
    return {c.code: c for c in Category.objects.all()}


@pytest.fixture
def report(tree, people, category):
    """Report a case as the resident from their dwelling unless told otherwise."""

    def make(code: str = "street_light", *, actor=None, place=None, **kwargs):
        return case_report(
            actor=actor or people["resident"],
            place=place or tree["dwelling"],
            category=category[code],
            text=kwargs.pop("text", "1号楼门口的路灯不亮了"),
            channel=kwargs.pop("channel", Channel.RESIDENT_PAGE),
            **kwargs,
        )

    return make


def upload(name: str, data: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def picture(
    fmt: str = "JPEG", size: tuple[int, int] = (40, 20), mode: str = "RGB", **save
) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, 120).save(buffer, format=fmt, **save)
    return buffer.getvalue()


def phone_photo(orientation: int = 1) -> bytes:
    """A JPEG as a phone writes it: where it was taken (GPS), the device, the orientation,
    a comment."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Apple"
    exif[ExifTags.Base.Model] = "iPhone 15"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (31.0, 12.0, 30.5),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (121.0, 25.0, 10.0),
    }
    return picture("JPEG", (40, 20), exif=exif, comment=b"home of Wang")
