import re

import pytest

from gongzhi.accounts.services import otp_request
from gongzhi.core.models import SmsMessage
from gongzhi.places.models import PlaceKind
from gongzhi.places.services import place_create


@pytest.fixture
def shop(tree):
    """A street shop (沿街商铺) of the fixture community."""
    return place_create(
        actor=None,
        kind=PlaceKind.STREET_SHOP,
        name="虹桥便利店",
        segment="S1",
        parent=tree["community"],
    )


def last_code_sent_to(phone: str) -> str:
    """The six digits of the latest text message to `phone`, as the person would read them."""
    message = SmsMessage.objects.filter(phone=phone).order_by("-created_at", "-pk").first()
    assert message is not None, f"no text message was sent to {phone}"
    return re.search(r"\d{6}", message.body).group(0)


@pytest.fixture
def code_for(django_capture_on_commit_callbacks):
    """Request a code through the service (running its on-commit SMS) and read it back."""

    def request(phone: str, purpose: str) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            otp_request(phone=phone, purpose=purpose)
        return last_code_sent_to(phone)

    return request


@pytest.fixture
def far_dwelling(tree):
    """A dwelling in another district: outside every role of `people` but the administrator."""
    place = None
    for kind, name, segment in [
        (PlaceKind.DISTRICT, "徐汇区", "310104"),
        (PlaceKind.SUBDISTRICT, "田林街道", "TL"),
        (PlaceKind.COMMUNITY, "田林居民区", "TL1"),
        (PlaceKind.ESTATE, "田林小区", "E1"),
        (PlaceKind.BUILDING, "3号楼", "B3"),
        (PlaceKind.DWELLING, "301室", "301"),
    ]:
        place = place_create(actor=None, kind=kind, name=name, segment=segment, parent=place)
    return place
