"""Reporting and reading cases through the API: idempotency, filters, paging, visibility,
the timeline residents see, and masked phones."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gongzhi.accounts.models import PersonalDataAccess
from gongzhi.cases.models import Case
from gongzhi.cases.services import case_respond

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=SHANGHAI)


# --- reporting ---------------------------------------------------------------------------


def test_resident_reports_and_is_routed_to_the_grid_worker(api, tree):
    response = api("resident").post(
        "/api/v1/cases",
        {"category": "street_light", "place": tree["dwelling"].code, "text": "楼道灯坏了"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "reported"
    assert body["channel"] == "api"
    assert body["lead"]["name"] == "grid_worker"
    assert body["version"] == 1
    assert response["ETag"] == '"1"'
    # The reporter sees the public steps only: not the internal routing decision.
    assert [e["kind"] for e in body["timeline"]] == ["reported"]


def test_a_retried_report_with_the_same_key_creates_one_case(api, tree):
    payload = {"category": "street_light", "place": tree["dwelling"].code, "text": "路灯不亮"}
    caller = api("resident")
    first = caller.post("/api/v1/cases", payload, HTTP_IDEMPOTENCY_KEY="phone-7f3a")
    again = caller.post("/api/v1/cases", payload, HTTP_IDEMPOTENCY_KEY="phone-7f3a")
    other = caller.post("/api/v1/cases", payload, HTTP_IDEMPOTENCY_KEY="phone-9b21")
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert first.json()["number"] == again.json()["number"] != other.json()["number"]
    assert Case.objects.count() == 2


@pytest.mark.parametrize(
    ("who", "extra"),
    [
        ("resident", {}),
        ("worker", {"channel": "phone", "contact_name": "王阿姨", "contact_phone": "13900001111"}),
    ],
)
def test_the_answer_to_a_report_is_the_case_as_reading_it_shows(api, tree, who, extra):
    # A new case is answered from the objects the report holds, not read back: the answer
    # must still be what the caller sees when they read the case — but for the contact,
    # which only reading the case shows (and logs, for an unmasked phone).
    caller = api(who)
    payload = {"category": "street_light", "place": tree["dwelling"].code, "text": "路灯不亮"}
    created = caller.post("/api/v1/cases", {**payload, **extra})
    assert created.status_code == 201, created.json()
    read = caller.get(f"/api/v1/cases/{created.json()['number']}")
    assert created.json() == {**read.json(), "contact": None}
    assert created["ETag"] == read["ETag"]


def test_same_key_from_another_person_is_another_case(api, tree):
    payload = {"category": "street_light", "place": tree["dwelling"].code, "text": "路灯不亮"}
    mine = api("resident").post("/api/v1/cases", payload, HTTP_IDEMPOTENCY_KEY="k1")
    theirs = api("worker").post("/api/v1/cases", payload, HTTP_IDEMPOTENCY_KEY="k1")
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["number"] != theirs.json()["number"]


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({"category": "street_light", "place": "P"}, "validation_failed", "text"),
        ({"category": "nope", "place": "P", "text": "x"}, "unknown_category", None),
        ({"category": "street_light", "place": "310105-X", "text": "x"}, "unknown_place", None),
        ({"category": "street_light", "place": "P", "text": "   "}, "text_required", None),
        ({"category": "lift_trapped", "place": "P", "text": "电梯困人"}, "invalid_answers", None),
        (
            {"category": "street_light", "place": "P", "text": "x", "channel": "carrier_pigeon"},
            "validation_failed",
            "channel",
        ),
    ],
)
def test_report_validation_is_422_with_a_code(api, tree, payload, code, field):
    payload = {k: (tree["dwelling"].code if v == "P" else v) for k, v in payload.items()}
    response = api("resident").post("/api/v1/cases", payload)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == code
    assert body["message"]
    if field:
        assert field in [p["field"] for p in body["details"]["errors"]]
    assert Case.objects.count() == 0


def test_reporting_needs_authentication(tree):
    response = Client().post(
        "/api/v1/cases",
        {"category": "street_light", "place": tree["dwelling"].code, "text": "x"},
        content_type="application/json",
    )
    assert response.status_code == 401


def test_a_resident_cannot_enter_a_phone_call_for_someone_else(api, tree):
    response = api("resident").post(
        "/api/v1/cases",
        {
            "category": "street_light",
            "place": tree["dwelling"].code,
            "text": "x",
            "channel": "phone",
            "contact_phone": "13700000000",
        },
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def report_at(api, who, place):
    return api(who).post(
        "/api/v1/cases", {"category": "street_light", "place": place.code, "text": "路灯不亮"}
    )


def test_a_resident_reports_about_their_home_and_their_communitys_shared_places(api, tree):
    for place in (tree["dwelling"], tree["estate"], tree["building_2"]):
        response = report_at(api, "resident", place)
        assert response.status_code == 201, response.json()
        assert response.json()["place"]["code"] == place.code


@pytest.mark.parametrize("where", ["dwelling_102", "other_dwelling", "other_estate"])
def test_a_resident_may_not_report_about_another_home_or_community(api, tree, where):
    response = report_at(api, "resident", tree[where])
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "place_not_yours"
    assert body["message"].startswith("只能反映您自己的房屋、商铺")
    assert Case.objects.count() == 0


def test_staff_report_through_the_api_anywhere_their_roles_reach(api, tree):
    assert report_at(api, "worker", tree["dwelling_201"]).status_code == 201
    assert report_at(api, "supervisor", tree["other_dwelling"]).status_code == 201
    assert report_at(api, "other_worker", tree["dwelling"]).status_code == 403


# --- reading -----------------------------------------------------------------------------


def test_phone_is_masked_except_for_handlers_and_the_secretary(api, report, people):
    case = report()
    url = f"/api/v1/cases/{case.number}"
    assert api("grid_worker").get(url).json()["contact"]["phone"] == "13900000001"
    assert api("secretary").get(url).json()["contact"]["phone"] == "13900000001"
    assert api("worker").get(url).json()["contact"]["phone"] == "139****0001"
    assert api("resident").get(url).json()["contact"]["phone"] == "13900000001"
    # Each staff look at the reporter's personal data is on record (PIPL).
    assert PersonalDataAccess.objects.filter(viewer=people["worker"]).count() == 1


def test_staff_see_the_internal_timeline_residents_only_the_public_one(api, report):
    case = report()
    staff = [
        e["kind"] for e in api("worker").get(f"/api/v1/cases/{case.number}").json()["timeline"]
    ]
    resident = [
        e["kind"] for e in api("resident").get(f"/api/v1/cases/{case.number}").json()["timeline"]
    ]
    assert staff == ["reported", "routed"]
    assert resident == ["reported"]


@pytest.mark.parametrize(
    ("who", "visible"),
    [
        ("resident", True),
        ("grid_worker", True),
        ("worker", True),
        ("supervisor", True),
        ("other_worker", False),
        ("grid_leader", True),
        ("property", False),
        ("volunteer", False),
    ],
)
def test_detail_visibility_by_role(api, report, who, visible):
    case = report()
    response = api(who).get(f"/api/v1/cases/{case.number}")
    assert response.status_code == (200 if visible else 404)


def test_an_invisible_case_looks_exactly_like_a_missing_one(api, report):
    case = report()
    hidden = api("other_worker").get(f"/api/v1/cases/{case.number}")
    missing = api("other_worker").get("/api/v1/cases/HQXC-20990101-0001")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_list_shows_only_what_the_caller_may_see(api, report, people, tree):
    mine = report()
    report(actor=people["worker"], channel="phone", contact_name="王阿姨", text="2号楼垃圾")
    report(
        actor=people["other_worker"],
        place=tree["other_dwelling"],
        channel="phone",
        contact_name="李师傅",
        text="9号楼路灯",
    )

    def numbers(who):
        return [c["number"] for c in api(who).get("/api/v1/cases").json()["items"]]

    assert numbers("resident") == [mine.number]
    assert len(numbers("worker")) == 2
    assert len(numbers("other_worker")) == 1
    assert len(numbers("supervisor")) == 3
    assert numbers("volunteer") == []


def test_list_is_nearest_deadline_first_and_paged_with_a_total(api, report, people):
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False):
        responded = report(text="路灯不亮")
        waiting = report(code="litter", text="垃圾堆在门口")
        case_respond(actor=people["grid_worker"], case=responded)
        caller = api("worker")
        page = caller.get("/api/v1/cases").json()
        assert page["count"] == 2
        assert [c["number"] for c in page["items"]] == [waiting.number, responded.number]
        second = caller.get("/api/v1/cases", {"limit": 1, "offset": 1}).json()
        assert second["count"] == 2
        assert [c["number"] for c in second["items"]] == [responded.number]


def test_list_filters(api, report, people, tree):
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False):
        light = report(text="路灯不亮")
        litter = report(code="litter", place=tree["dwelling_201"], text="垃圾堆在门口")
        case_respond(actor=people["grid_worker"], case=light)
    with time_machine.travel(at(2026, 11, 28, 8, 0), tick=False):
        later = report(code="noise", text="楼上装修噪音")
        caller = api("worker")

        def numbers(**query):
            response = caller.get("/api/v1/cases", query)
            assert response.status_code == 200, response.json()
            return {c["number"] for c in response.json()["items"]}

        assert numbers(state="responded") == {light.number}
        assert numbers(state=["reported", "responded"]) == {
            light.number,
            litter.number,
            later.number,
        }
        assert numbers(category="litter") == {litter.number}
        assert numbers(place=tree["building_2"].code) == {litter.number}
        assert numbers(place=tree["building"].code) == {light.number, later.number}
        assert numbers(reported_from="2026-11-28") == {later.number}
        assert numbers(reported_to="2026-11-28T00:00:00+08:00") == {light.number, litter.number}
        # The response deadline of the unanswered litter case has passed; the light was
        # answered and is within its 24 h; the noise report is fresh.
        assert numbers(overdue="true") == {litter.number}
        assert numbers(overdue="false") == {light.number, later.number}
    assert {
        c["number"]
        for c in api("grid_worker").get("/api/v1/cases", {"assignee": "me"}).json()["items"]
    } == {
        light.number,
        later.number,
    }
    assert {
        c["number"]
        for c in caller.get("/api/v1/cases", {"assignee": "grid_worker"}).json()["items"]
    } == {light.number, later.number}
    assert caller.get("/api/v1/cases", {"assignee": "nobody"}).json()["count"] == 0


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"state": "lost"}, "validation_failed"),
        ({"category": "nope"}, "unknown_category"),
        ({"place": "310105-ZJQ-LY"}, "unknown_place"),
        ({"limit": 0}, "validation_failed"),
        ({"reported_from": "yesterday"}, "validation_failed"),
    ],
)
def test_bad_filters_are_422(api, tree, query, code):
    # A place outside the caller's reach is as unknown as one that does not exist.
    response = api("worker").get("/api/v1/cases", query)
    assert response.status_code == 422
    assert response.json()["code"] == code


def test_duplicates_are_offered_before_reporting(api, report, tree, people):
    first = report(text="1号楼门口的路灯不亮了")
    query = {
        "category": "street_light",
        "place": tree["dwelling_102"].code,
        "text": "1号楼路灯不亮",
    }
    [candidate] = api("worker").get("/api/v1/cases/duplicates", query).json()
    assert candidate["number"] == first.number
    assert candidate["text"] == first.text
    # Another resident learns the case exists, not what its reporter wrote.
    neighbour = report(
        actor=people["worker"], channel="phone", contact_name="赵", text="路灯不亮 1号楼 门口"
    )
    seen_by_resident = api("resident").get("/api/v1/cases/duplicates", query).json()
    texts = {c["number"]: c["text"] for c in seen_by_resident}
    assert texts[first.number] == first.text
    assert texts[neighbour.number] is None


def test_the_list_costs_the_same_queries_for_more_cases(api, report):
    caller = api("worker")
    report(text="路灯不亮")
    caller.get("/api/v1/cases")  # the token's first use is noted once; not part of a list
    with CaptureQueriesContext(connection) as few:
        caller.get("/api/v1/cases")
    for n in range(4):
        report(code="litter", text=f"垃圾堆放 {n}")
    with CaptureQueriesContext(connection) as many:
        assert caller.get("/api/v1/cases").json()["count"] == 5
    assert len(many) == len(few)


def test_a_listed_case_says_what_its_detail_says(api, report, people):
    answered = report(text="路灯不亮")
    case_respond(actor=people["grid_worker"], case=answered)
    report(code="litter", text="垃圾堆在门口")
    caller = api("worker")
    items = caller.get("/api/v1/cases").json()["items"]
    assert len(items) == 2
    for item in items:
        detail = caller.get(f"/api/v1/cases/{item['number']}").json()
        assert item == {key: detail[key] for key in item}


def test_the_total_is_the_same_on_every_page_and_past_the_end(api, report):
    for n in range(3):
        report(text=f"路灯不亮 {n}")
    caller = api("worker")

    def page(**query):
        body = caller.get("/api/v1/cases", {"limit": 2, **query}).json()
        return body["count"], len(body["items"])

    assert page() == (3, 2)
    assert page(offset=2) == (3, 1)
    assert page(offset=3) == (3, 0)
    assert page(offset=50) == (3, 0)
    assert page(state="closed") == (0, 0)
