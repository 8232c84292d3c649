"""Owners' votes through the services (rules.md §4): who may convene, the notice period,
the frozen register, online voting only where adopted, one ballot per exclusive part
(an owner's ballot covers all their parts), co-owners through their representative,
paper and proxy ballots entered by the convening body, secrecy, the count and what it
does to the topic and its plan. The estate is `green` (5 owners, 500 ㎡)."""

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
import time_machine

from gongzhi.accounts.models import Role
from gongzhi.accounts.services import role_assign
from gongzhi.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from gongzhi.core.models import AuditEvent, Notification
from gongzhi.deliberation import selectors, services
from gongzhi.deliberation.models import (
    ConvenerKind,
    FundingSource,
    OwnerRegisterEntry,
    PlanState,
    VoteState,
)
from gongzhi.deliberation.states import TopicAction, TopicState
from gongzhi.deliberation.tally import BallotChannel, Item

from .conftest import at

NOTICED = at(2026, 3, 1, 9, 0)
OPENS = at(2026, 3, 17, 9, 0)
CLOSES = at(2026, 3, 31, 18, 0)
DURING = at(2026, 3, 20, 10, 0)
AFTER = at(2026, 4, 1, 9, 0)


@pytest.fixture
def road(people, tree, green):
    """A road renovation plan for 绿园 (item 7), its funding set, the topic in planning."""
    with time_machine.travel(NOTICED - timedelta(days=10), tick=False):
        topic = services.topic_open(
            actor=people["worker"],
            community=tree["community"],
            estate=green["estate"],
            title="停车难",
        )
        for action in (TopicAction.DELIBERATE, TopicAction.PLAN):
            topic = services.topic_advance(actor=people["worker"], topic=topic, action=action)
        plan = services.plan_create(
            actor=green["committee"],
            topic=topic,
            title="道路改造增加停车位",
            description="拓宽主干道，划设停车位，清理消防通道",
            cost="1200000.00",
            requires_owners_vote=True,
            vote_item=Item.REBUILD,
        )
        services.plan_funding_set(
            actor=green["committee"],
            plan=plan,
            shares={
                FundingSource.MAINTENANCE_FUND: "900000.00",
                FundingSource.GOVERNMENT: "300000.00",
            },
        )
    return plan


def notice(plan, actor, **kwargs):
    fields = {
        "convener_kind": ConvenerKind.OWNERS_COMMITTEE,
        "title": "道路改造方案表决",
        "description": "同意按方案改造道路、增加停车位",
        "item": Item.REBUILD,
        "opens_at": OPENS,
        "closes_at": CLOSES,
        "plan": plan,
    } | kwargs
    with time_machine.travel(NOTICED, tick=False):
        return services.vote_notice(actor=actor, topic=plan.topic, **fields)


def adopt_e_voting(green):
    services.owners_meeting_rules_set(
        actor=green["committee"],
        estate=green["estate"],
        electronic_voting=True,
        adopted_on=date(2025, 12, 1),
    )


def entry_of(vote, place):
    return vote.roll.get(place=place)


def online(vote, user, place, choice="agree"):
    with time_machine.travel(DURING, tick=False):
        return services.ballot_cast(
            actor=user, vote=vote, entry=entry_of(vote, place), choice=choice
        )


def paper(vote, actor, place, choice="agree", **kwargs):
    fields = {"channel": BallotChannel.PAPER} | kwargs
    with time_machine.travel(DURING, tick=False):
        return services.ballot_enter(
            actor=actor, vote=vote, entry=entry_of(vote, place), choice=choice, **fields
        )


def count(vote, actor):
    with time_machine.travel(AFTER, tick=False):
        return services.vote_count(actor=actor, vote=vote)


# --- who convenes, and when -------------------------------------------------------------------


def test_the_owners_committee_notices_a_vote_and_the_topic_moves_to_voting(road, green):
    vote = notice(road, green["committee"])
    assert vote.state == VoteState.NOTICED
    assert vote.notice_at == NOTICED
    road.topic.refresh_from_db()
    assert road.topic.state == TopicState.VOTING
    assert vote.roll.count() == 6
    told = Notification.objects.filter(verb="vote.noticed").values_list("recipient", flat=True)
    assert set(told) == {green[u].pk for u in ("wang", "li", "zhang", "zhao")}
    assert AuditEvent.objects.filter(verb="vote.notice", object_id=str(vote.pk)).exists()


@pytest.mark.parametrize("who", ["worker", "secretary", "owners_committee", "resident"])
def test_only_a_convener_of_the_estate_starts_a_vote(road, people, who):
    # The root fixture's owners' committee serves another estate (E1), not 绿园.
    with pytest.raises(PermissionDenied):
        notice(road, people[who])


def test_the_subdistrict_convenes_as_the_subdistrict_not_as_the_committee(road, people):
    with pytest.raises(PermissionDenied) as error:
        notice(road, people["supervisor"])
    assert error.value.code == "not_convener"
    vote = notice(road, people["supervisor"], convener_kind=ConvenerKind.SUBDISTRICT)
    assert vote.convener_kind == ConvenerKind.SUBDISTRICT


def test_a_preparatory_group_the_subdistrict_formed_may_convene(road, people, green):
    with pytest.raises(PermissionDenied):
        notice(road, green["li"], convener_kind=ConvenerKind.PREPARATORY_GROUP)
    with pytest.raises(PermissionDenied):
        services.preparatory_group_set(
            actor=people["worker"], estate=green["estate"], members=[green["li"]]
        )
    services.preparatory_group_set(
        actor=people["supervisor"], estate=green["estate"], members=[green["li"]]
    )
    vote = notice(road, green["li"], convener_kind=ConvenerKind.PREPARATORY_GROUP)
    # The preparatory group enters paper ballots for its vote; the committee does not.
    assert selectors.vote_entries_for_entry(user=green["li"], vote=vote).count() == 6
    with pytest.raises(NotFound):
        selectors.vote_entries_for_entry(user=green["committee"], vote=vote)


def test_a_vote_opens_only_after_the_notice_period(road, green):
    with pytest.raises(ValidationFailed) as error:
        notice(road, green["committee"], opens_at=NOTICED + timedelta(days=14, hours=23))
    assert error.value.code == "notice_too_short"
    assert "15 天" in str(error.value.message)
    services.owners_meeting_rules_set(
        actor=green["committee"], estate=green["estate"], electronic_voting=False, notice_days=7
    )
    vote = notice(road, green["committee"], opens_at=NOTICED + timedelta(days=7))
    assert vote.opens_at == NOTICED + timedelta(days=7)


def test_the_item_must_be_the_plans(road, green):
    with pytest.raises(ValidationFailed) as error:
        notice(road, green["committee"], item=Item.USE_FUND)
    assert error.value.code == "item_mismatch"


def test_a_part_without_area_stops_the_vote(road, green):
    from gongzhi.places.services import place_update

    place_update(actor=None, place=green["b2_201"], exclusive_area=None)
    with pytest.raises(ValidationFailed) as error:
        notice(road, green["committee"])
    assert error.value.code == "register_without_area"
    assert "2号楼 201室" in str(error.value.message)
    # Owners of 1号楼 alone can still decide something of their own building.
    vote = notice(road, green["committee"], buildings=[green["b1"]])
    assert vote.roll.count() == 3


# --- the register -------------------------------------------------------------------------------


def test_the_register_counts_multi_unit_buyers_co_owners_and_unregistered_parts(road, green):
    vote = notice(road, green["committee"])
    roll = {e.place_id: e for e in vote.roll.all()}
    wang = {roll[green["b1_101"].pk].owner_key, roll[green["b1_102"].pk].owner_key}
    assert len(wang) == 1
    shared = roll[green["b2_101"].pk]
    assert shared.co_owner_count == 2
    assert shared.representative == green["zhang"]
    assert shared.owner_label == "张伟、周芳"
    unregistered = roll[green["b2_201"].pk]
    assert unregistered.owner_label == "未登记"
    assert unregistered.representative is None
    assert sum(e.area for e in roll.values()) == Decimal("500.00")


def test_a_later_change_to_the_register_does_not_move_a_vote_under_way(road, people, green):
    vote = notice(road, green["committee"])
    services.owner_register_sync(actor=people["worker"], estate=green["estate"])
    OwnerRegisterEntry.objects.filter(place=green["b1_201"]).update(area=Decimal("1.00"))
    assert entry_of(vote, green["b1_201"]).area == Decimal("70.00")


# --- casting --------------------------------------------------------------------------------------


def test_online_voting_needs_the_owners_meeting_to_have_adopted_it(road, green):
    vote = notice(road, green["committee"])
    assert not vote.electronic
    with pytest.raises(PermissionDenied) as error:
        online(vote, green["li"], green["b1_201"])
    assert error.value.code == "no_e_voting"


def test_one_ballot_covers_all_of_an_owners_parts_once(road, green):
    adopt_e_voting(green)
    vote = notice(road, green["committee"])
    assert vote.electronic
    ballots = online(vote, green["wang"], green["b1_102"])
    assert {b.entry.place for b in ballots} == {green["b1_101"], green["b1_102"]}
    with pytest.raises(Conflict) as error:
        online(vote, green["wang"], green["b1_101"])
    assert "每个专有部分只能投一票" in str(error.value.message)


def test_co_owners_vote_through_their_representative(road, people, green):
    adopt_e_voting(green)
    vote = notice(road, green["committee"])
    with pytest.raises(PermissionDenied) as error:
        online(vote, green["zhou"], green["b2_101"])
    assert error.value.code == "not_registered_voter"
    online(vote, green["zhang"], green["b2_101"], choice="disagree")


def test_a_tenant_or_a_stranger_cannot_vote(road, people, green):
    adopt_e_voting(green)
    vote = notice(road, green["committee"])
    with pytest.raises(PermissionDenied):
        online(vote, green["tenant"], green["b2_201"])
    with pytest.raises(PermissionDenied):
        online(vote, people["resident"], green["b1_201"])


def test_ballots_only_within_the_window(road, green):
    adopt_e_voting(green)
    vote = notice(road, green["committee"])
    early = time_machine.travel(OPENS - timedelta(minutes=1), tick=False)
    with early, pytest.raises(InvalidTransition):
        services.ballot_cast(
            actor=green["li"], vote=vote, entry=entry_of(vote, green["b1_201"]), choice="agree"
        )
    with time_machine.travel(CLOSES, tick=False), pytest.raises(InvalidTransition):
        services.ballot_cast(
            actor=green["li"], vote=vote, entry=entry_of(vote, green["b1_201"]), choice="agree"
        )


def test_the_committee_enters_paper_and_proxy_ballots(road, people, green):
    vote = notice(road, green["committee"])
    ballots = paper(vote, green["committee"], green["b1_201"])
    assert ballots[0].channel == BallotChannel.PAPER
    assert ballots[0].entered_by == green["committee"]
    assert ballots[0].cast_by == green["li"]
    with pytest.raises(ValidationFailed) as error:
        paper(vote, green["committee"], green["b2_102"], channel=BallotChannel.PROXY)
    assert error.value.code == "proxy_required"
    proxied = paper(
        vote,
        green["committee"],
        green["b2_102"],
        channel=BallotChannel.PROXY,
        proxy_holder="赵小强",
        proxy_note="业主赵强书面委托其子代为投票，委托书原件存业委会",
    )
    assert proxied[0].proxy_holder == "赵小强"
    with pytest.raises(PermissionDenied):
        paper(vote, people["worker"], green["b2_201"])


def test_ballots_are_secret_from_other_owners_and_auditable_by_the_committee(road, people, green):
    adopt_e_voting(green)
    vote = notice(road, green["committee"])
    online(vote, green["li"], green["b1_201"], choice="disagree")
    with pytest.raises(NotFound):
        selectors.vote_ballots_for_audit(user=green["wang"], vote=vote)
    with pytest.raises(NotFound):
        selectors.vote_ballots_for_audit(user=people["worker"], vote=vote)
    audit = selectors.vote_ballots_for_audit(user=green["committee"], vote=vote)
    assert [(b.entry.place, b.choice, b.channel) for b in audit] == [
        (green["b1_201"], "disagree", "online")
    ]
    # The trail says who handed in which part's ballot and how, never what it said.
    event = AuditEvent.objects.get(verb="vote.ballot_online")
    assert "disagree" not in str(event.after)
    # While voting, anyone following sees turnout, not choices.
    assert selectors.vote_progress(vote=vote) == (1, 6)
    assert selectors.choice_counts(vote=vote) == {}


# --- counting -------------------------------------------------------------------------------------


def test_a_vote_is_counted_after_it_closes_by_the_convening_body(road, people, green):
    vote = notice(road, green["committee"])
    with time_machine.travel(DURING, tick=False), pytest.raises(InvalidTransition):
        services.vote_count(actor=green["committee"], vote=vote)
    with pytest.raises(PermissionDenied):
        count(vote, people["worker"])


def test_the_owners_pass_the_plan_it_is_adopted_and_built(road, people, green):
    adopt_e_voting(green)
    vote = notice(road, green["committee"])
    online(vote, green["wang"], green["b1_101"])  # 170 ㎡, one owner
    online(vote, green["zhang"], green["b2_101"])  # 100 ㎡, co-owners as one
    paper(vote, green["committee"], green["b1_201"])  # 70 ㎡
    paper(vote, green["committee"], green["b2_102"], choice="disagree")  # 60 ㎡
    vote = count(vote, green["committee"])
    assert vote.state == VoteState.COUNTED
    assert vote.passed is True
    result = selectors.vote_result_for(user=green["wang"], vote=vote)
    # 4 of 5 owners and 400 of 500 ㎡ took part; 3 of 4 owners and 340 of 400 ㎡ agreed.
    assert result.participation_area_ratio == Fraction(4, 5)
    assert result.participation_owner_ratio == Fraction(4, 5)
    assert result.approval_area_ratio == Fraction(17, 20)
    assert result.approval_owner_ratio == Fraction(3, 4)
    assert result.approval_threshold == Fraction(3, 4)
    assert vote.result["approval_owner_ratio"] == "3/4"
    assert vote.result["ballots_by_channel"] == {"online": 3, "paper": 2}
    road.refresh_from_db()
    assert road.state == PlanState.ADOPTED
    road.topic.refresh_from_db()
    assert road.topic.state == TopicState.IMPLEMENTING
    assert selectors.choice_counts(vote=vote) == {"agree": 4, "disagree": 1, "abstain": 0}
    with pytest.raises(InvalidTransition):
        count(vote, green["committee"])


def test_a_failed_vote_sends_the_topic_back_to_planning(road, green):
    vote = notice(road, green["committee"])
    paper(vote, green["committee"], green["b1_101"])
    paper(vote, green["committee"], green["b1_201"])
    vote = count(vote, green["committee"])
    assert vote.passed is False
    assert "参与表决的业主人数未达到总人数的三分之二" in vote.result["reasons"]
    road.refresh_from_db()
    assert road.state == PlanState.DRAFT
    road.topic.refresh_from_db()
    assert road.topic.state == TopicState.PLANNING
    # The plan may now be revised and put to the owners again.
    services.plan_update(
        actor=green["committee"],
        plan=road,
        title=road.title,
        description="缩小改造范围",
        cost="900000.00",
        requires_owners_vote=True,
        vote_item=Item.REBUILD,
    )
    with pytest.raises(ValidationFailed):
        notice(road, green["committee"])


def test_the_plan_cannot_change_while_the_owners_vote_on_it(road, green):
    notice(road, green["committee"])
    with pytest.raises(InvalidTransition) as error:
        services.plan_funding_set(
            actor=green["committee"], plan=road, shares={FundingSource.GOVERNMENT: "1200000"}
        )
    assert error.value.code == "plan_in_vote"


def test_a_vote_of_some_buildings_counts_only_their_owners(road, green):
    vote = notice(road, green["committee"], buildings=[green["b2"]])
    assert {e.place for e in vote.roll.all()} == {
        green["b2_101"],
        green["b2_102"],
        green["b2_201"],
    }
    paper(vote, green["committee"], green["b2_101"])
    paper(vote, green["committee"], green["b2_102"])
    vote = count(vote, green["committee"])
    result = selectors.vote_result_for(user=green["committee"], vote=vote)
    assert result.total.owners == 3
    assert result.total.area == 260
    assert result.participation_area_ratio == Fraction(160, 260)
    assert vote.passed is False


def test_only_the_committee_records_the_meeting_rules(people, green):
    with pytest.raises(PermissionDenied):
        services.owners_meeting_rules_set(
            actor=people["worker"],
            estate=green["estate"],
            electronic_voting=True,
            adopted_on=date(2025, 1, 1),
        )
    with pytest.raises(ValidationFailed):
        services.owners_meeting_rules_set(
            actor=green["committee"], estate=green["estate"], electronic_voting=True
        )


def test_the_committee_member_role_reaches_only_its_estate(road, people, green):
    role_assign(
        actor=None,
        user=people["owners_committee"],
        role=Role.OWNERS_COMMITTEE,
        place=green["estate"],
    )
    people["owners_committee"].__dict__.pop("_gongzhi_scopes", None)
    vote = notice(road, people["owners_committee"])
    assert vote.convened_by == people["owners_committee"]


def test_a_vote_held_on_paper_before_is_entered_afterwards(road, green):
    """A committee digitising a vote it held on paper: each step carries the time it
    happened, the stack of ballots goes in at once, and nobody is asked to vote."""
    later = at(2026, 5, 10, 9, 0)
    with time_machine.travel(later, tick=False):
        with pytest.raises(ValidationFailed) as error:
            notice(road, green["committee"], now=later + timedelta(minutes=5))
        assert error.value.code == "time_in_future"
        vote = services.vote_notice(
            actor=green["committee"],
            topic=road.topic,
            convener_kind=ConvenerKind.OWNERS_COMMITTEE,
            title="道路改造方案表决",
            description="同意按方案改造",
            item=Item.REBUILD,
            opens_at=OPENS,
            closes_at=CLOSES,
            plan=road,
            now=NOTICED,
        )
        assert not Notification.objects.filter(verb="vote.noticed").exists()
        roll = {e.place: e for e in vote.roll.all()}
        ballots = services.ballots_enter(
            actor=green["committee"],
            vote=vote,
            ballots=[
                services.BallotSpec(roll[green["b1_101"]], "agree"),
                services.BallotSpec(roll[green["b1_201"]], "agree"),
                services.BallotSpec(
                    roll[green["b2_101"]],
                    "agree",
                    BallotChannel.PROXY,
                    proxy_holder="张小伟",
                    proxy_note="委托书原件存业委会",
                ),
                services.BallotSpec(roll[green["b2_102"]], "abstain"),
            ],
            now=DURING,
        )
        assert len(ballots) == 5  # 王's two homes are one owner's ballot
        assert {b.cast_at for b in ballots} == {DURING}
        assert AuditEvent.objects.filter(verb="vote.ballot_mixed").count() == 4
        with pytest.raises(Conflict):
            services.ballots_enter(
                actor=green["committee"],
                vote=vote,
                ballots=[services.BallotSpec(roll[green["b1_102"]], "disagree")],
                now=DURING,
            )
        vote = services.vote_count(actor=green["committee"], vote=vote, now=AFTER)
    assert vote.passed
    assert vote.counted_at == AFTER
    events = {e.kind: e.at for e in road.topic.events.all()}
    assert events["vote_convened"] == NOTICED
    assert events["vote_counted"] == AFTER
    assert events["plan_adopted"] == AFTER
