"""Who may do what: every role × where the place lies × each action, from one explicit table."""

import pytest

from gongzhi.accounts.models import Relation, Role
from gongzhi.accounts.services import (
    residency_claim,
    resident_register,
    role_assign,
    user_create,
)

ACTIONS = {
    "see_place": "places.see_place",
    "verify_residency": "accounts.verify_residency",
    "phone_unmasked": "accounts.view_phone_unmasked",
    "sensitive_tags": "accounts.view_sensitive_tags",
}

# (see_place, verify_residency, phone_unmasked, sensitive_tags) at three places:
#   inside    — within the role's own scope (dwelling 101 of 虹桥新城; the shop for a shop)
#   neighbour — dwelling 901 of the neighbouring community 另一居民区, same subdistrict
#   far       — a dwelling in another district
T, F = True, False
EXPECTED = {
    Role.RESIDENT: {"inside": (T, F, F, F), "neighbour": (F, F, F, F), "far": (F, F, F, F)},
    Role.STREET_SHOP: {"inside": (T, F, F, F), "neighbour": (F, F, F, F), "far": (F, F, F, F)},
    Role.VOLUNTEER: {"inside": (T, F, F, F), "neighbour": (F, F, F, F), "far": (F, F, F, F)},
    Role.BUILDING_LEADER: {
        "inside": (T, F, F, F),
        "neighbour": (F, F, F, F),
        "far": (F, F, F, F),
    },
    Role.GRID_WORKER: {"inside": (T, F, F, F), "neighbour": (F, F, F, F), "far": (F, F, F, F)},
    Role.GRID_LEADER: {"inside": (T, F, F, F), "neighbour": (F, F, F, F), "far": (F, F, F, F)},
    Role.COMMUNITY_WORKER: {
        "inside": (T, T, F, F),
        "neighbour": (F, F, F, F),
        "far": (F, F, F, F),
    },
    Role.SECRETARY: {"inside": (T, T, T, T), "neighbour": (F, F, F, F), "far": (F, F, F, F)},
    Role.DIRECTOR: {"inside": (T, T, T, T), "neighbour": (F, F, F, F), "far": (F, F, F, F)},
    Role.PROPERTY_MANAGER: {
        "inside": (T, F, F, F),
        "neighbour": (F, F, F, F),
        "far": (F, F, F, F),
    },
    Role.OWNERS_COMMITTEE: {
        "inside": (T, F, F, F),
        "neighbour": (F, F, F, F),
        "far": (F, F, F, F),
    },
    Role.MEDIATOR: {"inside": (T, F, F, F), "neighbour": (F, F, F, F), "far": (F, F, F, F)},
    Role.SUBDISTRICT_SUPERVISOR: {
        "inside": (T, F, F, F),
        "neighbour": (T, F, F, F),
        "far": (F, F, F, F),
    },
    Role.DISTRICT_SUPERVISOR: {
        "inside": (T, F, F, F),
        "neighbour": (T, F, F, F),
        "far": (F, F, F, F),
    },
    Role.PARTNER: {"inside": (T, F, F, F), "neighbour": (T, F, F, F), "far": (F, F, F, F)},
    Role.ADMINISTRATOR: {"inside": (T, T, F, F), "neighbour": (T, T, F, F), "far": (T, T, F, F)},
}

# The fixture person holding each role (people fixture, plus the ones it lacks).
HOLDER = {
    Role.RESIDENT: "resident",
    Role.STREET_SHOP: "shopkeeper",
    Role.VOLUNTEER: "volunteer",
    Role.BUILDING_LEADER: "building_leader",
    Role.GRID_WORKER: "grid_worker",
    Role.GRID_LEADER: "grid_leader",
    Role.COMMUNITY_WORKER: "worker",
    Role.SECRETARY: "secretary",
    Role.DIRECTOR: "director",
    Role.PROPERTY_MANAGER: "property",
    Role.OWNERS_COMMITTEE: "owners_committee",
    Role.MEDIATOR: "mediator",
    Role.SUBDISTRICT_SUPERVISOR: "supervisor",
    Role.DISTRICT_SUPERVISOR: "district_supervisor",
    Role.PARTNER: "partner",
    Role.ADMINISTRATOR: "admin",
}


def test_the_table_covers_every_role():
    assert set(EXPECTED) == set(Role.values) == set(HOLDER)


@pytest.fixture
def everyone(tree, people, shop):
    def person(username, role, place):
        user = user_create(actor=None, username=username, name=username)
        role_assign(actor=None, user=user, role=role, place=place)
        return user

    return {
        **people,
        "shopkeeper": person("shopkeeper", Role.STREET_SHOP, shop),
        "building_leader": person("building_leader", Role.BUILDING_LEADER, tree["building"]),
        "director": person("director", Role.DIRECTOR, tree["community"]),
    }


@pytest.mark.parametrize("where", ["inside", "neighbour", "far"])
@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("role", list(EXPECTED))
def test_permission_matrix(tree, shop, far_dwelling, everyone, role, where, action):
    user = everyone[HOLDER[role]]
    place = {
        "inside": shop if role == Role.STREET_SHOP else tree["dwelling"],
        "neighbour": tree["other_dwelling"],
        "far": far_dwelling,
    }[where]
    expected = EXPECTED[role][where][list(ACTIONS).index(action)]

    assert user.has_perm(ACTIONS[action], place) is expected


def test_a_grid_worker_does_not_reach_the_next_grid(tree, people):
    assert people["grid_worker"].has_perm("places.see_place", tree["dwelling"])
    assert not people["grid_worker"].has_perm("places.see_place", tree["dwelling_201"])


def test_a_resident_sees_their_dwelling_not_the_neighbours(tree, people):
    assert people["resident"].has_perm("places.see_place", tree["dwelling"])
    assert not people["resident"].has_perm("places.see_place", tree["dwelling_102"])
    assert not people["resident"].has_perm("places.see_place", tree["building"])


def test_verifying_asks_about_the_claimed_place(tree, people, code_for):
    code = code_for("13700001111", "register")
    claimant = resident_register(phone="13700001111", code=code, name="陈女士")
    here = residency_claim(user=claimant, place=tree["dwelling_102"], relation=Relation.OWNER)
    there = residency_claim(user=claimant, place=tree["other_dwelling"], relation=Relation.OWNER)

    assert people["worker"].has_perm("accounts.verify_residency", here)
    assert not people["worker"].has_perm("accounts.verify_residency", there)
    assert people["other_worker"].has_perm("accounts.verify_residency", there)


def test_a_revoked_role_no_longer_counts(tree, people):
    from gongzhi.accounts.models import RoleAssignment, User
    from gongzhi.accounts.services import role_revoke

    assignment = RoleAssignment.objects.get(user=people["secretary"])
    role_revoke(actor=None, assignment=assignment)
    secretary = User.objects.get(pk=people["secretary"].pk)  # a new request, a fresh user
    assert not secretary.has_perm("accounts.view_phone_unmasked", tree["dwelling"])


def test_a_superuser_reaches_every_place_like_an_administrator(tree, far_dwelling):
    from gongzhi.accounts.models import User
    from gongzhi.accounts.rules import can_see_phone_unmasked, can_verify_residency

    root = User.objects.create_superuser(username="root", password="x-Example-2026")
    assert can_verify_residency(root, far_dwelling)
    # Phones stay masked in the app even for a superuser (Django's has_perm grants a
    # superuser everything, which is why pages ask `privacy.phone_for_viewer`).
    assert not can_see_phone_unmasked(root, far_dwelling)
