"""The demo data set: the article's communities, every role, idempotent, logins that work."""

import re
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse

from gongzhi.accounts.models import (
    OtpPurpose,
    Relation,
    Residency,
    ResidencyStatus,
    Role,
    RoleAssignment,
    User,
)
from gongzhi.accounts.services import account_activate, otp_request, user_create
from gongzhi.core.models import SmsMessage
from gongzhi.demo import DEMO_PASSWORD
from gongzhi.demo.people import logins
from gongzhi.places.models import Cluster, CommunityType, Grid, Place, PlaceKind
from gongzhi.places.services import place_create, search_name_for

SCALE = 0.02


def run_demo() -> str:
    out = StringIO()
    call_command("demo", scale=SCALE, stdout=out)
    return out.getvalue()


def table_counts() -> dict[str, int]:
    return {model._meta.label: model._base_manager.count() for model in apps.get_models()}


@pytest.fixture(scope="class")
def demo_output(django_db_setup, django_db_blocker):
    """One small demo shared by a class of tests, rolled back when the class is done.

    Each test still runs in its own savepoint inside this transaction (the `db` fixture),
    so what one test writes does not reach the next.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield run_demo()
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_people_and_places():
    def snapshot():
        return (
            sorted(Place.objects.values_list("code", "name", "exclusive_area")),
            sorted(User.objects.values_list("phone", "name", "is_active")),
            sorted(Residency.objects.values_list("user__phone", "place__code", "relation")),
        )

    with transaction.atomic():
        run_demo()
        first = snapshot()
        transaction.set_rollback(True)
    assert not Place.objects.exists()

    run_demo()

    assert snapshot() == first


@pytest.mark.django_db
def test_the_demo_refuses_a_community_code_that_holds_other_data():
    district = place_create(actor=None, kind=PlaceKind.DISTRICT, name="长宁区", segment="310105")
    subdistrict = place_create(
        actor=None, kind=PlaceKind.SUBDISTRICT, name="周家桥街道", segment="ZJQ", parent=district
    )
    place_create(
        actor=None, kind=PlaceKind.COMMUNITY, name="真实居民区", segment="HQXC", parent=subdistrict
    )
    before = table_counts()

    with pytest.raises(CommandError, match="真实居民区"):
        run_demo()

    assert table_counts() == before


@pytest.mark.django_db
def test_the_demo_refuses_a_demo_phone_held_by_someone_else():
    user_create(actor=None, username="real-person", phone="19900100007")
    before = table_counts()

    with pytest.raises(CommandError, match="real-person"):
        run_demo()

    assert table_counts() == before


@pytest.mark.usefixtures("demo_output")
class TestTheBuiltDemo:
    def test_the_articles_communities_stand_in_their_districts_and_subdistricts(self, db):
        found = {
            c.name: (c.parent.parent.name, c.parent.name, c.community_type)
            for c in Place.objects.filter(kind=PlaceKind.COMMUNITY).select_related("parent__parent")
        }
        assert found == {
            "虹桥新城居民区": ("长宁区", "周家桥街道", CommunityType.COMMERCIAL),
            "华山居民区": ("长宁区", "江苏路街道", CommunityType.MIXED),
            "陈家巷居民区": ("长宁区", "新华路街道", CommunityType.MIXED),
            "凌八居民区": ("浦东新区", "东明路街道", CommunityType.RESETTLEMENT),
            "康荟宽庭居委会": ("浦东新区", "康桥镇", CommunityType.RENTAL),
            "南陈社区": ("嘉定区", "新成路街道", CommunityType.COMMERCIAL),
            "德立社区": ("嘉定区", "马陆镇", CommunityType.COMMERCIAL),
            "张家宅居民区": ("静安区", "石门二路街道", CommunityType.COMMERCIAL),
            "临汾路99弄居民区": ("静安区", "临汾路街道", CommunityType.COMMERCIAL),
            "鹭岛华庭社区": ("崇明区", "长兴镇", CommunityType.RESETTLEMENT),
            "和睦佳苑社区": ("崇明区", "港西镇", CommunityType.FARMERS),
        }
        assert Place.objects.get(code="310105").name == "长宁区"
        assert Place.objects.get(code="310115").name == "浦东新区"
        # Story 12: the method library gathers one method from each of 长宁's ten 街镇.
        assert Place.objects.filter(parent__code="310105", kind=PlaceKind.SUBDISTRICT).count() == 10
        assert Place.objects.get(code="310106-SMEL-ZJZ-E1").name == "国际丽都城"
        assert Place.objects.get(code="310114-XCL-NC-E1").name == "南街坊小区"

    def test_every_community_has_estates_dwellings_shops_and_grids_over_all_its_buildings(self, db):
        for community in Place.objects.filter(kind=PlaceKind.COMMUNITY):
            below = Place.objects.filter(community=community)
            dwellings = below.filter(kind=PlaceKind.DWELLING)
            assert dwellings.exists()
            assert not dwellings.filter(exclusive_area__isnull=True).exists()
            assert below.filter(kind=PlaceKind.STREET_SHOP).exists()
            for place in below.exclude(pk=community.pk).select_related("parent"):
                assert place.code == f"{place.parent.code}-{place.segment}"
                assert place.depth == place.parent.depth + 1
            assert place.search_name == search_name_for(place.name)
            grids = Grid.objects.filter(community=community)
            assert 2 <= grids.count() <= 4
            buildings = set(below.filter(kind=PlaceKind.BUILDING).values_list("pk", flat=True))
            gridded = [b.pk for g in grids for b in g.buildings.filter(kind=PlaceKind.BUILDING)]
            assert sorted(gridded) == sorted(buildings)
            assert community.settings.report_slug == community.code.lower()

    def test_cluster_two_groups_the_communities_of_five_districts(self, db):
        cluster = Cluster.objects.get(name="第二片区")
        districts = {
            c.parent.parent.name for c in cluster.communities.select_related("parent__parent")
        }
        assert cluster.communities.count() == 11
        assert districts == {"长宁区", "浦东新区", "嘉定区", "静安区", "崇明区"}

    def test_every_role_is_held_and_five_partners_reach_the_clusters_districts(self, db):
        held = set(RoleAssignment.objects.active().values_list("role", flat=True))
        assert held == set(Role.values)
        partners = User.objects.filter(role_assignments__role=Role.PARTNER).distinct()
        assert partners.count() == 5
        for partner in partners:
            reached = set(
                partner.role_assignments.filter(role=Role.PARTNER).values_list(
                    "place__code", flat=True
                )
            )
            assert reached == {"310105", "310106", "310114", "310115", "310151"}
        for community in Place.objects.filter(kind=PlaceKind.COMMUNITY):
            roles = set(
                RoleAssignment.objects.filter(place__community=community).values_list(
                    "role", flat=True
                )
            ) | set(
                RoleAssignment.objects.filter(grid__community=community).values_list(
                    "role", flat=True
                )
            )
            assert {
                Role.SECRETARY,
                Role.DIRECTOR,
                Role.COMMUNITY_WORKER,
                Role.GRID_LEADER,
                Role.GRID_WORKER,
                Role.PROPERTY_MANAGER,
                Role.MEDIATOR,
                Role.VOLUNTEER,
                Role.BUILDING_LEADER,
                Role.RESIDENT,
                Role.STREET_SHOP,
            } <= roles, community.name
        for subdistrict in Place.objects.filter(kind=PlaceKind.SUBDISTRICT):
            assert RoleAssignment.objects.filter(
                role=Role.SUBDISTRICT_SUPERVISOR, place=subdistrict
            ).exists()

    def test_linfen_road_99_has_a_nine_member_owners_committee_of_verified_owners(self, db):
        estate = Place.objects.get(community__name="临汾路99弄居民区", kind=PlaceKind.ESTATE)
        members = User.objects.filter(
            role_assignments__role=Role.OWNERS_COMMITTEE, role_assignments__place=estate
        )
        assert members.count() == 9
        for member in members:
            home = member.residencies.get()
            assert home.is_verified_owner
            assert home.place.is_within(estate)
        # Rental housing has no owners, so no owners' committee.
        assert not RoleAssignment.objects.filter(
            role=Role.OWNERS_COMMITTEE, place__community__name="康荟宽庭居委会"
        ).exists()
        assert not Residency.objects.filter(
            community__name="康荟宽庭居委会", relation=Relation.OWNER
        ).exists()

    def test_roster_residents_are_verified_and_wait_for_activation(self, db):
        roster = Residency.objects.filter(source="roster", place__kind=PlaceKind.DWELLING)
        assert roster.count() > 100
        assert not roster.exclude(status=ResidencyStatus.VERIFIED).exists()
        waiting = User.objects.filter(residencies__in=roster, is_active=False).distinct()
        assert waiting.exists()
        assert not any(user.has_usable_password() for user in waiting)
        assert all(user.phone.startswith("1990") for user in User.objects.all())

    def test_running_the_demo_twice_changes_nothing(self, db):
        before = table_counts()

        output = run_demo()

        assert table_counts() == before
        assert "演示数据已存在" in output

    def test_printed_logins_sign_in_on_the_login_page(self, client, demo_output):
        rows = logins()
        assert {row.role for row in rows} >= {str(role.label) for role in Role}
        for row in [r for r in rows if r.username != "—"]:
            assert row.password == DEMO_PASSWORD
            assert f"{row.username}  " in demo_output
            assert row.phone in demo_output
            for identifier in (row.username, row.phone):
                response = client.post(
                    reverse("accounts:login"),
                    {"identifier": identifier, "password": row.password},
                )
                assert response.status_code == 302, identifier
                assert client.get(reverse("home")).status_code == 200
                client.post(reverse("accounts:logout"))
        assert "/r/310105-zjq-hqxc/" in demo_output

    def test_the_printed_roster_resident_activates_with_a_code(
        self, client, demo_output, django_capture_on_commit_callbacks
    ):
        (row,) = [r for r in logins() if r.username == "—"]
        assert row.password == "—"
        assert row.phone in demo_output
        assert not client.login(username=row.phone, password=DEMO_PASSWORD)

        with django_capture_on_commit_callbacks(execute=True):
            otp_request(phone=row.phone, purpose=OtpPurpose.ACTIVATE)
        code = re.search(r"\d{6}", SmsMessage.objects.get(phone=row.phone).body).group()
        user = account_activate(phone=row.phone, code=code, password=DEMO_PASSWORD, ip_address=None)

        assert user.is_active
        assert user.residencies.get().status == ResidencyStatus.VERIFIED
        assert client.login(username=row.phone, password=DEMO_PASSWORD)
