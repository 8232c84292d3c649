"""Open311 fixtures: a key for the community of the shared tree, a category asking all six
kinds of question, and helpers that call the endpoint as a client would."""

import json
import xml.etree.ElementTree as ET

import pytest

from gongzhi.cases.models import Category, CategoryGroup
from gongzhi.cases.services import category_save
from gongzhi.open311.services import open311_key_create

BASE = "/open311/v2/"
SIX_QUESTIONS = [
    {"code": "plate", "label": "车牌号", "datatype": "string", "required": True},
    {"code": "bikes", "label": "电动车数量", "datatype": "number", "required": False},
    {"code": "seen_at", "label": "发现时间", "datatype": "datetime", "required": False},
    {"code": "details", "label": "补充说明", "datatype": "text", "required": False},
    {
        "code": "where",
        "label": "充电位置",
        "datatype": "singlevaluelist",
        "required": False,
        "values": [{"key": "corridor", "name": "楼道"}, {"key": "window", "name": "窗口拉线"}],
    },
    {
        "code": "risks",
        "label": "现场隐患",
        "datatype": "multivaluelist",
        "required": False,
        "values": [
            {"key": "smoke", "name": "冒烟"},
            {"key": "blocked", "name": "堵塞通道"},
            {"key": "kids", "name": "有儿童"},
        ],
    },
]


@pytest.fixture
def community(tree):
    return tree["community"]


@pytest.fixture
def key(community):
    """(key row, key text) for the tree's community."""
    return open311_key_create(actor=None, jurisdiction=community, name="随手拍")


@pytest.fixture
def six(db):
    """A category asking one question of each GeoReport datatype."""
    return category_save(
        actor=None,
        category=Category(
            code="ebike_indoor",
            name="电动车进楼充电",
            group=CategoryGroup.URGENT_SAFETY,
            description="电动车停放或充电在楼道、室内。",
            keywords=["电动车", "充电", "楼道"],
            questions=SIX_QUESTIONS,
            lead_role="grid_worker",
        ),
    )


class Api:
    """Calls /open311/v2/ and parses the answer by its format."""

    def __init__(self, client, jurisdiction: str):
        self.client = client
        self.jurisdiction = jurisdiction

    def get(self, path: str, fmt: str = "json", *, jurisdiction: bool = True, **query):
        if jurisdiction:
            query.setdefault("jurisdiction_id", self.jurisdiction)
        return self.client.get(f"{BASE}{path}.{fmt}", query)

    def post(self, fmt: str = "json", **form):
        form.setdefault("jurisdiction_id", self.jurisdiction)
        return self.client.post(f"{BASE}requests.{fmt}", form)


@pytest.fixture
def api(client, community):
    return Api(client, community.code)


def body(response):
    """The parsed answer: JSON as Python values, XML as an ElementTree root."""
    if response["Content-Type"].startswith("application/json"):
        return json.loads(response.content)
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def report(api, key_text: str, fmt: str = "json", **form):
    """POST a request for the tree's building 1 and return its service_request_id."""
    form.setdefault("service_code", "street_light")
    form.setdefault("address_id", f"{api.jurisdiction}-E1-B1")
    form.setdefault("description", "1号楼门口路灯不亮")
    response = api.post(fmt, api_key=key_text, **form)
    assert response.status_code == 200, response.content.decode()
    parsed = body(response)
    if fmt == "json":
        return parsed[0]["service_request_id"]
    return parsed.find("request/service_request_id").text
