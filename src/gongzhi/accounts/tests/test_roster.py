"""Roster residents: created by the places import, verified at once, activated later."""

import pytest

from gongzhi.accounts.models import Relation, ResidencyStatus, Role, RoleAssignment, User
from gongzhi.accounts.services import resident_from_roster
from gongzhi.core.errors import ValidationFailed


def test_roster_resident_is_inactive_and_verified_at_the_dwelling(tree, people):
    user = resident_from_roster(
        actor=people["worker"],
        name="张阿姨",
        phone="13911112222",
        dwelling=tree["dwelling_102"],
        relation=Relation.OWNER,
    )

    assert not user.is_active
    assert not user.has_usable_password()
    assert user.activated_at is None
    residency = user.residencies.get()
    assert residency.place == tree["dwelling_102"]
    assert residency.community == tree["community"]
    assert residency.source == "roster"
    assert residency.status == ResidencyStatus.VERIFIED
    assert residency.relation == Relation.OWNER
    assert residency.verified_by == people["worker"]
    assert residency.is_verified_owner
    assert RoleAssignment.objects.filter(
        user=user, role=Role.RESIDENT, place=tree["dwelling_102"], is_active=True
    ).exists()


def test_importing_the_same_row_twice_changes_nothing(tree, people):
    kwargs = {
        "actor": people["worker"],
        "name": "张阿姨",
        "phone": "13911112222",
        "dwelling": tree["dwelling_102"],
        "relation": Relation.TENANT,
    }
    first = resident_from_roster(**kwargs)
    second = resident_from_roster(**kwargs)

    assert first == second
    assert User.objects.filter(phone="13911112222").count() == 1
    assert first.residencies.count() == 1
    assert RoleAssignment.objects.filter(user=first).count() == 1


def test_a_known_phone_is_the_same_person_in_a_second_dwelling(tree, people):
    resident = people["resident"]
    user = resident_from_roster(
        actor=people["worker"],
        name="resident",
        phone=resident.phone,
        dwelling=tree["dwelling_201"],
        relation=Relation.FAMILY,
    )

    assert user == resident
    user.refresh_from_db()
    assert user.is_active, "an existing account keeps working"
    assert user.residencies.get(place=tree["dwelling_201"]).relation == Relation.FAMILY


def test_without_phone_the_same_name_at_the_same_dwelling_is_one_person(tree, people):
    kwargs = {
        "actor": people["worker"],
        "name": "李老伯",
        "phone": None,
        "dwelling": tree["dwelling_201"],
        "relation": Relation.OWNER,
    }
    first = resident_from_roster(**kwargs)
    second = resident_from_roster(**kwargs)
    other = resident_from_roster(**{**kwargs, "dwelling": tree["dwelling_102"]})

    assert first == second
    assert other != first
    assert first.phone is None


@pytest.mark.parametrize(
    ("place_key", "relation", "phone"),
    [
        ("building", Relation.OWNER, "13911112222"),
        ("dwelling", Relation.SHOP_OPERATOR, "13911112222"),
        ("dwelling", Relation.OWNER, "12345"),
    ],
)
def test_roster_rows_that_cannot_be_right_are_refused(tree, people, place_key, relation, phone):
    with pytest.raises(ValidationFailed):
        resident_from_roster(
            actor=people["worker"],
            name="王先生",
            phone=phone,
            dwelling=tree[place_key],
            relation=relation,
        )
    assert not User.objects.filter(name="王先生").exists()
