"""Categories (with questions and time limits) and the rates of rules §3 through the API."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from gongzhi.cases.models import CategoryGroup, Policy
from gongzhi.cases.services import (
    case_complete,
    case_follow_up,
    case_respond,
    case_start,
    policy_save,
)
from gongzhi.core.clocks import ClockKind

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_categories_carry_questions_and_time_limits(api):
    response = api("resident").get("/api/v1/categories")
    assert response.status_code == 200
    by_code = {c["code"]: c for c in response.json()}
    light = by_code["street_light"]
    assert light["single_handler"] is True
    assert light["targets"]["response"] == {
        "amount": 15,
        "unit": "minutes",
        "unit_label": "分钟",
        "clock": "service_hours",
        "clock_label": "服务时段",
    }
    assert light["targets"]["completion"]["clock"] == "calendar"
    lift = by_code["lift_trapped"]
    assert lift["questions"][0]["code"] == "trapped_count"
    assert lift["questions"][0]["required"] is True
    assert lift["lead_role"] == "property_manager"
    assert by_code["drain_blocked"]["requires_photo"] is True
    assert by_code["drain_blocked"]["targets"]["completion"]["clock"] == "working"


def test_a_communitys_own_time_limit_is_shown_for_that_community(api, tree, category):
    override = Policy(
        category=category["street_light"],
        community=tree["community"],
        response_amount=30,
        response_unit="minutes",
        response_clock=ClockKind.CALENDAR,
        completion_amount=12,
        completion_unit="hours",
        completion_clock=ClockKind.CALENDAR,
    )
    policy_save(actor=None, policy=override)
    caller = api("worker")
    default = {c["code"]: c for c in caller.get("/api/v1/categories").json()}
    own = {
        c["code"]: c
        for c in caller.get("/api/v1/categories", {"community": tree["community"].code}).json()
    }
    assert default["street_light"]["targets"]["response"]["amount"] == 15
    assert own["street_light"]["targets"]["response"]["amount"] == 30
    assert own["street_light"]["targets"]["community_override"] is True
    assert own["litter"]["targets"]["community_override"] is False
    hidden = caller.get("/api/v1/categories", {"community": tree["other_community"].code})
    assert hidden.status_code == 422


def test_category_labels_follow_the_callers_language(api):
    response = api("resident").get("/api/v1/categories", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "en"
    light = next(c for c in response.json() if c["code"] == "street_light")
    with translation.override("en"):
        assert light["group_label"] == str(CategoryGroup.SMALL_MATTER.label)


def _answered_case(report, people, *, satisfied):
    case = report()
    case = case_respond(actor=people["grid_worker"], case=case)
    case = case_start(actor=people["grid_worker"], case=case)
    case = case_complete(actor=people["grid_worker"], case=case, note="修好了")
    return case_follow_up(
        actor=people["resident"],
        case=case,
        resolved=satisfied,
        satisfaction="satisfied" if satisfied else "unsatisfied",
    )


def test_rates_over_the_callers_scope(api, report, people):
    with time_machine.travel(datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI), tick=False):
        _answered_case(report, people, satisfied=True)
        _answered_case(report, people, satisfied=False)
    with time_machine.travel(datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI), tick=False):
        body = api("secretary").get("/api/v1/rates", {"bucket": "day", "breakdown": "category"})
        assert body.status_code == 200
        total = body.json()["total"]
        assert total["reported"] == 2
        assert total["response_rate"] == 1.0
        assert total["follow_ups_answered"] == 2
        assert total["resolution_rate"] == 0.5
        assert total["satisfaction_rate"] == 0.5
        [day] = body.json()["series"]
        assert day["period"] == "2026-11-27"
        [row] = body.json()["breakdown"]
        assert row["label"] == "路灯不亮"
        # Someone else's community, or no staff role: nothing to count.
        assert api("other_worker").get("/api/v1/rates").json()["total"]["reported"] == 0
        assert api("resident").get("/api/v1/rates").json()["total"]["reported"] == 0
        assert api("resident").get("/api/v1/rates").json()["total"]["response_rate"] is None


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"bucket": "year"}, "validation_failed"),
        ({"breakdown": "worker"}, "validation_failed"),
        ({"start": "2026-05-02", "end": "2026-05-01"}, "invalid_range"),
        ({"category": "nope"}, "unknown_category"),
        ({"place": "310105-ZJQ-LY"}, "unknown_place"),
    ],
)
def test_bad_rate_queries_are_422(api, tree, query, code):
    response = api("worker").get("/api/v1/rates", query)
    assert response.status_code == 422
    assert response.json()["code"] == code
