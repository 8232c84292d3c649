"""The pure parts: rendering both formats, reading arguments, the public view's rules."""

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.http import QueryDict
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.open311 import params
from gongzhi.open311.public import (
    PlaceNode,
    address_for,
    coordinates_for,
    masked,
    public_chain,
    public_description,
    status_for,
    status_notes_for,
)
from gongzhi.open311.render import Open311Error, render, render_error, to_xml

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 9, 30, tzinfo=SHANGHAI)


# --- rendering ------------------------------------------------------------------------------


def test_lists_become_containers_in_xml_and_lists_in_json():
    payload = {
        "service_code": "noise",
        "attributes": [
            {"code": "t", "required": False, "values": [{"key": "day", "name": "白天"}]}
        ],
    }
    root = ET.fromstring(to_xml("service_definition", payload))
    assert root.tag == "service_definition"
    assert [child.tag for child in root] == ["service_code", "attributes"]
    value = root.find("attributes/attribute/values/value")
    assert [child.tag for child in value] == ["key", "name"]
    assert root.find("attributes/attribute/required").text == "false"
    response = render("json", "service_definition", payload)
    assert json.loads(response.content) == payload
    assert response["Content-Type"] == "application/json; charset=utf-8"


def test_xml_escapes_text_and_leaves_none_empty():
    body = to_xml("services", [{"description": "<b>a & b</b>", "group": None}])
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n')
    root = ET.fromstring(body)
    assert root.find("service/description").text == "<b>a & b</b>"
    assert root.find("service/group").text is None
    assert b"<b>" not in body


def test_errors_are_a_list_of_code_and_description_in_both_formats():
    error = Open311Error(400, "缺少 jurisdiction_id。", "缺少 service_code。")
    as_json = render_error("json", error)
    assert as_json.status_code == 400
    assert json.loads(as_json.content) == [
        {"code": 400, "description": "缺少 jurisdiction_id。"},
        {"code": 400, "description": "缺少 service_code。"},
    ]
    root = ET.fromstring(render_error("xml", error).content)
    assert root.tag == "errors"
    assert [e.tag for e in root] == ["error", "error"]
    assert [c.tag for c in root[0]] == ["code", "description"]
    assert root[0].find("code").text == "400"


# --- arguments ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-01T08:00:00Z", datetime(2026, 11, 1, 8, tzinfo=UTC)),
        ("2026-11-01T16:00:00+08:00", datetime(2026, 11, 1, 8, tzinfo=UTC)),
        # "+" sent unencoded in a query string arrives as a space
        ("2026-11-01T16:00:00 08:00", datetime(2026, 11, 1, 8, tzinfo=UTC)),
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=SHANGHAI)),
        ("2026-11-01T16:00:00", datetime(2026, 11, 1, 16, tzinfo=SHANGHAI)),
    ],
)
def test_w3c_dates(raw, expected):
    assert params.parse_datetime("start_date", raw, SHANGHAI) == expected


@pytest.mark.parametrize("raw", ["yesterday", "2026-13-01", "01/11/2026"])
def test_bad_dates_are_400_naming_the_argument(raw):
    with pytest.raises(Open311Error) as caught:
        params.parse_datetime("end_date", raw, SHANGHAI)
    assert caught.value.status == 400
    assert "end_date" in caught.value.descriptions[0]


def test_the_range_defaults_to_the_last_90_days():
    assert params.date_range("", "", now=NOW, tz=SHANGHAI) == (NOW - timedelta(days=90), NOW)


def test_one_bound_gives_90_days_from_or_up_to_it():
    start, end = params.date_range("2026-01-01", "", now=NOW, tz=SHANGHAI)
    assert end - start == timedelta(days=90)
    start, end = params.date_range("", "2026-06-30", now=NOW, tz=SHANGHAI)
    assert (end - start, end) == (timedelta(days=90), datetime(2026, 6, 30, tzinfo=SHANGHAI))


def test_a_range_over_90_days_or_backwards_is_refused():
    assert params.date_range("2026-01-01", "2026-04-01", now=NOW, tz=SHANGHAI)[1] == datetime(
        2026, 4, 1, tzinfo=SHANGHAI
    )
    for start, end in [("2026-01-01", "2026-04-02"), ("2026-03-01", "2026-02-01")]:
        with pytest.raises(Open311Error) as caught:
            params.date_range(start, end, now=NOW, tz=SHANGHAI)
        assert caught.value.status == 400


@given(
    start=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
    days=st.integers(min_value=0, max_value=400),
    give=st.sampled_from(["both", "start", "end", "none"]),
)
def test_no_accepted_range_spans_more_than_90_days(start, days, give):
    end = start + timedelta(days=days)
    start_raw = start.isoformat() + "+08:00" if give in ("both", "start") else ""
    end_raw = end.isoformat() + "+08:00" if give in ("both", "end") else ""
    try:
        low, high = params.date_range(start_raw, end_raw, now=NOW, tz=SHANGHAI)
    except Open311Error:
        assert give == "both" and days > 90
    else:
        assert timedelta(0) <= high - low <= timedelta(days=90)


def test_status_filter_takes_open_and_closed_only():
    assert params.statuses("open, CLOSED") == ["open", "closed"]
    assert params.statuses("") == []
    with pytest.raises(Open311Error):
        params.statuses("open,pending")


def test_attributes_single_and_multi_valued():
    form = QueryDict(
        "attribute[plate]=沪A12345&attribute[risks][]=smoke&attribute[risks][]=kids"
        "&attribute[where]=corridor&description=x"
    )
    given_ = params.attributes(form)
    assert given_ == {"plate": ["沪A12345"], "risks": ["smoke", "kids"], "where": ["corridor"]}
    questions = [
        {"code": "plate", "datatype": "string"},
        {"code": "risks", "datatype": "multivaluelist"},
        {"code": "where", "datatype": "singlevaluelist"},
    ]
    assert params.answers(questions, given_) == {
        "plate": "沪A12345",
        "risks": ["smoke", "kids"],
        "where": "corridor",
    }
    with pytest.raises(Open311Error):
        params.answers(questions, {"where": ["corridor", "window"]})


def test_a_location_needs_a_whole_point_or_an_address():
    assert params.location(QueryDict("lat=31.2&long=121.4")).lat == Decimal("31.2")
    assert params.location(QueryDict("address_id=X")).address_id == "X"
    for form in ["lat=31.2", "description=x", "lat=abc&long=1", "lat=91&long=1"]:
        with pytest.raises(Open311Error) as caught:
            params.location(QueryDict(form))
        assert caught.value.status == 400


def test_the_token_is_the_clients_key_or_a_digest_of_the_form_and_day():
    form = QueryDict("api_key=a&service_code=litter&address_id=X")
    same = QueryDict("service_code=litter&address_id=X&api_key=b")
    day = date(2026, 11, 27)
    assert params.request_token(header=" abc ", form=form, day=day) == "abc"
    digest = params.request_token(header="", form=form, day=day)
    assert digest == params.request_token(header="", form=same, day=day)
    assert digest != params.request_token(header="", form=form, day=day + timedelta(days=1))


# --- the public view ------------------------------------------------------------------------


def test_status_is_open_until_the_work_is_done():
    assert [status_for(s) for s in ["reported", "responded", "in_progress", "paused"]] == [
        "open"
    ] * 4
    assert status_for("to_topic") == "open"
    assert {
        status_for(s) for s in ["completed", "followed_up", "closed", "merged", "declined"]
    } == {"closed"}
    assert "12345" in status_notes_for(state="declined", referral="12345市民服务热线")
    assert "HQXC-1" in status_notes_for(state="merged", merged_into="HQXC-1")


CHAIN = [
    PlaceNode("310105", "district", "长宁区"),
    PlaceNode("310105-ZJQ", "subdistrict", "周家桥街道"),
    PlaceNode("310105-ZJQ-HQXC", "community", "虹桥新城居民区", latitude=Decimal("31.2")),
    PlaceNode("310105-ZJQ-HQXC-E1", "estate", "虹桥新城小区"),
    PlaceNode(
        "310105-ZJQ-HQXC-E1-B1",
        "building",
        "1号楼",
        address="虹桥路1号",
        latitude=Decimal("31.21"),
        longitude=Decimal("121.41"),
    ),
    PlaceNode("310105-ZJQ-HQXC-E1-B1-U1", "entrance", "1单元"),
    PlaceNode("310105-ZJQ-HQXC-E1-B1-U1-101", "dwelling", "101室", latitude=Decimal("1")),
]


def test_a_dwelling_is_shown_as_its_building():
    chain = public_chain(CHAIN)
    assert chain[-1].code == "310105-ZJQ-HQXC-E1-B1"
    assert (
        address_for(chain) == "1号楼（虹桥路1号），虹桥新城小区，虹桥新城居民区，周家桥街道，长宁区"
    )
    assert coordinates_for(chain) == (31.21, 121.41)
    assert "101" not in address_for(chain)


def test_descriptions_lose_markup_phones_and_the_reporters_name():
    text = "<script>x()</script>张三反映：路灯坏了，电话 139 0000 0001，座机021-62345678"
    shown = public_description(text=text, names=["张三"], is_anonymous=False, group="small_matter")
    assert "<" not in shown and "张三" not in shown
    assert "13900000001" not in shown.replace(" ", "") and "62345678" not in shown
    assert "139****0001" in shown


def test_descriptions_are_withheld_for_anonymous_reporters_and_sensitive_categories():
    for is_anonymous, group in [
        (True, "small_matter"),
        (False, "people_at_risk"),
        (False, "dispute"),
    ]:
        assert (
            public_description(text="x", names=[], is_anonymous=is_anonymous, group=group) is None
        )


def test_the_location_note_for_handlers_is_not_published():
    text = "路灯坏了\n（位置：虹桥路100弄5号101室）"
    shown = public_description(
        text=text,
        names=[],
        is_anonymous=False,
        group="small_matter",
        location_note="虹桥路100弄5号101室",
    )
    assert shown == "路灯坏了"


@given(st.text(alphabet="0123456789 -+abc张", max_size=60))
def test_no_run_of_seven_digits_survives_masking(text):
    shown = masked(text, [])
    assert not re.search(r"\d{7}", re.sub(r"[ -]", "", shown))
