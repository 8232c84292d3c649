"""The demo prints one Open311 key for 虹桥新城居民区, the same key on every run."""

import re
from io import StringIO

from django.core.management import call_command

from gongzhi.open311.demo import DEMO_COMMUNITY, demo_key
from gongzhi.open311.models import Open311Key
from gongzhi.open311.services import open311_key_revoke

from .conftest import body

SCALE = 0.02


def run_demo() -> str:
    out = StringIO()
    call_command("demo", scale=SCALE, stdout=out)
    return out.getvalue()


def printed_key(output: str) -> str:
    (key,) = re.findall(r"演示密钥（jurisdiction_id=[^）]+）：(o311_\S+)", output)
    return key


def test_the_demo_prints_a_working_key_and_the_same_one_again(db, client):
    first = run_demo()
    key = printed_key(first)
    assert key == demo_key(2026) != demo_key(7)
    response = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": key,
            "jurisdiction_id": DEMO_COMMUNITY,
            "service_code": "street_light",
            "address_id": DEMO_COMMUNITY,
            "description": "小区门口路灯不亮",
        },
    )
    assert response.status_code == 200, response.content
    assert body(response)[0]["service_request_id"].startswith("HQXC-")
    again = run_demo()
    assert printed_key(again) == key
    assert "演示数据已存在" in again
    assert Open311Key.objects.count() == 1


def test_a_revoked_demo_key_stays_revoked(db):
    run_demo()
    open311_key_revoke(actor=None, key=Open311Key.objects.get())
    output = run_demo()
    assert demo_key(2026) not in output
    assert f"gongzhi open311-key create --jurisdiction {DEMO_COMMUNITY}" in output
    assert Open311Key.objects.count() == 1
