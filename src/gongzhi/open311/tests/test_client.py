"""A third-party Open311 client from PyPI (civicbot's GeoReport v2 client) against a live
server: discovery, the service list, a definition, filing a request, following it."""

import json

import pytest
from civicbot import Endpoint, HttpError, HttpTransport, Open311Client, ValidationError
from civicbot.http import RateLimiter

from gongzhi.cases.models import Case
from gongzhi.cases.services import case_respond
from gongzhi.open311.services import open311_key_create

# The server runs in another thread and sees only committed rows; the seeded categories
# are restored after the flush.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def georeport(live_server, tree):
    base = f"{live_server.url}/open311/v2"
    # civicbot waits half a second between calls to one host, politely; not needed here.
    transport = HttpTransport(rate_limiter=RateLimiter(min_interval=0))
    endpoint = Endpoint(id="gongzhi", name="共治", base_url=base, write=True)
    return Open311Client(endpoint, transport=transport, jurisdiction_id=tree["community"].code)


def test_a_civic_client_files_and_follows_a_case(georeport, tree, people, six):
    base = georeport.endpoint.base_url
    discovery = georeport.http.get_json(f"{base}/discovery.json")
    assert discovery["endpoints"][0]["url"] == base

    services = georeport.list_services()
    assert {"street_light", "ebike_indoor"} <= {s["service_code"] for s in services}
    definition = georeport.get_service_definition("ebike_indoor")
    assert [a["datatype"] for a in definition["attributes"]] == [
        "string",
        "number",
        "datetime",
        "text",
        "singlevaluelist",
        "multivaluelist",
    ]

    _key, raw = open311_key_create(actor=None, jurisdiction=tree["community"], name="civicbot")
    filing = {
        "address_id": tree["building"].code,
        "description": "1号楼楼道里有电动车在充电",
        "first_name": "小明",
        "last_name": "王",
        "phone": "13912345678",
        "media_url": "https://img.example.org/ebike.jpg",
    }
    # The client checks a report against our definition before sending it.
    with pytest.raises(ValidationError, match="plate"):
        georeport.create_request(
            "ebike_indoor",
            dry_run=False,
            confirm="SEND",
            api_key=raw,
            validate_remote=True,
            attributes={"where": "corridor"},
            **filing,
        )
    sent = georeport.create_request(
        "ebike_indoor",
        dry_run=False,
        confirm="SEND",
        api_key=raw,
        validate_remote=True,
        attributes={
            "plate": "沪A12345",
            "bikes": 2,
            "where": "corridor",
            "risks": ["smoke", "kids"],
        },
        **filing,
    )
    (answer,) = sent.response
    number = answer["service_request_id"]
    case = Case.objects.get(number=number)
    assert case.answers == {
        "plate": "沪A12345",
        "bikes": 2,
        "where": "corridor",
        "risks": ["smoke", "kids"],
    }
    assert (case.contact_name, case.contact_phone) == ("王小明", "13912345678")

    got = georeport.get_request(number)
    assert (got["status"], got["service_code"], got["address_id"]) == (
        "open",
        "ebike_indoor",
        tree["building"].code,
    )
    assert got["media_url"] == "https://img.example.org/ebike.jpg"
    assert "王小明" not in json.dumps(got, ensure_ascii=False)

    case_respond(actor=case.lead, case=case, note="马上到")
    (listed,) = georeport.list_requests(service_request_ids=[number], status="open")
    assert listed["status_notes"] == "已响应"
    updates = georeport.http.get_json(
        f"{base}/servicerequestupdates.json", {"jurisdiction_id": georeport.jurisdiction_id}
    )
    assert [u["description"].split("：")[0] for u in updates] == ["上报", "响应"]


def test_the_client_sees_the_specs_errors(georeport, tree):
    with pytest.raises(HttpError) as caught:
        georeport.create_request(
            "street_light",
            dry_run=False,
            confirm="SEND",
            api_key="o311_not-a-key",
            address_id=tree["building"].code,
        )
    assert caught.value.status == 403
    assert json.loads(caught.value.body)[0]["code"] == 403
    with pytest.raises(HttpError) as caught:
        georeport.get_request("HQXC-20990101-0001")
    assert caught.value.status == 404
