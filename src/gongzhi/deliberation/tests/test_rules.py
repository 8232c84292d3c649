"""The permission matrix: every role of the root `people` fixture against every action of
the consultation loop, on a topic about estate E1 of 虹桥新城 (where the fixture's owners'
committee and property manager serve). A role outside the community (`other_worker`)
can do nothing."""

import pytest
import rules

from gongzhi.deliberation import services

ROLES = [
    "grid_worker",
    "grid_leader",
    "worker",
    "secretary",
    "property",
    "owners_committee",
    "mediator",
    "supervisor",
    "district_supervisor",
    "volunteer",
    "partner",
    "admin",
    "resident",
    "other_worker",
]
EVERYONE_INSIDE = set(ROLES) - {"other_worker"}

# perm -> (object, roles allowed)
MATRIX = {
    "deliberation.see_topic": ("topic", EVERYONE_INSIDE),
    "deliberation.open_topic": ("community", {"worker", "secretary"}),
    "deliberation.propose_topic": ("community", {"resident"}),
    "deliberation.manage_topic": ("topic", {"worker", "secretary", "owners_committee"}),
    "deliberation.manage_survey": ("topic", {"worker", "secretary", "owners_committee"}),
    "deliberation.manage_meeting": ("topic", {"worker", "secretary", "owners_committee"}),
    "deliberation.manage_plan": ("topic", {"worker", "secretary", "owners_committee", "property"}),
    "deliberation.update_milestone": (
        "topic",
        {"worker", "secretary", "owners_committee", "property"},
    ),
    "deliberation.convene_vote": ("topic", {"owners_committee", "supervisor"}),
    "deliberation.manage_register": ("estate", {"worker", "secretary", "owners_committee"}),
    "deliberation.set_meeting_rules": ("estate", {"owners_committee"}),
    "deliberation.appoint_preparatory_group": ("estate", {"supervisor"}),
}


@pytest.fixture
def objects(tree, people):
    topic = services.topic_open(
        actor=people["worker"], community=tree["community"], estate=tree["estate"], title="停车难"
    )
    return {"topic": topic, "community": tree["community"], "estate": tree["estate"]}


@pytest.mark.parametrize("perm", sorted(MATRIX))
def test_the_role_matrix(perm, people, objects):
    target, allowed = MATRIX[perm]
    granted = {role for role in ROLES if rules.has_perm(perm, people[role], objects[target])}
    assert granted == allowed


def test_a_resident_supports_others_proposals_not_their_own(people, tree):
    topic = services.topic_propose(
        actor=people["resident"],
        community=tree["community"],
        title="加装电梯",
        description="老人上楼难",
    )
    assert not rules.has_perm("deliberation.support_topic", people["resident"], topic)
    assert not rules.has_perm("deliberation.support_topic", people["worker"], topic)


def test_nobody_signed_out_sees_anything(objects):
    from django.contrib.auth.models import AnonymousUser

    assert not any(
        rules.has_perm(perm, AnonymousUser(), objects[target])
        for perm, (target, _a) in MATRIX.items()
    )
