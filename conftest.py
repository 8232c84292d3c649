"""Fixtures shared by every test: a small place tree and one person in each role.

The tree (built through the services, as production data is):

    长宁区 310105
      周家桥街道 ZJQ
        虹桥新城居民区 HQXC        <- `community`
          虹桥新城小区 E1          <- `estate`
            1号楼 B1 (grid G1) / 1单元 U1 / 101, 102 (`dwelling` = 101)
            2号楼 B2 (grid G2) / 1单元 U1 / 201
        另一居民区 LY              <- `other_community`: outside every community role
          另一小区 E1 / 9号楼 B9 / 1单元 U1 / 901
"""

import pytest
from django.conf import settings
from django.utils import translation
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from gongzhi.accounts.models import Relation, Role
from gongzhi.accounts.services import residency_claim, role_assign, user_create
from gongzhi.places.models import CommunityType, Place, PlaceKind
from gongzhi.places.services import grid_create, place_create

# The machines that run the suite are shared and often busy: a pure function that takes
# 250 ms under load is not wrong. Speed is measured in bench/, not asserted here, so no
# property test has a deadline or fails for generating its data slowly.
hypothesis_settings.register_profile(
    "gongzhi", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("gongzhi")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Every test that commits to the database (`transaction=True`, a live server) starts
    from what the migrations seeded — default categories, content types, permissions.

    Such a test empties every table when it ends. Without serialized rollback the emptying
    re-creates content types under new ids, and a later test that restores the seeded rows
    collides with them; so all of these tests restore, and none can break another."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        options = dict(marker.kwargs) if marker else {}
        commits = options.get("transaction") or {"live_server", "transactional_db"} & set(
            item.fixturenames
        )
        if commits:
            options.update(transaction=True, serialized_rollback=True)
            item.add_marker(pytest.mark.django_db(**options), append=False)


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts and ends in the site's default language.

    Django's LocaleMiddleware activates the language of each request on the thread and
    never deactivates it; the test client runs requests on the test's own thread, so a
    test that asked for an English page would otherwise leave every later test in
    English (Role labels, routing reasons, messages)."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def tree(db):
    def add(kind, name, segment, parent=None, **fields):
        return place_create(
            actor=None, kind=kind, name=name, segment=segment, parent=parent, **fields
        )

    t = {}
    t["district"] = add(PlaceKind.DISTRICT, "长宁区", "310105")
    t["subdistrict"] = add(PlaceKind.SUBDISTRICT, "周家桥街道", "ZJQ", t["district"])
    t["community"] = add(
        PlaceKind.COMMUNITY,
        "虹桥新城居民区",
        "HQXC",
        t["subdistrict"],
        community_type=CommunityType.COMMERCIAL,
    )
    t["estate"] = add(PlaceKind.ESTATE, "虹桥新城小区", "E1", t["community"])
    t["building"] = add(PlaceKind.BUILDING, "1号楼", "B1", t["estate"])
    t["entrance"] = add(PlaceKind.ENTRANCE, "1单元", "U1", t["building"])
    t["dwelling"] = add(PlaceKind.DWELLING, "101室", "101", t["entrance"], exclusive_area="89.50")
    t["dwelling_102"] = add(
        PlaceKind.DWELLING, "102室", "102", t["entrance"], exclusive_area="75.20"
    )
    t["building_2"] = add(PlaceKind.BUILDING, "2号楼", "B2", t["estate"])
    t["entrance_2"] = add(PlaceKind.ENTRANCE, "1单元", "U1", t["building_2"])
    t["dwelling_201"] = add(PlaceKind.DWELLING, "201室", "201", t["entrance_2"])
    t["grid"] = grid_create(
        actor=None,
        community=t["community"],
        segment="G1",
        name="第一网格",
        buildings=[t["building"]],
    )
    t["grid_2"] = grid_create(
        actor=None,
        community=t["community"],
        segment="G2",
        name="第二网格",
        buildings=[t["building_2"]],
    )
    t["other_community"] = add(PlaceKind.COMMUNITY, "另一居民区", "LY", t["subdistrict"])
    t["other_estate"] = add(PlaceKind.ESTATE, "另一小区", "E1", t["other_community"])
    t["other_building"] = add(PlaceKind.BUILDING, "9号楼", "B9", t["other_estate"])
    t["other_entrance"] = add(PlaceKind.ENTRANCE, "1单元", "U1", t["other_building"])
    t["other_dwelling"] = add(PlaceKind.DWELLING, "901室", "901", t["other_entrance"])
    return t


@pytest.fixture
def people(tree):
    """One user per role, each scoped inside `tree['community']` (or above it)."""

    def person(username, role, phone, *, place=None, grid=None):
        user = user_create(
            actor=None, username=username, name=username, phone=phone, password="pw-Example-2026"
        )
        role_assign(actor=None, user=user, role=role, place=place, grid=grid)
        return user

    p = {
        "grid_worker": person("grid_worker", Role.GRID_WORKER, "13800000001", grid=tree["grid"]),
        "grid_leader": person("grid_leader", Role.GRID_LEADER, "13800000002", grid=tree["grid"]),
        "worker": person("worker", Role.COMMUNITY_WORKER, "13800000003", place=tree["community"]),
        "secretary": person("secretary", Role.SECRETARY, "13800000004", place=tree["community"]),
        "property": person("property", Role.PROPERTY_MANAGER, "13800000005", place=tree["estate"]),
        "owners_committee": person(
            "owners_committee", Role.OWNERS_COMMITTEE, "13800000006", place=tree["estate"]
        ),
        "mediator": person("mediator", Role.MEDIATOR, "13800000007", place=tree["community"]),
        "supervisor": person(
            "supervisor", Role.SUBDISTRICT_SUPERVISOR, "13800000008", place=tree["subdistrict"]
        ),
        "district_supervisor": person(
            "district_supervisor", Role.DISTRICT_SUPERVISOR, "13800000009", place=tree["district"]
        ),
        "volunteer": person("volunteer", Role.VOLUNTEER, "13800000010", place=tree["community"]),
        "partner": person("partner", Role.PARTNER, "13800000011", place=tree["district"]),
        "admin": person("admin", Role.ADMINISTRATOR, "13800000012"),
        "resident": person("resident", Role.RESIDENT, "13900000001", place=tree["dwelling"]),
        "other_worker": person(
            "other_worker", Role.COMMUNITY_WORKER, "13800000013", place=tree["other_community"]
        ),
    }
    return p


@pytest.fixture
def resident_at(tree, people):
    """A resident who may report about `place` for themselves (only their own home and
    their community's shared places are theirs to report): `people["resident"]` for 101
    and the shared places of 虹桥新城; for another dwelling or shop, a neighbour made on
    first use with a live claim on it; for another community's shared places, the
    neighbour at its first dwelling."""
    neighbours = {}

    def get(place):
        if place.kind not in (PlaceKind.DWELLING, PlaceKind.STREET_SHOP):
            if place.community_id == tree["community"].pk:
                return people["resident"]
            place = Place.objects.filter(
                community_id=place.community_id, kind=PlaceKind.DWELLING
            ).order_by("code")[0]
        if place == tree["dwelling"]:
            return people["resident"]
        if place.pk not in neighbours:
            neighbour = user_create(
                actor=None,
                username=f"neighbour-{place.pk}",
                name=f"{place.name}住户",
                phone=f"139{place.pk:08d}",
                password="pw-Example-2026",
            )
            residency_claim(user=neighbour, place=place, relation=Relation.OWNER)
            neighbours[place.pk] = neighbour
        return neighbours[place.pk]

    return get
