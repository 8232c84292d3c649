"""Where a person may report for themselves — one rule (`rules.may_report_at`), enforced by
`case_report` for every self-service channel (resident page, API, Open311): staff anywhere
their roles reach; anyone else about their own dwelling or shop, and the shared places of
the communities they live in; an Open311 key's account within the key's jurisdiction."""

import pytest
import rules

from gongzhi.accounts.models import Relation
from gongzhi.accounts.services import residency_claim, residency_reject, user_create
from gongzhi.cases.models import Case, Channel
from gongzhi.cases.selectors import report_places_for
from gongzhi.cases.services import case_report
from gongzhi.core.errors import PermissionDenied, ValidationFailed
from gongzhi.places.models import PlaceKind
from gongzhi.places.services import place_create


@pytest.fixture
def spots(tree):
    """Shared places of 虹桥新城 beside the tree's estate and buildings."""
    return {
        "garden": place_create(
            actor=None,
            kind=PlaceKind.PUBLIC_AREA,
            name="中心花园",
            segment="P1",
            parent=tree["estate"],
        ),
        "shop": place_create(
            actor=None,
            kind=PlaceKind.STREET_SHOP,
            name="沿街便利店",
            segment="S1",
            parent=tree["community"],
        ),
    }


def report_as(user, place, category, channel=Channel.API, **kwargs):
    return case_report(
        actor=user,
        place=place,
        category=category["street_light"],
        text="路灯不亮了",
        channel=channel,
        **kwargs,
    )


def may(user, place):
    return rules.has_perm("cases.report_at", user, place)


@pytest.mark.parametrize(
    "where", ["dwelling", "estate", "building", "building_2", "garden", "shop"]
)
def test_a_resident_reports_about_their_home_and_their_communitys_shared_places(
    tree, people, spots, category, where
):
    place = {**tree, **spots}[where]
    case = report_as(people["resident"], place, category)
    assert case.place == place and case.reporter == people["resident"]


@pytest.mark.parametrize(
    "where",
    ["dwelling_102", "dwelling_201", "entrance", "community", "other_dwelling", "other_estate"],
)
def test_a_resident_may_not_report_about_someone_elses_home_or_another_community(
    tree, people, category, where
):
    with pytest.raises(PermissionDenied) as refused:
        report_as(people["resident"], tree[where], category)
    assert refused.value.code == "place_not_yours"
    assert "只能反映您自己的房屋、商铺" in refused.value.message
    assert not Case.objects.exists()


def test_a_claim_counts_at_once_and_a_rejected_one_not_at_all(tree, people, category):
    newcomer = user_create(actor=None, username="newcomer", name="新住户", phone="13700000001")
    assert not may(newcomer, tree["dwelling_102"]) and not may(newcomer, tree["estate"])

    claim = residency_claim(user=newcomer, place=tree["dwelling_102"], relation=Relation.TENANT)
    assert may(newcomer, tree["dwelling_102"]) and may(newcomer, tree["building_2"])
    assert not may(newcomer, tree["dwelling"])
    report_as(newcomer, tree["dwelling_102"], category)

    residency_reject(actor=people["worker"], residency=claim, note="查无此人")
    assert not may(newcomer, tree["dwelling_102"]) and not may(newcomer, tree["estate"])


def test_a_second_home_opens_its_community_too(tree, people, category):
    residency_claim(user=people["resident"], place=tree["other_dwelling"], relation=Relation.OWNER)
    assert may(people["resident"], tree["other_estate"])
    assert (
        report_as(people["resident"], tree["other_dwelling"], category).community
        == tree["other_community"]
    )


@pytest.mark.parametrize(
    ("who", "allowed", "refused"),
    [
        ("grid_worker", ["dwelling_102", "entrance"], ["dwelling_201", "other_dwelling"]),
        ("worker", ["dwelling_102", "dwelling_201", "community"], ["other_dwelling"]),
        ("property", ["dwelling_201", "estate"], ["other_estate"]),
        ("supervisor", ["other_dwelling", "dwelling_201"], []),
        ("admin", ["other_dwelling"], []),
        ("other_worker", ["other_dwelling"], ["dwelling", "estate"]),
    ],
)
def test_staff_report_anywhere_their_roles_reach(tree, people, category, who, allowed, refused):
    for where in allowed:
        assert report_as(people[who], tree[where], category).place == tree[where]
    for where in refused:
        with pytest.raises(PermissionDenied):
            report_as(people[who], tree[where], category)


@pytest.mark.parametrize("who", ["volunteer", "partner"])
def test_volunteers_and_partners_report_for_themselves_like_residents(tree, people, category, who):
    with pytest.raises(PermissionDenied):
        report_as(people[who], tree["estate"], category)
    residency_claim(user=people[who], place=tree["dwelling_201"], relation=Relation.FAMILY)
    assert report_as(people[who], tree["estate"], category).reporter == people[who]


def test_a_volunteers_patrol_finding_is_not_a_report_for_themselves(tree, people, category):
    case = report_as(people["volunteer"], tree["dwelling_102"], category, channel=Channel.PATROL)
    assert case.channel == Channel.PATROL


@pytest.mark.parametrize("channel", [Channel.RESIDENT_PAGE, Channel.API, Channel.OPEN311])
def test_every_self_service_channel_obeys_the_rule(tree, people, category, channel):
    with pytest.raises(PermissionDenied):
        report_as(people["resident"], tree["dwelling_102"], category, channel=channel)
    assert report_as(people["resident"], tree["estate"], category, channel=channel)


def test_an_open311_key_account_reports_anywhere_in_its_jurisdiction_and_nowhere_else(
    tree, category
):
    client = user_create(actor=None, username="open311-client", name="Open311：随手拍")
    assert not may(client, tree["estate"])
    case = report_as(
        client,
        tree["dwelling_102"],
        category,
        channel=Channel.OPEN311,
        jurisdiction=tree["community"],
    )
    assert case.place == tree["dwelling_102"]
    with pytest.raises(PermissionDenied) as refused:
        report_as(
            client,
            tree["other_dwelling"],
            category,
            channel=Channel.OPEN311,
            jurisdiction=tree["community"],
        )
    assert refused.value.code == "place_outside_jurisdiction"
    with pytest.raises(ValidationFailed):
        report_as(client, tree["estate"], category, jurisdiction=tree["community"])


def test_the_report_page_offers_exactly_what_the_rule_allows(tree, people, spots):
    mine = report_places_for(user=people["resident"], community=tree["community"])
    assert mine.homes == [tree["dwelling"]]
    assert {p.pk for p in mine.shared} == {
        p.pk for p in (tree["estate"], tree["building"], tree["building_2"], *spots.values())
    }
    assert all(may(people["resident"], p) for p in mine.homes + mine.shared)

    elsewhere = report_places_for(user=people["resident"], community=tree["other_community"])
    assert elsewhere.homes == elsewhere.shared == []

    grid = report_places_for(user=people["grid_worker"], community=tree["community"])
    assert [p.pk for p in grid.shared] == [tree["building"].pk]
