"""Hostile and unusual input to the case loop: a body too large, broken JSON, fields we do
not know, wrong types — each answered with a clear error in the API's one shape and
nothing stored; script, traditional characters, emoji and right-to-left text stored
exactly and shown as text, never as markup, on every page and feed that shows them."""

import json
import xml.etree.ElementTree as ET

import pytest
from django.test import Client

from gongzhi.api.services import api_token_create
from gongzhi.cases.models import Case
from gongzhi.cases.services import case_report

WILD_TEXT = (
    "繁體：路燈壞了 😀👍🏽 مرحبا \u202egnp.exe <script>alert(1)</script>"
    ' <img src=x onerror="alert(2)"> & "引号" \'单引号\''
)


@pytest.fixture
def api_client(people):
    _token, raw = api_token_create(actor=None, user=people["resident"], name="hostile")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def post_json(client, body, **extra):
    return client.post("/api/v1/cases", body, content_type="application/json", **extra)


def report_body(tree, **fields):
    return {"category": "street_light", "place": tree["dwelling"].code, "text": "路灯不亮"} | fields


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code and body["message"]
    return body


def test_a_body_larger_than_the_limit_is_413_not_a_server_error(api_client, tree):
    body = json.dumps(report_body(tree, text="灯" * 1_500_000))  # 4.5 MB of UTF-8
    response = post_json(api_client, body, HTTP_ACCEPT_LANGUAGE="en")
    body = assert_error(response, 413, "body_too_large")
    assert "at most 2.5 MB" in body["message"]
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    "raw", ['{"category": "street_light", "text": ', "[1, 2]", '"路灯"', "null", "\ufeff{}"]
)
def test_a_body_that_is_not_a_report_is_refused_in_the_error_shape(api_client, raw):
    response = post_json(api_client, raw.encode())
    assert response.status_code in (400, 422)
    assert_error(response, response.status_code, response.json()["code"])
    assert not Case.objects.exists()


def test_a_field_we_do_not_know_is_named_in_the_refusal(api_client, tree):
    response = post_json(api_client, report_body(tree, expected_verison=3, colour="red"))
    body = assert_error(response, 422, "validation_failed")
    problems = {p["field"]: p for p in body["details"]["errors"]}
    assert set(problems) == {"expected_verison", "colour"}
    assert problems["colour"]["type"] == "extra_forbidden"
    assert problems["colour"]["message"] == "没有这个字段，请检查字段名。"
    assert not Case.objects.exists()


def test_a_misspelt_field_on_a_step_does_not_act_without_its_version_check(people, report):
    case = report()
    _token, raw = api_token_create(actor=None, user=people["grid_worker"], name="hostile")
    response = Client().post(
        f"/api/v1/cases/{case.number}/respond",
        {"expected_verison": 7},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert_error(response, 422, "validation_failed")
    case.refresh_from_db()
    assert case.state == "reported" and case.version == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("text", 123), ("text", ["路灯"]), ("is_anonymous", "maybe"), ("answers", "none")],
)
def test_a_field_of_the_wrong_type_is_named_in_the_refusal(api_client, tree, field, value):
    response = post_json(api_client, report_body(tree, **{field: value}))
    body = assert_error(response, 422, "validation_failed")
    assert [p["field"] for p in body["details"]["errors"]] == [field]
    assert not Case.objects.exists()


def test_wild_text_is_stored_exactly_and_shown_as_text_everywhere(api_client, people, tree):
    response = post_json(api_client, report_body(tree, text=WILD_TEXT))
    assert response.status_code == 201, response.content
    number = response.json()["number"]
    case = Case.objects.get(number=number)
    assert case.text == WILD_TEXT

    # The API gives it back exactly, as JSON data.
    assert api_client.get(f"/api/v1/cases/{number}").json()["text"] == WILD_TEXT

    # The pages show it escaped: no element of the resident's making, direction by content.
    worker = Client()
    worker.force_login(people["grid_worker"])
    resident = Client()
    resident.force_login(people["resident"])
    for client, url in ((worker, f"/work/cases/{number}/"), (resident, f"/my/cases/{number}/")):
        page = client.get(url).content.decode()
        assert "<script>alert(1)" not in page and "<img src=x" not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url
        assert "繁體：路燈壞了 😀👍🏽 مرحبا \u202egnp.exe" in page, url
        assert 'class="case-text" dir="auto"' in page, url


def test_open311_feeds_carry_wild_text_as_well_formed_xml_without_markup(people, tree, category):
    """Open311's public feed is read by other sites that may show it as HTML: tags are
    dropped there (open311.public), the words kept."""
    case = case_report(
        actor=people["resident"],
        place=tree["dwelling"],
        category=category["street_light"],
        text=WILD_TEXT,
        channel="resident_page",
    )
    response = Client().get(
        f"/open311/v2/requests/{case.number}.xml", {"jurisdiction_id": tree["community"].code}
    )
    assert response.status_code == 200
    assert b"<script>" not in response.content
    document = ET.fromstring(response.content)
    description = document.find("request/description").text
    assert description == (
        "繁體：路燈壞了 😀👍🏽 مرحبا \u202egnp.exe alert(1)  & \"引号\" '单引号'"
    )


def test_traditional_characters_find_the_simplified_duplicate(api_client, tree, report):
    report(text="小区门口路灯不亮了")
    response = api_client.get(
        "/api/v1/cases/duplicates",
        {"category": "street_light", "place": tree["dwelling"].code, "text": "小區門口路燈不亮"},
    )
    assert response.status_code == 200
    assert len(response.json()) == 1
