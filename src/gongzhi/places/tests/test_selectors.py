"""What each person sees of the place tree: in scope it is there, out of scope it is not."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gongzhi.core.errors import NotFound
from gongzhi.places.models import PlaceKind
from gongzhi.places.selectors import (
    community_for_report_slug,
    place_breadcrumb_for,
    place_children_for,
    place_get,
    place_grids_for,
    place_tree_summary_for,
    places_search_for,
)
from gongzhi.places.services import place_create, place_update


@pytest.mark.parametrize(
    ("person", "place", "visible"),
    [
        ("worker", "dwelling", True),
        ("worker", "community", True),
        ("worker", "other_dwelling", False),
        ("worker", "subdistrict", False),
        ("other_worker", "dwelling", False),
        ("other_worker", "other_dwelling", True),
        ("grid_worker", "building", True),
        ("grid_worker", "dwelling", True),
        ("grid_worker", "building_2", False),
        ("grid_worker", "community", False),
        ("property", "estate", True),
        ("property", "community", False),
        ("supervisor", "other_dwelling", True),
        ("supervisor", "district", False),
        ("resident", "dwelling", True),
        ("resident", "dwelling_102", False),
        ("admin", "district", True),
    ],
)
def test_place_get_answers_only_within_scope(tree, people, person, place, visible):
    code = tree[place].code
    if visible:
        assert place_get(user=people[person], code=code) == tree[place]
    else:
        with pytest.raises(NotFound):
            place_get(user=people[person], code=code)


def test_an_unknown_code_looks_like_an_unseen_one(tree, people):
    with pytest.raises(NotFound) as unknown:
        place_get(user=people["worker"], code="310105-ZJQ-NOPE")
    with pytest.raises(NotFound) as unseen:
        place_get(user=people["worker"], code=tree["other_dwelling"].code)
    assert unknown.value.as_dict() == unseen.value.as_dict()


def test_codes_are_matched_whatever_their_case(tree, people):
    assert place_get(user=people["worker"], code="310105-zjq-hqxc") == tree["community"]


def test_anonymous_sees_nothing(tree):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(NotFound):
        place_get(user=AnonymousUser(), code=tree["community"].code)


def test_children_come_in_number_order_with_their_counts(tree, people):
    for number in (10, 3):
        place_create(
            actor=None,
            kind=PlaceKind.BUILDING,
            name=f"{number}号楼",
            segment=f"B{number}",
            parent=tree["estate"],
            sort_key=number,
        )
    children = list(place_children_for(user=people["worker"], place=tree["estate"]))
    assert [c.name for c in children] == ["1号楼", "2号楼", "3号楼", "10号楼"]
    assert [c.children_count for c in children[:2]] == [1, 1]


def test_a_grid_worker_sees_only_the_grids_buildings_among_the_children(tree, people):
    children = place_children_for(user=people["grid_worker"], place=tree["estate"])
    assert list(children) == [tree["building"]]


def test_breadcrumb_names_every_ancestor_but_links_only_visible_ones(tree, people):
    crumbs = place_breadcrumb_for(user=people["grid_worker"], place=tree["dwelling"])
    assert [c.name for c in crumbs] == [
        "长宁区",
        "周家桥街道",
        "虹桥新城居民区",
        "虹桥新城小区",
        "1号楼",
        "1单元",
        "101室",
    ]
    assert [c.visible for c in crumbs] == [False, False, False, False, True, True, True]


def test_tree_summary_counts_what_each_person_sees(tree, people):
    worker = place_tree_summary_for(user=people["worker"])
    assert [(s.community, s.estates, s.buildings, s.dwellings, s.whole) for s in worker] == [
        (tree["community"], 1, 2, 3, True)
    ]
    grid_worker = place_tree_summary_for(user=people["grid_worker"])
    assert [(s.community, s.estates, s.buildings, s.dwellings, s.whole) for s in grid_worker] == [
        (tree["community"], 0, 1, 2, False)
    ]
    supervisor = place_tree_summary_for(user=people["supervisor"])
    assert [(s.community.code, s.dwellings) for s in supervisor] == [
        (tree["community"].code, 3),
        (tree["other_community"].code, 1),
    ]
    assert place_tree_summary_for(user=people["volunteer"])[0].dwellings == 3


def test_tree_summary_takes_the_same_number_of_queries_for_more_communities(tree, people):
    admin = people["admin"]
    place_tree_summary_for(user=admin)  # the scopes are cached on the user after this
    with CaptureQueriesContext(connection) as before:
        place_tree_summary_for(user=admin)
    for i in range(5):
        community = place_create(
            actor=None,
            kind=PlaceKind.COMMUNITY,
            name=f"新居民区{i}",
            segment=f"N{i}",
            parent=tree["subdistrict"],
        )
        estate = place_create(
            actor=None, kind=PlaceKind.ESTATE, name="小区", segment="E1", parent=community
        )
        place_create(actor=None, kind=PlaceKind.BUILDING, name="楼", segment="B1", parent=estate)
    with CaptureQueriesContext(connection) as after:
        summary = place_tree_summary_for(user=admin)
    assert len(after) == len(before) == 3
    assert len(summary) == 7


def test_community_for_report_slug(tree):
    assert community_for_report_slug("310105-zjq-hqxc") == tree["community"]
    assert community_for_report_slug(" 310105-ZJQ-HQXC ") == tree["community"]
    with pytest.raises(NotFound):
        community_for_report_slug("no-such-slug")
    place_update(actor=None, place=tree["community"], is_active=False)
    with pytest.raises(NotFound):
        community_for_report_slug("310105-zjq-hqxc")


def test_search_accepts_traditional_and_full_width_input(tree, people):
    worker = people["worker"]
    assert tree["community"] in places_search_for(user=worker, text="虹橋新城")
    assert list(places_search_for(user=worker, text="１号樓")) == [tree["building"]]
    assert list(places_search_for(user=worker, text="hqxc-e1-b2")) == [
        tree["building_2"],
        tree["entrance_2"],
        tree["dwelling_201"],
    ]


def test_search_matches_traditional_names_with_simplified_input(tree, people):
    place_update(actor=None, place=tree["estate"], name="虹橋新城小區")
    assert list(places_search_for(user=people["worker"], text="虹桥新城小区")) == [tree["estate"]]


def test_search_needs_every_word(tree, people):
    results = places_search_for(user=people["worker"], text="1单元 B2")
    assert list(results) == [tree["entrance_2"]]


def test_search_stays_within_scope(tree, people):
    assert not places_search_for(user=people["worker"], text="901")
    assert list(places_search_for(user=people["other_worker"], text="901")) == [
        tree["other_dwelling"]
    ]
    assert not places_search_for(user=people["worker"], text="   ")


def test_a_dwelling_is_in_its_buildings_grid(tree):
    assert [g.name for g in place_grids_for(place=tree["dwelling"])] == ["第一网格"]
    assert [g.buildings_count for g in place_grids_for(place=tree["building_2"])] == [1]
    assert [g.code for g in place_grids_for(place=tree["community"])] == [
        "310105-ZJQ-HQXC-G1",
        "310105-ZJQ-HQXC-G2",
    ]
    assert not place_grids_for(place=tree["estate"]).exists()
