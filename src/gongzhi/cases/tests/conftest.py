"""Fixtures for the cases tests: the seeded categories and a one-call report helper.

Time is what the test sets with `time_machine`; reports go through `case_report` as they
do in production.
"""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gongzhi.cases.models import Category, Channel
from gongzhi.cases.services import case_report

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    """A Shanghai wall-clock instant: at(2026, 11, 27, 9, 0)."""
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def category(db):
    """The seeded categories by code."""
    return {c.code: c for c in Category.objects.all()}


@pytest.fixture
def report(tree, people, category, resident_at):
    """Report a case as the resident from their dwelling unless told otherwise; at another
    home, as the neighbour who lives there (`resident_at`)."""

    def make(
        code: str = "street_light",
        *,
        actor=None,
        place=None,
        text: str = "1号楼门口的路灯不亮了",
        channel: str = Channel.RESIDENT_PAGE,
        **kwargs,
    ):
        place = place or tree["dwelling"]
        return case_report(
            actor=actor or resident_at(place),
            place=place,
            category=category[code],
            text=text,
            channel=channel,
            **kwargs,
        )

    return make


def png(name: str = "photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")
