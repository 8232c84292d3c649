"""Report endpoints are rate limited per account or address (page, API, Open311), with a
clear answer in each one's own shape; signing in is throttled by its failures."""

import threading
import time
import xml.etree.ElementTree as ET

import pytest
import time_machine
from django.core.cache import cache
from django.test import RequestFactory

from gongzhi.accounts.models import Relation
from gongzhi.accounts.services import residency_claim
from gongzhi.api.services import api_token_create
from gongzhi.cases.models import Case
from gongzhi.core.errors import RateLimited
from gongzhi.core.ratelimit import rate_limit_hit, request_identity
from gongzhi.open311.services import open311_key_create

LIMIT = 3


@pytest.fixture(autouse=True)
def low_limit(settings):
    settings.GONGZHI = {**settings.GONGZHI, "REPORT_RATE_LIMIT": (LIMIT, 60)}
    cache.clear()
    # A fixed window: start the test well inside one, so it cannot roll over midway.
    with time_machine.travel("2026-11-27 10:00:05 +0800", tick=True):
        yield
    cache.clear()


def api_report(client, token, n):
    return client.post(
        "/api/v1/cases",
        {
            "category": "street_light",
            "place": "310105-ZJQ-HQXC-E1-B1-U1-101",
            "text": f"路灯不亮 {n}",
        },
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def test_the_api_answers_429_rate_limited_once_a_caller_is_over_the_limit(client, people, db):
    _token, resident = api_token_create(actor=None, user=people["resident"], name="手机")
    _token, worker = api_token_create(actor=None, user=people["worker"], name="12345")

    assert [api_report(client, resident, n).status_code for n in range(LIMIT)] == [201] * LIMIT
    refused = api_report(client, resident, 99)

    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "rate_limited"
    assert body["message"].startswith("提交过于频繁，请") and body["message"].endswith("秒后再试。")
    assert 0 < body["details"]["retry_after"] <= 60
    assert Case.objects.count() == LIMIT
    # someone else is counted on their own
    assert api_report(client, worker, 1).status_code == 201
    # and the next window starts afresh
    with time_machine.travel("2026-11-27 10:01:01 +0800"):
        assert api_report(client, resident, 100).status_code == 201


def test_the_api_says_it_in_english_too(client, people, db):
    _token, raw = api_token_create(actor=None, user=people["resident"], name="手机")
    for n in range(LIMIT):
        api_report(client, raw, n)
    refused = client.post(
        "/api/v1/cases",
        {"category": "street_light", "place": "310105-ZJQ-HQXC-E1-B1-U1-101", "text": "x"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}", "Accept-Language": "en"},
    )
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"


def test_the_report_page_answers_429_with_a_page_saying_how_long_to_wait(client, tree, people):
    residency_claim(user=people["resident"], place=tree["dwelling"], relation=Relation.OWNER)
    client.force_login(people["resident"])
    url = f"/r/{tree['community'].settings.report_slug}/"

    def post(n):
        return client.post(
            url,
            {
                "category": "street_light",
                "place": str(tree["dwelling"].pk),
                "text": f"1号楼门口的路灯不亮了 {n}",
                "idempotency_key": f"key-{n}",
            },
        )

    assert [post(n).status_code for n in range(LIMIT)] == [302] * LIMIT
    refused = post(99)

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    text = refused.content.decode()
    assert "请稍后再试" in text and "提交过于频繁" in text and url in text
    assert Case.objects.count() == LIMIT
    assert client.get(url).status_code == 200  # reading the page is not limited


def test_open311_answers_429_in_the_specs_error_list(client, tree):
    _key, raw = open311_key_create(actor=None, jurisdiction=tree["community"], name="随手拍")

    def post(n, fmt="json"):
        return client.post(
            f"/open311/v2/requests.{fmt}",
            {
                "api_key": raw,
                "jurisdiction_id": tree["community"].code,
                "service_code": "street_light",
                "address_id": f"{tree['community'].code}-E1-B1",
                "description": f"1号楼门口路灯不亮 {n}",
            },
        )

    assert [post(n).status_code for n in range(LIMIT)] == [200] * LIMIT
    refused = post(99)
    assert refused.status_code == 429
    [error] = refused.json()
    assert error["code"] == 429 and "提交过于频繁" in error["description"]
    as_xml = ET.fromstring(post(100, "xml").content)
    assert as_xml.tag == "errors" and as_xml.find("error/code").text == "429"
    assert Case.objects.count() == LIMIT


def test_callers_are_told_apart_by_account_else_by_address():
    factory = RequestFactory()

    def identity(address, user=None):
        request = factory.post("/", REMOTE_ADDR=address)
        if user is not None:
            request.user = user
        return request_identity(request)

    class Person:
        pk = 7
        is_authenticated = True

    assert identity("203.0.113.5") == "ip:203.0.113.5"
    assert identity("203.0.113.5", Person()) == "user:7"
    # one phone or household holds a whole IPv6 /64
    assert identity("2001:db8:1:2::1") == identity("2001:db8:1:2:ffff::9") == "ip:2001:db8:1:2::/64"
    assert identity("2001:db8:1:3::1") != identity("2001:db8:1:2::1")
    assert identity("::ffff:203.0.113.5") == "ip:203.0.113.5"


def test_requests_at_once_are_all_counted():
    """Fifty requests at once against a limit of twenty: exactly twenty get through."""
    passed, start = [], threading.Barrier(10)

    def work():
        start.wait()
        for _ in range(5):
            try:
                rate_limit_hit(scope="test", identity="ip:203.0.113.9", limit=(20, 60))
                passed.append(1)
            except RateLimited:
                pass
            time.sleep(0)

    threads = [threading.Thread(target=work) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(passed) == 20


def test_signing_in_is_throttled_after_five_failures_even_with_the_right_password(client, people):
    for _ in range(5):
        response = client.post("/accounts/login/", {"identifier": "resident", "password": "wrong"})
        assert response.status_code == 200 and "密码" in response.content.decode()

    refused = client.post(
        "/accounts/login/", {"identifier": "resident", "password": "pw-Example-2026"}
    )

    assert refused.status_code == 429
    assert "登录失败次数过多" in refused.content.decode()
    assert "_auth_user_id" not in client.session
