"""Reporting with `Prefer: respond-async`: the report is checked and answered 202 with a
receipt at once, the worker files the case, and the receipt then names it."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from gongzhi.cases.models import Case, Category, ReportReceipt
from gongzhi.cases.services import report_receipts_file

SHANGHAI = ZoneInfo("Asia/Shanghai")
ASYNC = {"HTTP_PREFER": "respond-async"}


def payload(tree, **changes):
    return {
        "category": "street_light",
        "place": tree["dwelling"].code,
        "text": "楼道灯坏了",
        **changes,
    }


def test_an_accepted_report_is_answered_with_a_receipt_then_filed_as_a_case(api, tree):
    caller = api("resident")
    accepted = caller.post("/api/v1/cases", payload(tree), **ASYNC)

    assert accepted.status_code == 202, accepted.json()
    receipt = accepted.json()
    assert receipt["state"] == "accepted"
    assert receipt["state_label"] == "已受理，等待登记"
    assert receipt["case"] is None
    assert accepted["Location"] == receipt["url"] == f"/api/v1/receipts/{receipt['token']}"
    assert accepted["Preference-Applied"] == "respond-async"
    assert Case.objects.count() == 0

    assert report_receipts_file() == {"filed": 1, "refused": 0}

    read = caller.get(receipt["url"])
    assert read.status_code == 200
    filed = read.json()
    assert filed["state"] == "filed"
    assert filed["state_label"] == "已登记为诉求"
    case = caller.get(filed["case_url"]).json()
    assert case["number"] == filed["case"]
    assert case["lead"]["name"] == "grid_worker"
    assert case["channel"] == "api"
    assert [e["kind"] for e in case["timeline"]] == ["reported"]


def test_the_clocks_start_when_the_report_was_accepted_not_when_it_was_filed(api, tree):
    accepted_at = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)  # a Thursday, in service hours
    with time_machine.travel(accepted_at, tick=False):
        receipt = api("resident").post("/api/v1/cases", payload(tree), **ASYNC).json()
    with time_machine.travel(accepted_at + timedelta(minutes=3), tick=False):
        report_receipts_file()

    case = Case.objects.get(number=ReportReceipt.objects.get(token=receipt["token"]).case.number)
    assert case.reported_at == accepted_at
    assert case.response_due_at == accepted_at + timedelta(minutes=15)
    assert case.number.split("-")[-2] == "20261126"
    assert case.events.get(kind="reported").at == accepted_at


def test_a_retried_report_with_the_same_key_is_one_receipt_and_one_case(api, tree):
    caller = api("resident")
    first = caller.post("/api/v1/cases", payload(tree), HTTP_IDEMPOTENCY_KEY="k-1", **ASYNC)
    again = caller.post("/api/v1/cases", payload(tree), HTTP_IDEMPOTENCY_KEY="k-1", **ASYNC)
    other = caller.post("/api/v1/cases", payload(tree), HTTP_IDEMPOTENCY_KEY="k-2", **ASYNC)

    assert (first.status_code, again.status_code, other.status_code) == (202, 202, 202)
    assert first.json()["token"] == again.json()["token"] != other.json()["token"]
    report_receipts_file()
    late_retry = caller.post("/api/v1/cases", payload(tree), HTTP_IDEMPOTENCY_KEY="k-1", **ASYNC)
    assert late_retry.json()["state"] == "filed"
    assert late_retry.json()["case"] == caller.get(first.json()["url"]).json()["case"]
    assert Case.objects.count() == 2


def test_a_report_sent_both_ways_with_one_key_is_one_case(api, tree):
    caller = api("resident")
    waited = caller.post("/api/v1/cases", payload(tree), HTTP_IDEMPOTENCY_KEY="k-9")
    receipt = caller.post("/api/v1/cases", payload(tree), HTTP_IDEMPOTENCY_KEY="k-9", **ASYNC)
    report_receipts_file()

    assert caller.get(receipt.json()["url"]).json()["case"] == waited.json()["number"]
    assert Case.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"text": "   "}, "text_required"),
        ({"category": "nope"}, "unknown_category"),
        ({"category": "lift_trapped", "text": "电梯困人"}, "invalid_answers"),
    ],
)
def test_a_report_is_checked_before_it_is_accepted(api, tree, changes, code):
    response = api("resident").post("/api/v1/cases", payload(tree, **changes), **ASYNC)

    assert response.status_code == 422
    assert response.json()["code"] == code
    assert ReportReceipt.objects.count() == 0


def test_a_resident_may_not_have_a_report_accepted_about_someone_elses_home(api, tree):
    response = api("resident").post(
        "/api/v1/cases", payload(tree, place=tree["dwelling_102"].code), **ASYNC
    )

    assert response.status_code == 403
    assert response.json()["code"] == "place_not_yours"
    assert ReportReceipt.objects.count() == 0


def test_a_receipt_that_can_no_longer_be_filed_says_why(api, tree):
    caller = api("resident")
    receipt = caller.post("/api/v1/cases", payload(tree), **ASYNC).json()
    Category.objects.filter(code="street_light").update(is_active=False)

    assert report_receipts_file() == {"filed": 0, "refused": 1}

    refused = caller.get(receipt["url"]).json()
    assert refused["state"] == "refused"
    assert refused["case"] is None
    assert refused["refusal"] == {"code": "category_inactive", "message": "该类别已停用。"}
    assert Case.objects.count() == 0


def test_only_the_sender_sees_a_receipt(api, tree):
    receipt = api("resident").post("/api/v1/cases", payload(tree), **ASYNC).json()

    for who in ("worker", "secretary"):
        response = api(who).get(receipt["url"])
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert api("resident").get("/api/v1/receipts/0123456789abcdef").status_code == 404


@pytest.mark.parametrize(
    ("prefer", "status"),
    [
        ("respond-async", 202),
        ("respond-async, wait=10", 202),
        ("return=minimal, respond-async", 202),
        ("RESPOND-ASYNC", 202),
        ("wait=5", 201),
        # RFC 7240: after a semicolon come parameters of the preference before it
        ("return=minimal; respond-async", 201),
        ("", 201),
    ],
)
def test_respond_async_is_read_among_other_preferences(api, tree, prefer, status):
    response = api("resident").post("/api/v1/cases", payload(tree), HTTP_PREFER=prefer)
    assert response.status_code == status
    assert ReportReceipt.objects.count() == (1 if status == 202 else 0)


def test_the_202_answer_is_the_receipt_as_reading_it_shows(api, tree):
    caller = api("resident")
    accepted = caller.post("/api/v1/cases", payload(tree), **ASYNC)

    assert accepted.json() == caller.get(accepted["Location"]).json()
