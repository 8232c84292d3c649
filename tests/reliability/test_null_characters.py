"""NUL (U+0000) in what a client sends: PostgreSQL cannot store it in text, so without a
guard one database answered 500 and the other stored it. Every surface refuses it before
any view runs, in its own error format and the caller's language, and nothing is stored."""

import json

import pytest
from django.test import Client

from gongzhi.api.services import api_token_create
from gongzhi.cases.models import Case
from gongzhi.open311.services import open311_key_create

NUL = "\x00"


@pytest.fixture
def bearer(people):
    _token, raw = api_token_create(actor=None, user=people["resident"], name="nul")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def assert_api_refusal(response, language="zh-hans"):
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "null_character"
    assert ("空字符" if language == "zh-hans" else "null character") in body["message"]
    assert set(body) == {"code", "message", "details"}


def test_the_api_refuses_nul_in_a_query_parameter(bearer):
    response = Client().get("/api/v1/cases/duplicates", {"text": f"路灯{NUL}"}, **bearer)
    assert_api_refusal(response)


def test_the_api_refuses_nul_in_a_path_in_english_when_asked(bearer):
    response = Client().get("/api/v1/cases/SH%00001", HTTP_ACCEPT_LANGUAGE="en", **bearer)
    assert_api_refusal(response, language="en")


def test_a_report_with_nul_in_its_json_body_is_refused_and_nothing_is_stored(bearer, tree):
    body = {"category": "street_light", "place": tree["dwelling"].code, "text": f"路灯{NUL}不亮"}
    response = Client().post(
        "/api/v1/cases", json.dumps(body), content_type="application/json", **bearer
    )
    assert_api_refusal(response)
    assert not Case.objects.exists()


def test_the_text_backslash_u0000_typed_as_words_is_not_a_nul(bearer, tree):
    """A resident may type the six characters \\u0000; only the decoded character counts."""
    body = {
        "category": "street_light",
        "place": tree["dwelling"].code,
        "text": "路灯上贴着 \\u0000 的字样，不亮",
    }
    response = Client().post(
        "/api/v1/cases", json.dumps(body), content_type="application/json", **bearer
    )
    assert response.status_code == 201, response.content
    assert Case.objects.get().text == "路灯上贴着 \\u0000 的字样，不亮"


def test_open311_refuses_nul_with_the_specs_error_list(tree):
    _key, raw = open311_key_create(actor=None, jurisdiction=tree["community"], name="nul")
    response = Client().post(
        "/open311/v2/requests.json",
        {
            "api_key": raw,
            "jurisdiction_id": tree["community"].code,
            "service_code": "street_light",
            "address_id": tree["dwelling"].code,
            "description": f"路灯{NUL}不亮",
        },
    )
    assert response.status_code == 400
    [error] = response.json()
    assert error["code"] == 400 and "空字符" in error["description"]
    assert not Case.objects.exists()

    response = Client().get(
        "/open311/v2/services.xml", {"jurisdiction_id": f"{tree['community'].code}{NUL}"}
    )
    assert response.status_code == 400
    assert b"<errors>" in response.content and "空字符".encode() in response.content


def test_pages_refuse_nul_in_a_filter_and_in_a_form(people, tree):
    client = Client()
    client.force_login(people["grid_worker"])
    response = client.get("/work/", {"q": f"路灯{NUL}"})
    assert response.status_code == 400
    assert "空字符" in response.content.decode()

    client.force_login(people["resident"])
    response = client.post(
        f"/r/{tree['community'].settings.report_slug}/",
        {"category": "street_light", "text": f"灯{NUL}"},
    )
    assert response.status_code == 400
    assert not Case.objects.exists()
