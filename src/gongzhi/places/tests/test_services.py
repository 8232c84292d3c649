"""The place tree's shape, codes and denormalised community, and the audited updates."""

from datetime import time

import pytest

from gongzhi.core.errors import ValidationFailed
from gongzhi.core.models import AuditEvent
from gongzhi.places.models import Place, PlaceKind
from gongzhi.places.services import (
    cluster_create,
    cluster_update,
    community_settings_update,
    grid_create,
    grid_update,
    place_create,
    place_update,
)


def add(kind, name, segment, parent=None, **fields):
    return place_create(actor=None, kind=kind, name=name, segment=segment, parent=parent, **fields)


def test_a_dwelling_cannot_hang_under_a_district(tree):
    with pytest.raises(ValidationFailed) as error:
        add(PlaceKind.DWELLING, "101室", "101", tree["district"])
    assert error.value.code == "place_kind_not_allowed"
    assert "区下面不能添加户" in str(error.value.message)
    assert not Place.objects.filter(code=tree["district"].code + "-101").exists()


@pytest.mark.parametrize(
    ("parent_key", "kind"),
    [
        ("community", PlaceKind.BUILDING),
        ("estate", PlaceKind.DWELLING),
        ("subdistrict", PlaceKind.ESTATE),
        ("dwelling", PlaceKind.DWELLING),
    ],
)
def test_each_kind_hangs_only_under_the_kinds_that_allow_it(tree, parent_key, kind):
    with pytest.raises(ValidationFailed):
        add(kind, "x", "X1", tree[parent_key])


def test_only_a_district_stands_at_the_root(db):
    with pytest.raises(ValidationFailed) as error:
        add(PlaceKind.COMMUNITY, "无上级居民区", "WSJ")
    assert error.value.code == "place_needs_parent"


def test_codes_are_paths_of_segments(tree):
    dwelling = tree["dwelling"]
    assert dwelling.code == "310105-ZJQ-HQXC-E1-B1-U1-101"
    assert dwelling.code.startswith(tree["entrance"].code + "-")
    assert dwelling.ancestor_codes() == [
        "310105",
        "310105-ZJQ",
        "310105-ZJQ-HQXC",
        "310105-ZJQ-HQXC-E1",
        "310105-ZJQ-HQXC-E1-B1",
        "310105-ZJQ-HQXC-E1-B1-U1",
        "310105-ZJQ-HQXC-E1-B1-U1-101",
    ]
    assert dwelling.is_within(tree["community"])
    assert not dwelling.is_within(tree["other_community"])
    assert dwelling.depth == 6


def test_a_segment_is_upper_cased_and_must_be_letters_and_digits(tree):
    building = add(PlaceKind.BUILDING, "3号楼", "b3", tree["estate"])
    assert building.code.endswith("-B3")
    with pytest.raises(ValidationFailed) as error:
        add(PlaceKind.BUILDING, "4号楼", "B-4", tree["estate"])
    assert error.value.code == "invalid_code_segment"


def test_a_code_is_taken_once(tree):
    with pytest.raises(ValidationFailed) as error:
        add(PlaceKind.BUILDING, "又一个1号楼", "B1", tree["estate"])
    assert error.value.code == "place_code_taken"


def test_every_node_knows_its_community_and_a_community_is_its_own(tree):
    assert tree["community"].community == tree["community"]
    assert tree["dwelling"].community == tree["community"]
    assert tree["other_dwelling"].community == tree["other_community"]
    assert tree["subdistrict"].community is None
    assert tree["community"].settings.report_slug == "310105-zjq-hqxc"


def test_creating_a_place_is_audited(tree):
    event = AuditEvent.objects.filter(verb="place.create", object_id=str(tree["dwelling"].pk))
    assert event.get().after == {"code": tree["dwelling"].code, "name": "101室"}


def test_renaming_updates_the_search_name_and_is_audited(tree, people):
    place_update(actor=people["worker"], place=tree["building"], name="壹號樓")
    building = Place.objects.get(pk=tree["building"].pk)
    assert building.name == "壹號樓"
    assert building.search_name == "壹号楼"
    event = AuditEvent.objects.get(verb="place.update", object_id=str(building.pk))
    assert event.before == {"name": "1号楼"}
    assert event.after == {"name": "壹號樓"}
    assert event.actor == people["worker"]


def test_an_update_that_changes_nothing_writes_nothing(tree):
    place_update(actor=None, place=tree["building"], name="1号楼")
    assert not AuditEvent.objects.filter(verb="place.update").exists()


def test_position_in_the_tree_cannot_be_updated(tree):
    with pytest.raises(ValidationFailed) as error:
        place_update(actor=None, place=tree["dwelling"], code="X", parent=tree["building_2"])
    assert error.value.code == "place_field_not_updatable"
    assert Place.objects.get(pk=tree["dwelling"].pk).code.endswith("-U1-101")


def test_area_must_be_positive(tree):
    with pytest.raises(ValidationFailed):
        place_update(actor=None, place=tree["dwelling"], exclusive_area="0")


def test_only_a_community_has_a_community_type(tree):
    with pytest.raises(ValidationFailed):
        place_update(actor=None, place=tree["estate"], community_type="commercial")


def test_community_settings_window_and_slug(tree):
    settings = tree["community"].settings
    with pytest.raises(ValidationFailed):
        community_settings_update(
            actor=None, community_settings=settings, service_start=time(20), service_end=time(8)
        )
    with pytest.raises(ValidationFailed) as error:
        community_settings_update(
            actor=None,
            community_settings=settings,
            report_slug=tree["other_community"].settings.report_slug,
        )
    assert error.value.code == "report_slug_taken"
    community_settings_update(actor=None, community_settings=settings, report_slug="HQXC")
    settings.refresh_from_db()
    assert settings.report_slug == "hqxc"
    assert AuditEvent.objects.get(verb="community_settings.update").after == {"report_slug": "hqxc"}


def test_a_grid_holds_only_its_own_communitys_buildings(tree):
    with pytest.raises(ValidationFailed) as error:
        grid_create(
            actor=None,
            community=tree["community"],
            segment="G9",
            name="越界网格",
            buildings=[tree["other_building"]],
        )
    assert error.value.code == "grid_building_outside"
    with pytest.raises(ValidationFailed):
        grid_create(
            actor=None,
            community=tree["community"],
            segment="G9",
            name="房屋网格",
            buildings=[tree["dwelling"]],
        )


def test_redrawing_a_grid_is_audited_with_both_sets(tree):
    grid = tree["grid"]
    grid_update(actor=None, grid=grid, buildings=[tree["building"], tree["building_2"]])
    assert set(grid.buildings.all()) == {tree["building"], tree["building_2"]}
    event = AuditEvent.objects.get(verb="grid.update")
    assert event.before == {"buildings": [tree["building"].code]}
    assert event.after == {"buildings": sorted([tree["building"].code, tree["building_2"].code])}


def test_a_cluster_groups_communities_only(tree):
    with pytest.raises(ValidationFailed):
        cluster_create(actor=None, code="P2", name="第二片区", communities=[tree["estate"]])
    cluster = cluster_create(
        actor=None, code="p2", name="第二片区", communities=[tree["community"]]
    )
    assert cluster.code == "P2"
    cluster_update(
        actor=None, cluster=cluster, communities=[tree["community"], tree["other_community"]]
    )
    assert cluster.communities.count() == 2
    assert AuditEvent.objects.filter(verb__startswith="cluster.").count() == 2
