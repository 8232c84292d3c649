"""Places through the API: only what the caller's roles reach; the rest does not exist."""

import pytest
from django.test import Client
from django.utils import translation

from gongzhi.places.models import PlaceKind


def test_worker_sees_a_place_in_their_community(client_as, tree):
    response = client_as("worker").get(f"/api/v1/places/{tree['building'].code}")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == tree["building"].code
    assert body["name"] == "1号楼"
    assert body["kind"] == "building"
    assert body["kind_label"] == "楼栋"
    assert body["parent_code"] == tree["estate"].code
    assert body["community_code"] == tree["community"].code
    crumbs = {c["code"]: c["visible"] for c in body["breadcrumb"]}
    assert crumbs[tree["community"].code] is True
    assert crumbs[tree["subdistrict"].code] is False


def test_kind_label_follows_the_callers_language(client_as, tree):
    response = client_as("worker").get(
        f"/api/v1/places/{tree['building'].code}", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response["Content-Language"] == "en"
    with translation.override("en"):
        assert response.json()["kind_label"] == str(PlaceKind.BUILDING.label)


@pytest.mark.parametrize(
    ("who", "place", "visible"),
    [
        ("grid_worker", "building", True),
        ("grid_worker", "building_2", False),
        ("grid_worker", "estate", False),
        ("resident", "dwelling", True),
        ("resident", "dwelling_102", False),
        ("other_worker", "community", False),
        ("other_worker", "other_dwelling", True),
        ("supervisor", "other_dwelling", True),
        ("admin", "district", True),
    ],
)
def test_visibility_by_role(client_as, tree, who, place, visible):
    response = client_as(who).get(f"/api/v1/places/{tree[place].code}")
    assert response.status_code == (200 if visible else 404)


def test_an_invisible_place_looks_exactly_like_a_missing_one(client_as, tree):
    client = client_as("other_worker")
    hidden = client.get(f"/api/v1/places/{tree['community'].code}")
    missing = client.get("/api/v1/places/310105-ZJQ-NOPE")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_children_are_paged_with_a_total(client_as, tree):
    client = client_as("worker")
    url = f"/api/v1/places/{tree['estate'].code}/children"
    everything = client.get(url).json()
    assert everything["count"] == 2
    assert [c["code"] for c in everything["items"]] == [
        tree["building"].code,
        tree["building_2"].code,
    ]
    assert everything["items"][0]["children_count"] == 1

    second = client.get(url, {"limit": 1, "offset": 1}).json()
    assert second["count"] == 2
    assert [c["code"] for c in second["items"]] == [tree["building_2"].code]


def test_children_of_an_invisible_place_are_404(client_as, tree):
    response = client_as("grid_worker").get(f"/api/v1/places/{tree['estate'].code}/children")
    assert response.status_code == 404


def test_places_need_authentication(tree):
    assert Client().get(f"/api/v1/places/{tree['community'].code}").status_code == 401
