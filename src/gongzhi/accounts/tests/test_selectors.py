"""Reads: the home page's compact tree, place labels, the claim choices."""

from gongzhi.accounts.selectors import (
    claimable_dwellings,
    place_label,
    place_tree_for,
    residencies_for_user,
)
from gongzhi.places.models import PlaceKind
from gongzhi.places.services import place_create


def _names(nodes):
    return [(n.place.name, _names(n.children)) for n in nodes]


def test_place_label_names_the_path_below_the_community(tree, shop):
    assert place_label(tree["dwelling"]) == "虹桥新城小区 1号楼 1单元 101室"
    assert place_label(shop) == "虹桥便利店"
    assert place_label(None) == ""


def test_the_community_tree_stops_at_estates_with_counts(people, tree):
    (section,) = place_tree_for(user=people["worker"])
    assert section.title == "虹桥新城居民区"
    assert section.roles == ["社区工作者"]
    assert _names(section.roots) == [("虹桥新城居民区", [("虹桥新城小区", [])])]
    estate = section.roots[0].children[0]
    assert (estate.buildings, estate.dwellings) == (2, 3)


def test_a_grid_shows_its_buildings(people, tree):
    (section,) = place_tree_for(user=people["grid_worker"])
    assert section.title == "第一网格"
    assert [(n.place.name, n.buildings, n.dwellings) for n in section.roots] == [("1号楼", 0, 2)]


def test_two_roles_at_one_place_make_one_section(people, tree):
    from gongzhi.accounts.models import Role
    from gongzhi.accounts.services import role_assign

    role_assign(actor=None, user=people["worker"], role=Role.MEDIATOR, place=tree["community"])
    (section,) = place_tree_for(user=people["worker"])
    assert sorted(section.roles) == sorted(["社区工作者", "调解员"])


def test_a_resident_gets_no_tree_only_their_home(people, tree):
    assert place_tree_for(user=people["resident"]) == []


def test_the_tree_costs_the_same_queries_however_many_dwellings(
    people, tree, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20) as small:
        place_tree_for(user=people["supervisor"])
    for b in range(3, 13):
        building = place_create(
            actor=None,
            kind=PlaceKind.BUILDING,
            name=f"{b}号楼",
            segment=f"B{b}",
            parent=tree["estate"],
        )
        for r in range(1, 6):
            place_create(
                actor=None,
                kind=PlaceKind.DWELLING,
                name=f"{r}01室",
                segment=f"{r}01",
                parent=building,
            )
    people["supervisor"].__dict__.pop("_gongzhi_scopes", None)
    with django_assert_max_num_queries(len(small.captured_queries)):
        (section,) = place_tree_for(user=people["supervisor"])
    estate = section.roots[0].children[0].children[0]
    assert (estate.buildings, estate.dwellings) == (12, 53)


def test_claimable_dwellings_go_through_entrances(tree):
    assert [p.name for p in claimable_dwellings(building=tree["building"])] == ["101室", "102室"]


def test_a_persons_residencies_are_theirs_only_newest_first(people, tree):
    from gongzhi.accounts.models import Relation
    from gongzhi.accounts.services import resident_from_roster

    def roster(name, phone, dwelling):
        return resident_from_roster(
            actor=None, name=name, phone=phone, dwelling=tree[dwelling], relation=Relation.FAMILY
        )

    resident = people["resident"]
    roster(resident.name, resident.phone, "dwelling")
    roster("居民", "13700001111", "dwelling_102")
    roster(resident.name, resident.phone, "dwelling_201")
    assert [r.place.name for r in residencies_for_user(user=resident)] == ["201室", "101室"]
