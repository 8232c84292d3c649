"""Every GeoReport v2 call in XML and JSON: element names and order, filing requests as
cases, searching, tokens, the updates extension and jurisdictions."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from gongzhi.cases.models import Case, Channel
from gongzhi.cases.services import (
    case_complete,
    case_decline,
    case_respond,
    case_start,
    handler_task_update,
)
from gongzhi.open311 import selectors
from gongzhi.open311.models import Open311Key, Open311Request
from gongzhi.open311.services import open311_key_create, open311_key_revoke
from gongzhi.places.services import place_update

from .conftest import body, report

REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
SERVICE_FIELDS = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]
ATTRIBUTE_FIELDS = [
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
]


# --- discovery, services, definitions --------------------------------------------------------


def test_discovery_in_both_formats(api):
    root = body(api.get("discovery", "xml", jurisdiction=False))
    assert root.tag == "discovery"
    assert [c.tag for c in root] == ["changeset", "contact", "key_service", "endpoints"]
    endpoint = root.find("endpoints/endpoint")
    assert [c.tag for c in endpoint] == [
        "specification",
        "url",
        "changeset",
        "type",
        "formats",
    ]
    assert endpoint.find("specification").text == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.find("url").text == "http://testserver/open311/v2"
    assert [f.text for f in endpoint.findall("formats/format")] == [
        "text/xml",
        "application/json",
    ]
    data = body(api.get("discovery", jurisdiction=False))
    assert data["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    assert "open311-key create" in data["key_service"]


def test_service_list_has_one_service_per_active_category(api, six):
    root = body(api.get("services", "xml"))
    assert root.tag == "services"
    services = root.findall("service")
    assert all([c.tag for c in service] == SERVICE_FIELDS for service in services)
    by_code = {s.find("service_code").text: s for s in services}
    assert by_code["ebike_indoor"].find("metadata").text == "true"
    assert by_code["street_light"].find("metadata").text == "false"
    assert by_code["street_light"].find("type").text == "realtime"
    assert by_code["street_light"].find("keywords").text == "路灯, 照明, 灯不亮, 灯坏"
    assert by_code["street_light"].find("group").text == "小事"
    six.is_active = False
    six.save()
    data = body(api.get("services"))
    assert [list(s) for s in data] == [SERVICE_FIELDS] * len(data)
    assert "ebike_indoor" not in {s["service_code"] for s in data}
    assert len(data) == len(services) - 1


def test_service_definition_carries_all_six_datatypes(api, six):
    root = body(api.get("services/ebike_indoor", "xml"))
    assert root.tag == "service_definition"
    assert [c.tag for c in root] == ["service_code", "attributes"]
    attributes = root.findall("attributes/attribute")
    assert [a.find("datatype").text for a in attributes] == [
        "string",
        "number",
        "datetime",
        "text",
        "singlevaluelist",
        "multivaluelist",
    ]
    for order, attribute in enumerate(attributes, start=1):
        tags = [c.tag for c in attribute]
        assert tags[: len(ATTRIBUTE_FIELDS)] == ATTRIBUTE_FIELDS
        assert attribute.find("order").text == str(order)
        assert attribute.find("variable").text == "true"
    assert attributes[0].find("required").text == "true"
    assert attributes[0].find("description").text == "车牌号"
    values = attributes[5].findall("values/value")
    assert [(v.find("key").text, v.find("name").text) for v in values] == [
        ("smoke", "冒烟"),
        ("blocked", "堵塞通道"),
        ("kids", "有儿童"),
    ]
    assert attributes[0].find("values") is None
    data = body(api.get("services/ebike_indoor"))
    assert data["service_code"] == "ebike_indoor"
    assert data["attributes"][4]["values"] == [
        {"key": "corridor", "name": "楼道"},
        {"key": "window", "name": "窗口拉线"},
    ]
    assert data["attributes"][1]["required"] is False


# --- POST and GET back ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_posted_request_is_a_case_on_the_open311_channel(api, key, tree, fmt):
    response = api.post(
        fmt,
        api_key=key[1],
        service_code="street_light",
        address_id=tree["building"].code,
        description="1号楼门口路灯不亮",
        media_url="https://img.example.org/1.jpg",
    )
    assert response.status_code == 200
    if fmt == "xml":
        root = body(response)
        assert root.tag == "service_requests"
        request = root.find("request")
        assert [c.tag for c in request] == ["service_request_id", "service_notice", "account_id"]
        number = request.find("service_request_id").text
        notice = request.find("service_notice").text
    else:
        (row,) = body(response)
        assert list(row) == ["service_request_id", "service_notice", "account_id"]
        number, notice = row["service_request_id"], row["service_notice"]
        assert row["account_id"] is None
    case = Case.objects.get(number=number)
    assert (case.channel, case.place, case.category.code) == (
        Channel.OPEN311,
        tree["building"],
        "street_light",
    )
    assert case.text == "1号楼门口路灯不亮"
    assert case.reporter == Open311Key.objects.get(pk=key[0].pk).client
    assert not case.reporter.is_active
    assert "前办结" in notice
    assert case.open311.media_url == "https://img.example.org/1.jpg"


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_one_request_back_with_the_specs_fields(api, key, tree, fmt):
    number = report(api, key[1])
    case = Case.objects.get(number=number)
    response = api.get(f"requests/{number}", fmt)
    assert response.status_code == 200
    if fmt == "xml":
        request = body(response).find("request")
        assert [c.tag for c in request] == REQUEST_FIELDS
        row = {c.tag: c.text for c in request}
    else:
        (row,) = body(response)
        assert list(row) == REQUEST_FIELDS
    assert row["status"] == "open"
    assert row["service_code"] == "street_light"
    assert row["requested_datetime"] == timezone.localtime(case.reported_at).isoformat(
        timespec="seconds"
    )
    assert row["expected_datetime"] == timezone.localtime(case.completion_due_at).isoformat(
        timespec="seconds"
    )
    assert all(
        row[f].endswith("+08:00")
        for f in ["requested_datetime", "updated_datetime", "expected_datetime"]
    )
    assert row["address_id"] == tree["building"].code
    assert row["address"].startswith("1号楼，虹桥新城小区，虹桥新城居民区")


def test_attributes_of_every_datatype_become_the_cases_answers(api, key, six, tree):
    response = api.client.post(
        "/open311/v2/requests.json",
        {
            "api_key": key[1],
            "jurisdiction_id": tree["community"].code,
            "service_code": "ebike_indoor",
            "address_id": tree["entrance"].code,
            "attribute[plate]": "沪A·12345",
            "attribute[bikes]": "3",
            "attribute[seen_at]": "2026-11-27T07:30:00+08:00",
            "attribute[details]": "一楼楼道\n两辆在充电",
            "attribute[where]": "corridor",
            "attribute[risks][]": ["smoke", "kids"],
        },
    )
    assert response.status_code == 200, response.content
    case = Case.objects.get(number=body(response)[0]["service_request_id"])
    assert case.answers == {
        "plate": "沪A·12345",
        "bikes": 3,
        "seen_at": "2026-11-27T07:30:00+08:00",
        "details": "一楼楼道\n两辆在充电",
        "where": "corridor",
        "risks": ["smoke", "kids"],
    }
    assert case.text == "电动车进楼充电"


@pytest.mark.parametrize(
    ("attributes", "says"),
    [
        ({}, "车牌号"),
        ({"attribute[plate]": "x", "attribute[risks][]": ["fire"]}, "现场隐患"),
        ({"attribute[plate]": "x", "attribute[bikes]": "three"}, "电动车数量"),
        ({"attribute[plate]": "x", "attribute[seen_at]": "yesterday"}, "发现时间"),
        ({"attribute[plate]": "x", "attribute[colour]": "red"}, "colour"),
        ({"attribute[plate]": "x", "attribute[where]": ["corridor", "window"]}, "where"),
    ],
)
def test_bad_attributes_are_400_naming_the_question(api, key, six, tree, attributes, says):
    response = api.post(
        "json",
        api_key=key[1],
        service_code="ebike_indoor",
        address_id=tree["building"].code,
        **attributes,
    )
    assert response.status_code == 400
    (error,) = body(response)
    assert error["code"] == 400 and says in error["description"]
    assert not Case.objects.exists()


def test_a_retried_post_returns_the_first_request_and_its_token_finds_it(api, key, tree):
    form = {
        "api_key": key[1],
        "jurisdiction_id": tree["community"].code,
        "service_code": "litter",
        "address_id": tree["building_2"].code,
        "description": "2号楼垃圾堆放",
    }
    first = api.client.post("/open311/v2/requests.json", form, HTTP_IDEMPOTENCY_KEY="app-42")
    again = api.client.post("/open311/v2/requests.json", form, HTTP_IDEMPOTENCY_KEY="app-42")
    number = body(first)[0]["service_request_id"]
    assert body(again)[0]["service_request_id"] == number
    assert Case.objects.count() == 1
    # Without a header, the same form on the same day is the same request too.
    plain = [api.client.post("/open311/v2/requests.json", form) for _ in range(2)]
    assert plain[0].status_code == 200
    assert body(plain[0])[0]["service_request_id"] == body(plain[1])[0]["service_request_id"]
    assert Case.objects.count() == 2
    assert body(api.get("tokens/app-42")) == [{"service_request_id": number, "token": "app-42"}]
    root = body(api.get("tokens/app-42", "xml"))
    assert root.tag == "service_requests"
    assert [c.tag for c in root.find("request")] == ["service_request_id", "token"]


def test_a_request_without_a_description_is_about_its_service(api, key, tree):
    number = report(api, key[1], description="")
    assert Case.objects.get(number=number).text == "路灯不亮"


def test_markup_is_removed_from_a_posted_description(api, key):
    number = report(api, key[1], description='<img src=x onerror="alert(1)">灯<b>不亮</b>')
    assert Case.objects.get(number=number).text == "灯不亮"
    assert body(api.get(f"requests/{number}"))[0]["description"] == "灯不亮"


# --- locations --------------------------------------------------------------------------------


def test_an_address_string_finds_the_place_down_to_the_dwelling(api, key, tree):
    number = report(api, key[1], address_id="", address_string="虹桥新城小区 1号楼101室")
    assert Case.objects.get(number=number).place == tree["dwelling"]
    row = body(api.get(f"requests/{number}"))[0]
    assert row["address_id"] == tree["building"].code
    assert "101" not in row["address"]


def test_a_point_goes_to_the_nearest_building_with_coordinates(api, key, tree):
    place_update(actor=None, place=tree["building"], latitude="31.210000", longitude="121.400000")
    place_update(actor=None, place=tree["building_2"], latitude="31.212000", longitude="121.400000")
    number = report(api, key[1], address_id="", lat="31.2119", long="121.4001")
    assert Case.objects.get(number=number).place == tree["building_2"]
    row = body(api.get(f"requests/{number}"))[0]
    assert (row["lat"], row["long"]) == (31.212, 121.4)


def test_an_unmatched_location_falls_back_to_the_community_for_the_handlers_only(api, key, tree):
    number = report(
        api, key[1], address_id="", address_string="虹桥路100弄5号", description="路灯不亮"
    )
    case = Case.objects.get(number=number)
    assert case.place == tree["community"]
    assert "虹桥路100弄5号" in case.text
    assert body(api.get(f"requests/{number}"))[0]["description"] == "路灯不亮"
    far = report(api, key[1], address_id="", lat="39.9", long="116.4", description="灯坏")
    assert Case.objects.get(number=far).place == tree["community"]


def test_an_address_id_outside_the_jurisdiction_is_refused(api, key, tree):
    for code in [tree["other_building"].code, "310105-ZJQ-HQXC-E9", tree["subdistrict"].code]:
        response = api.post("json", api_key=key[1], service_code="litter", address_id=code)
        assert response.status_code == 400
        assert "address_id" in body(response)[0]["description"]


# --- jurisdictions ----------------------------------------------------------------------------


def test_a_subdistrict_covers_its_communities(api, client, tree):
    _key, raw = open311_key_create(actor=None, jurisdiction=tree["subdistrict"], name="街道")
    ours = report(api, raw)
    api.jurisdiction = tree["subdistrict"].code
    theirs = report(api, raw, address_id="", address_string="另一居民区9号楼")
    assert Case.objects.get(number=theirs).place == tree["other_building"]
    listed = {r["service_request_id"] for r in body(api.get("requests"))}
    assert listed == {ours, theirs}
    api.jurisdiction = tree["community"].code
    assert {r["service_request_id"] for r in body(api.get("requests"))} == {ours}
    assert api.get(f"requests/{theirs}").status_code == 404
    api.jurisdiction = tree["other_community"].code
    assert {r["service_request_id"] for r in body(api.get("requests"))} == {theirs}


def test_a_community_key_posts_only_in_its_community(api, key, tree):
    for jurisdiction in [tree["other_community"], tree["subdistrict"]]:
        api.jurisdiction = jurisdiction.code
        response = api.post(
            "xml", api_key=key[1], service_code="litter", address_id=tree["other_building"].code
        )
        assert response.status_code == 403
        assert body(response).find("error/code").text == "403"
    assert not Case.objects.exists()


def test_a_subdistrict_without_a_place_for_the_point_asks_for_an_address(api, tree):
    _key, raw = open311_key_create(actor=None, jurisdiction=tree["subdistrict"], name="街道")
    api.jurisdiction = tree["subdistrict"].code
    response = api.post(
        "json", api_key=raw, service_code="litter", lat="31.2", long="121.4", description="x"
    )
    assert response.status_code == 400
    assert "address_id" in body(response)[0]["description"]


# --- searching ----------------------------------------------------------------------------------


def test_search_defaults_to_the_last_90_days_and_ids_override_it(api, key):
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=100)):
        old = report(api, key[1], description="旧的")
    with time_machine.travel(now - timedelta(days=10)):
        recent = report(api, key[1], description="新的")
    assert [r["service_request_id"] for r in body(api.get("requests"))] == [recent]
    by_id = body(api.get("requests", service_request_id=f"{old},{recent}", status="closed"))
    assert {r["service_request_id"] for r in by_id} == {old, recent}
    start = timezone.localtime(now - timedelta(days=120)).isoformat(timespec="seconds")
    end = timezone.localtime(now - timedelta(days=40)).isoformat(timespec="seconds")
    window = body(api.get("requests", start_date=start, end_date=end))
    assert [r["service_request_id"] for r in window] == [old]
    only_start = body(api.get("requests", start_date=start))
    assert [r["service_request_id"] for r in only_start] == [old]


def test_a_search_over_90_days_is_refused(api):
    response = api.get("requests", "xml", start_date="2026-01-01", end_date="2026-04-02")
    assert response.status_code == 400
    assert "90" in body(response).find("error/description").text


def test_search_by_status_and_service(api, key, people):
    lit = report(api, key[1])
    litter = report(api, key[1], service_code="litter", description="垃圾")
    case = Case.objects.get(number=litter)
    case_decline(actor=case.lead, case=case, reason="不属于本居", referral="12345市民服务热线")
    closed = body(api.get("requests", status="closed"))
    assert [r["service_request_id"] for r in closed] == [litter]
    assert closed[0]["status_notes"] == "不予受理，已转介：12345市民服务热线。"
    assert [r["service_request_id"] for r in body(api.get("requests", status="open"))] == [lit]
    both = body(api.get("requests", status="open,closed", service_code="street_light,noise"))
    assert [r["service_request_id"] for r in both] == [lit]
    assert api.get("requests", status="pending").status_code == 400


def test_a_search_returns_at_most_the_limit_newest_first(api, key, monkeypatch):
    numbers = [report(api, key[1], description=f"第{i}盏灯") for i in range(4)]
    monkeypatch.setattr(selectors, "MAX_RESULTS", 3)
    listed = [r["service_request_id"] for r in body(api.get("requests"))]
    assert listed == numbers[::-1][:3]


# --- updates (mySociety's extension) --------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_updates_list_the_public_steps_with_the_status_after_each(api, key, people, fmt):
    number = report(api, key[1])
    case = Case.objects.get(number=number)
    lead = case.lead
    case = case_respond(actor=lead, case=case, note="马上到")
    case = case_start(actor=lead, case=case)
    case_complete(actor=lead, case=case, note="已更换灯泡，王师傅 13812345678")
    response = api.get("servicerequestupdates", fmt)
    if fmt == "xml":
        root = body(response)
        assert root.tag == "service_request_updates"
        updates = root.findall("request_update")
        fields = [
            "update_id",
            "service_request_id",
            "status",
            "updated_datetime",
            "description",
            "media_url",
        ]
        assert all([c.tag for c in u] == fields for u in updates)
        rows = [{c.tag: c.text for c in u} for u in updates]
    else:
        rows = body(response)
    assert [(r["service_request_id"], r["status"]) for r in rows] == [
        (number, "open"),
        (number, "open"),
        (number, "open"),
        (number, "closed"),
    ]
    assert [r["description"].split("：")[0] for r in rows] == ["上报", "响应", "开始办理", "办结"]
    text = response.content.decode()
    assert "13812345678" not in text and "王师傅" not in text and "马上到" not in text
    late = timezone.localtime(timezone.now() + timedelta(days=1)).isoformat(timespec="seconds")
    assert body(api.get("servicerequestupdates", start_date=late)) == []


def test_an_update_that_keeps_the_state_reports_the_state_it_was_in(api, key, people, tree):
    number = report(api, key[1], service_code="lift_trapped", **{"attribute[trapped_count]": "2"})
    case = Case.objects.get(number=number)
    case_respond(actor=case.lead, case=case)
    handler = case.handlers.get(kind="co_handler")
    handler_task_update(actor=handler.user, handler=handler, status="in_progress", note="已到场")
    rows = body(api.get("servicerequestupdates"))
    assert rows[-1]["description"] == "协办进展"
    assert rows[-1]["status"] == "open"


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "services",
        "services/litter",
        "requests",
        "requests/X-1",
        "tokens/t",
        "servicerequestupdates",
    ],
)
@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_every_call_but_discovery_needs_a_jurisdiction(api, path, fmt):
    missing = api.get(path, fmt, jurisdiction=False)
    assert missing.status_code == 400
    unknown = api.get(path, fmt, jurisdiction_id="310105-ZJQ-NOPE")
    assert unknown.status_code == 404
    for response, code in [(missing, "400"), (unknown, "404")]:
        parsed = body(response)
        if fmt == "xml":
            assert parsed.tag == "errors"
            assert [c.tag for c in parsed.find("error")] == ["code", "description"]
            assert parsed.find("error/code").text == code
        else:
            assert list(parsed[0]) == ["code", "description"]
            assert parsed[0]["code"] == int(code)
            assert (
                "jurisdiction_id" in parsed[0]["description"] or "辖区" in parsed[0]["description"]
            )


def test_a_building_is_not_a_jurisdiction(api, tree):
    assert api.get("services", jurisdiction_id=tree["building"].code).status_code == 404


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("services/nope", "nope"),
        ("requests/HQXC-20990101-0001", "HQXC-20990101-0001"),
        ("tokens/nope", "nope"),
    ],
)
def test_unknown_things_are_404(api, path, says):
    for fmt in ["xml", "json"]:
        response = api.get(path, fmt)
        assert response.status_code == 404
    assert says in body(response)[0]["description"]


def test_post_errors(api, key, tree):
    revoked, revoked_raw = open311_key_create(actor=None, jurisdiction=tree["community"], name="旧")
    open311_key_revoke(actor=None, key=revoked)
    good = {"service_code": "litter", "address_id": tree["building"].code}
    cases = [
        ({**good}, 403, "api_key"),
        ({**good, "api_key": "o311_wrong"}, 403, "api_key"),
        ({**good, "api_key": revoked_raw}, 403, "api_key"),
        ({"api_key": key[1], "address_id": tree["building"].code}, 400, "service_code"),
        ({**good, "api_key": key[1], "service_code": "nope"}, 404, "nope"),
        ({"api_key": key[1], "service_code": "litter"}, 400, "address_id"),
        ({**good, "api_key": key[1], "lat": "31.2"}, 400, "long"),
        ({**good, "api_key": key[1], "description": "长" * 4001}, 400, "description"),
        ({**good, "api_key": key[1], "media_url": "javascript:alert(1)"}, 400, "media_url"),
        ({**good, "api_key": key[1], "phone": "call me"}, 400, "电话"),
    ]
    for form, status, says in cases:
        for fmt in ["xml", "json"]:
            response = api.post(fmt, **form)
            assert response.status_code == status, (form, response.content.decode())
        assert says in body(response)[0]["description"], form
    both_missing = api.client.post("/open311/v2/requests.json", {"api_key": key[1]})
    assert [e["code"] for e in body(both_missing)] == [400, 400]
    assert not Case.objects.exists()


def test_unknown_addresses_and_methods_answer_with_the_error_list(api, client):
    assert client.get("/open311/v2/services.csv").status_code == 404
    assert body(client.get("/open311/v2/nothing.json"))[0]["code"] == 404
    assert body(client.get("/open311/v2/")).tag == "errors"
    put = client.put("/open311/v2/services.json?jurisdiction_id=x")
    assert put.status_code == 400 and body(put)[0]["code"] == 400


def test_post_with_the_key_in_the_query_string(api, key, tree):
    response = api.client.post(
        f"/open311/v2/requests.xml?api_key={key[1]}&jurisdiction_id={tree['community'].code}",
        {"service_code": "litter", "address_id": tree["building"].code, "description": "垃圾"},
    )
    assert response.status_code == 200
    assert Open311Request.objects.get().key == key[0]
