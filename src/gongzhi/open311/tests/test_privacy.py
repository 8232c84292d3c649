"""Public reads never show who reported, their phone or their home (rules §5)."""

import pytest

from gongzhi.cases.models import Case, Category, Channel
from gongzhi.cases.services import case_report, case_respond

from .conftest import body, report

CALLS = ["requests", "servicerequestupdates"]


def every_public_answer(api, numbers, token=None):
    """The text of every GET that can show these requests, in both formats."""
    texts = []
    for fmt in ["xml", "json"]:
        for path in [*CALLS, *(f"requests/{n}" for n in numbers)]:
            response = api.get(path, fmt)
            assert response.status_code == 200
            texts.append(response.content.decode())
        texts.append(
            api.get("requests", fmt, service_request_id=",".join(numbers)).content.decode()
        )
        if token:
            texts.append(api.get(f"tokens/{token}", fmt).content.decode())
    return texts


def test_a_posted_persons_name_phone_and_email_stay_with_the_handlers(api, key, tree):
    response = api.client.post(
        "/open311/v2/requests.json",
        {
            "api_key": key[1],
            "jurisdiction_id": tree["community"].code,
            "service_code": "street_light",
            "address_id": tree["dwelling"].code,
            "first_name": "小明",
            "last_name": "王",
            "phone": "139 1234 5678",
            "email": "wxm@example.org",
            "device_id": "device-77",
            "account_id": "acct-991",
            "description": "我是王小明，住101室，路灯不亮，请回电13912345678",
        },
        HTTP_IDEMPOTENCY_KEY="privacy-1",
    )
    number = body(response)[0]["service_request_id"]
    case = Case.objects.get(number=number)
    # The handlers can call back ...
    assert (case.contact_name, case.contact_phone) == ("王小明", "13912345678")
    # ... and nothing else of the person is kept.
    stored = repr(Case.objects.filter(pk=case.pk).values().get()) + repr(case.open311.__dict__)
    assert (
        "wxm@example.org" not in stored and "device-77" not in stored and "acct-991" not in stored
    )
    for text in every_public_answer(api, [number], token="privacy-1"):
        for secret in [
            "王小明",
            "13912345678",
            "1234 5678",
            "wxm@example.org",
            "acct-991",
            "101室",
        ]:
            assert secret not in text
    row = body(api.get(f"requests/{number}"))[0]
    assert row["description"] == "我是**，住**，路灯不亮，请回电139****5678"
    assert row["address_id"] == tree["building"].code


@pytest.mark.parametrize("anonymous", [True, False])
def test_a_resident_page_report_keeps_the_reporter_out_and_honours_anonymity(
    api, people, tree, anonymous
):
    resident = people["resident"]
    resident.name = "李阿姨"
    resident.save()
    case = case_report(
        actor=resident,
        place=tree["dwelling"],
        category=Category.objects.get(code="corridor_clutter"),
        text="李阿姨家门口楼道堆物，电话13900000001",
        channel=Channel.RESIDENT_PAGE,
        is_anonymous=anonymous,
    )
    for text in every_public_answer(api, [case.number]):
        assert "李阿姨" not in text and "13900000001" not in text and "101室" not in text
    description = body(api.get(f"requests/{case.number}"))[0]["description"]
    if anonymous:
        assert description is None
    else:
        assert description == "**家门口楼道堆物，电话139****0001"


@pytest.mark.parametrize("code", ["elder_unreachable", "pet_dispute"])
def test_words_about_people_at_risk_or_neighbours_are_withheld(api, key, code):
    number = report(api, key[1], service_code=code, description="201室独居的张老伯三天没出门")
    row = body(api.get(f"requests/{number}"))[0]
    assert row["description"] is None
    assert row["service_code"] == code
    assert "张老伯" not in api.get("requests", "xml").content.decode()


def test_handlers_notes_and_names_are_never_published(api, key, people):
    number = report(api, key[1])
    case = Case.objects.get(number=number)
    case_respond(actor=case.lead, case=case, note="网格员 grid_worker 13800000001 马上到")
    for text in every_public_answer(api, [number]):
        assert "13800000001" not in text and "grid_worker" not in text and "马上到" not in text
