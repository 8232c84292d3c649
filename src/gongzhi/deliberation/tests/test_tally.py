"""The owners' vote tally against rules.md §4, and simple polls.

The property tests compare `owners_vote_tally` with a reference written here in another
way: areas in whole hundredths of a square metre, thresholds checked by integer
cross-multiplication (3·part ≥ 2·all rather than part/all ≥ 2/3), owners grouped by a
plain dict. The two share nothing but the inputs.
"""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongzhi.deliberation.tally import (
    DEVELOPER,
    Ballot,
    BallotChannel,
    BallotChoice,
    ExclusivePart,
    Item,
    TallyError,
    owners_vote_tally,
    poll_tally,
)

AGREE, DISAGREE, ABSTAIN = BallotChoice.AGREE, BallotChoice.DISAGREE, BallotChoice.ABSTAIN


def parts_of(*areas, owners=None):
    """One part per area, each with its own owner unless `owners` says otherwise."""
    owners = owners or [f"o{i}" for i in range(len(areas))]
    return [
        ExclusivePart(key=f"p{i}", area=Decimal(str(a)), owner=o)
        for i, (a, o) in enumerate(zip(areas, owners, strict=True))
    ]


def ballots(**choices):
    return [Ballot(part=key, choice=choice) for key, choice in choices.items()]


# --- the reference ---------------------------------------------------------------------


def reference(item, register, votes):
    """register: [(cents, owner, developer)]; votes: {part index: choice} (one choice per
    owner). Returns (quorum, approval) as the rule's words say them, in integers."""
    holder = [DEVELOPER if dev else owner for _cents, owner, dev in register]
    cents_of: dict[str, int] = {}
    for (cents, _owner, _dev), who in zip(register, holder, strict=True):
        cents_of[who] = cents_of.get(who, 0) + cents
    took_part = {holder[i]: choice for i, choice in votes.items()}
    all_cents, all_heads = sum(cents_of.values()), len(cents_of)
    part_cents = sum(cents_of[w] for w in took_part)
    part_heads = len(took_part)
    yes = [w for w, c in took_part.items() if c == AGREE]
    yes_cents, yes_heads = sum(cents_of[w] for w in yes), len(yes)
    quorum = 3 * part_cents >= 2 * all_cents and 3 * part_heads >= 2 * all_heads
    if item in (6, 7, 8):
        approval = 4 * yes_cents >= 3 * part_cents and 4 * yes_heads >= 3 * part_heads
    else:
        approval = 2 * yes_cents > part_cents and 2 * yes_heads > part_heads
    approval = approval and part_heads > 0
    return quorum and all_heads > 0, approval, (part_cents, part_heads, yes_cents, yes_heads)


@st.composite
def elections(draw):
    size = draw(st.integers(min_value=1, max_value=25))
    pool = draw(st.integers(min_value=1, max_value=size))
    # Equal areas half of the time, so the ratios land exactly on 2/3, 3/4 and 1/2 often.
    same = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=30000)))
    register = [
        (
            same or draw(st.integers(min_value=1, max_value=30000)),
            f"o{draw(st.integers(min_value=0, max_value=pool - 1))}",
            draw(st.booleans()) and draw(st.booleans()),
        )
        for _ in range(size)
    ]
    holder = [DEVELOPER if dev else owner for _c, owner, dev in register]
    # Each owner decides once (or stays away); their ballots go on some of their parts.
    decision = {
        who: draw(st.sampled_from([None, AGREE, AGREE, DISAGREE, ABSTAIN]))
        for who in sorted(set(holder))
    }
    votes: dict[int, str] = {}
    for i, who in enumerate(holder):
        if decision[who] is not None and (i == holder.index(who) or draw(st.booleans())):
            votes[i] = decision[who]
    item = draw(st.sampled_from(Item.values))
    return item, register, votes


def run(item, register, votes):
    parts = [
        ExclusivePart(key=f"p{i}", area=Decimal(cents) / 100, owner=owner, developer_unsold=dev)
        for i, (cents, owner, dev) in enumerate(register)
    ]
    channels = list(BallotChannel.values)
    return owners_vote_tally(
        item=item,
        parts=parts,
        ballots=[Ballot(part=f"p{i}", choice=c, channel=channels[i % 3]) for i, c in votes.items()],
    )


@settings(max_examples=400, deadline=None)
@given(elections())
def test_the_tally_agrees_with_the_reference(election):
    item, register, votes = election
    result = run(item, register, votes)
    quorum, approval, (part_cents, part_heads, yes_cents, yes_heads) = reference(*election)
    assert result.quorum_met == quorum
    assert result.approval_met == approval
    assert result.passed == (quorum and approval)
    assert result.participating.area == Fraction(part_cents, 100)
    assert result.participating.owners == part_heads
    assert result.agree.area == Fraction(yes_cents, 100)
    assert result.agree.owners == yes_heads


@settings(max_examples=200, deadline=None)
@given(elections())
def test_counting_is_exact_and_consistent(election):
    result = run(*election)
    for ratio in (
        result.participation_area_ratio,
        result.participation_owner_ratio,
        result.approval_area_ratio,
        result.approval_owner_ratio,
    ):
        assert isinstance(ratio, Fraction)
        assert 0 <= ratio <= 1
    sides = (result.agree, result.disagree, result.abstain)
    assert sum(s.area for s in sides) == result.participating.area
    assert sum(s.owners for s in sides) == result.participating.owners
    assert result.participating.owners <= result.total.owners
    assert sum(result.ballots_by_channel.values()) == len(election[2])


@settings(max_examples=150, deadline=None)
@given(elections())
def test_ballot_order_does_not_change_the_result(election):
    item, register, votes = election
    forward = run(item, register, votes)
    backward = run(item, register, dict(reversed(list(votes.items()))))
    assert forward.as_dict() == backward.as_dict()


# --- boundaries --------------------------------------------------------------------------


def test_exactly_two_thirds_taking_part_meets_the_quorum():
    # 3 owners of 100 m² each; two take part: 2/3 of the area and 2/3 of the owners.
    result = owners_vote_tally(
        item=Item.USE_FUND, parts=parts_of(100, 100, 100), ballots=ballots(p0=AGREE, p1=AGREE)
    )
    assert result.participation_area_ratio == Fraction(2, 3)
    assert result.participation_owner_ratio == Fraction(2, 3)
    assert result.quorum_met
    assert result.passed


def test_just_under_two_thirds_of_the_area_misses_the_quorum():
    result = owners_vote_tally(
        item=Item.USE_FUND,
        parts=parts_of("99.99", "99.99", "100.03"),
        ballots=ballots(p0=AGREE, p1=AGREE),
    )
    assert result.participation_owner_ratio == Fraction(2, 3)
    assert result.participation_area_ratio < Fraction(2, 3)
    assert not result.quorum_met
    assert not result.passed
    assert "面积未达到总面积的三分之二" in result.reasons[0]


def test_quorum_needs_the_head_count_too():
    # One big owner takes part with 80 % of the area, but only 1 of 3 owners.
    result = owners_vote_tally(
        item=Item.USE_FUND, parts=parts_of(800, 100, 100), ballots=ballots(p0=AGREE)
    )
    assert result.participation_area_ratio == Fraction(4, 5)
    assert not result.quorum_met
    assert result.reasons == ("参与表决的业主人数未达到总人数的三分之二",)


def test_exactly_three_quarters_approves_items_six_to_eight():
    parts = parts_of(100, 100, 100, 100)
    votes = ballots(p0=AGREE, p1=AGREE, p2=AGREE, p3=DISAGREE)
    for item in (Item.RAISE_FUND, Item.REBUILD, Item.CHANGE_USE):
        result = owners_vote_tally(item=item, parts=parts, ballots=votes)
        assert result.approval_area_ratio == Fraction(3, 4)
        assert result.approval_owner_ratio == Fraction(3, 4)
        assert result.approval_threshold == Fraction(3, 4)
        assert result.approval_inclusive
        assert result.passed, item


def test_just_under_three_quarters_fails_items_six_to_eight():
    parts = parts_of("100.01", 100, 100, "100.02")
    result = owners_vote_tally(
        item=Item.REBUILD, parts=parts, ballots=ballots(p0=AGREE, p1=AGREE, p2=AGREE, p3=DISAGREE)
    )
    assert result.approval_owner_ratio == Fraction(3, 4)
    assert result.approval_area_ratio < Fraction(3, 4)
    assert not result.passed
    assert "同意的专有部分面积未达到参与表决面积的四分之三以上（含本数）" in result.reasons


def test_exactly_half_fails_a_majority_item():
    parts = parts_of(100, 100, 100, 100)
    votes = ballots(p0=AGREE, p1=AGREE, p2=DISAGREE, p3=ABSTAIN)
    for item in (1, 2, 3, 4, 5, 9):
        result = owners_vote_tally(item=item, parts=parts, ballots=votes)
        assert result.approval_area_ratio == Fraction(1, 2)
        assert result.approval_threshold == Fraction(1, 2)
        assert not result.approval_inclusive
        assert not result.passed, item
        assert "过半数（不含本数）" in result.reasons[0]


def test_more_than_half_passes_a_majority_item_but_not_item_seven():
    parts = parts_of(100, 100, 100)
    votes = ballots(p0=AGREE, p1=AGREE, p2=DISAGREE)
    assert owners_vote_tally(item=Item.USE_FUND, parts=parts, ballots=votes).passed
    assert not owners_vote_tally(item=Item.REBUILD, parts=parts, ballots=votes).passed


def test_abstaining_takes_part_but_does_not_agree():
    parts = parts_of(100, 100, 100)
    result = owners_vote_tally(
        item=Item.USE_FUND, parts=parts, ballots=ballots(p0=AGREE, p1=ABSTAIN, p2=ABSTAIN)
    )
    assert result.quorum_met
    assert result.participating.owners == 3
    assert result.approval_owner_ratio == Fraction(1, 3)
    assert not result.passed


def test_approval_is_measured_against_those_who_took_part():
    # 7 of 9 owners take part; 6 agree: 6/7 of participants, although only 6/9 of all.
    result = owners_vote_tally(
        item=Item.REBUILD,
        parts=parts_of(*[100] * 9),
        ballots=ballots(**{f"p{i}": AGREE for i in range(6)}, p6=DISAGREE),
    )
    assert result.approval_owner_ratio == Fraction(6, 7)
    assert result.passed


# --- who counts as one owner -------------------------------------------------------------


def test_the_developers_unsold_units_count_as_one_owner():
    parts = [
        ExclusivePart(key="a", area=100, owner="alice"),
        ExclusivePart(key="b", area=100, owner="bob"),
        ExclusivePart(key="u1", area=100, owner="developer-co", developer_unsold=True),
        ExclusivePart(key="u2", area=100, owner="developer-co", developer_unsold=True),
        ExclusivePart(key="u3", area=100, owner="", developer_unsold=True),
    ]
    result = owners_vote_tally(
        item=Item.USE_FUND,
        parts=parts,
        ballots=[Ballot(part="a", choice=AGREE), Ballot(owner=DEVELOPER, choice=DISAGREE)],
    )
    assert result.total.owners == 3
    assert result.total.area == 500
    # The developer took part with all 300 m² of unsold units, as one owner.
    assert result.participating == type(result.participating)(area=Fraction(400), owners=2)
    assert result.disagree.area == 300


def test_one_buyer_of_several_units_is_one_owner_with_all_their_area():
    parts = [
        ExclusivePart(key="101", area=90, owner="wang"),
        ExclusivePart(key="102", area=80, owner="wang"),
        ExclusivePart(key="201", area=70, owner="li"),
    ]
    result = owners_vote_tally(
        item=Item.USE_FUND, parts=parts, ballots=[Ballot(part="101", choice=AGREE)]
    )
    assert result.total.owners == 2
    assert result.participating.owners == 1
    assert result.participating.area == 170
    assert result.participation_area_ratio == Fraction(170, 240)


def test_one_owners_ballots_must_agree():
    parts = [
        ExclusivePart(key="101", area=90, owner="wang"),
        ExclusivePart(key="102", area=80, owner="wang"),
    ]
    with pytest.raises(TallyError) as error:
        owners_vote_tally(
            item=Item.USE_FUND,
            parts=parts,
            ballots=[Ballot(part="101", choice=AGREE), Ballot(part="102", choice=DISAGREE)],
        )
    assert error.value.code == "inconsistent_owner"


def test_one_ballot_per_exclusive_part():
    with pytest.raises(TallyError) as error:
        owners_vote_tally(
            item=Item.USE_FUND,
            parts=parts_of(100, 100),
            ballots=[Ballot(part="p0", choice=AGREE), Ballot(part="p0", choice=AGREE)],
        )
    assert error.value.code == "duplicate_ballot"


def test_co_owners_cast_one_ballot_through_their_representative():
    shared = ExclusivePart(
        key="301", area=100, owner="zhang+zhou", co_owners=("zhang", "zhou"), representative="zhou"
    )
    parts = [shared, ExclusivePart(key="302", area=100, owner="qian")]
    result = owners_vote_tally(
        item=Item.USE_FUND,
        parts=parts,
        ballots=[Ballot(part="301", choice=AGREE, cast_by="zhou")],
    )
    assert result.total.owners == 2
    assert result.agree.owners == 1
    with pytest.raises(TallyError) as error:
        owners_vote_tally(
            item=Item.USE_FUND,
            parts=parts,
            ballots=[Ballot(part="301", choice=AGREE, cast_by="zhang")],
        )
    assert error.value.code == "not_representative"
    # A written proxy is handed in by the proxy holder, not the representative.
    proxied = owners_vote_tally(
        item=Item.USE_FUND,
        parts=parts,
        ballots=[
            Ballot(part="301", choice=AGREE, cast_by="neighbour", channel=BallotChannel.PROXY)
        ],
    )
    assert proxied.ballots_by_channel == {"proxy": 1}


def test_a_ballot_from_outside_the_register_is_refused():
    with pytest.raises(TallyError) as error:
        owners_vote_tally(
            item=Item.USE_FUND, parts=parts_of(100), ballots=[Ballot(part="p9", choice=AGREE)]
        )
    assert error.value.code == "not_in_register"


def test_the_register_must_have_areas_and_owners():
    with pytest.raises(TallyError) as error:
        owners_vote_tally(item=Item.USE_FUND, parts=parts_of(0), ballots=[])
    assert error.value.code == "invalid_area"
    with pytest.raises(TallyError) as error:
        owners_vote_tally(
            item=Item.USE_FUND, parts=[ExclusivePart(key="x", area=1, owner="")], ballots=[]
        )
    assert error.value.code == "missing_owner"


def test_floats_are_refused():
    with pytest.raises(TypeError):
        owners_vote_tally(
            item=Item.USE_FUND,
            parts=[ExclusivePart(key="x", area=89.5, owner="a")],
            ballots=[],
        )


def test_an_item_outside_article_278_is_refused():
    with pytest.raises(TallyError) as error:
        owners_vote_tally(item=10, parts=parts_of(100), ballots=[])
    assert error.value.code == "invalid_item"


def test_the_items_are_article_278s_nine():
    assert Item.values == list(range(1, 10))
    assert str(Item.REBUILD.label) == "（七）改建、重建建筑物及其附属设施"


def test_an_empty_vote_fails_without_dividing_by_zero():
    result = owners_vote_tally(item=Item.USE_FUND, parts=[], ballots=[])
    assert not result.passed
    assert result.participation_area_ratio == 0


def test_the_stored_record_keeps_exact_fractions():
    result = owners_vote_tally(
        item=Item.REBUILD,
        parts=parts_of("89.50", "75.20", "100.00"),
        ballots=ballots(p0=AGREE, p1=AGREE),
    )
    record = result.as_dict()
    assert record["participation_area_ratio"] == "1647/2647"
    assert Fraction(record["participation_area_ratio"]) == Fraction(16470, 26470)
    assert record["approval_threshold"] == "3/4"
    assert record["quorum_threshold"] == "2/3"
    assert record["item"] == 7


# --- simple polls --------------------------------------------------------------------------


def test_poll_turnout_is_against_everyone_eligible():
    result = poll_tally(
        eligible=100, counts={"a": 30, "b": 10}, quorum=Fraction(1, 2), majority=Fraction(1, 2)
    )
    assert result.turnout == Fraction(40, 100)
    assert result.leading == "a"
    assert result.leading_share == Fraction(3, 4)
    assert not result.quorum_met
    assert not result.passed


def test_poll_majority_boundary_follows_the_organisers_setting():
    counts = {"yes": 25, "no": 25, "maybe": 0}
    tie = poll_tally(eligible=60, counts=counts, quorum=Fraction(1, 2))
    assert tie.leading == ""
    assert not tie.passed
    half = {"yes": 30, "no": 20, "maybe": 10}
    strict = poll_tally(eligible=60, counts=half, quorum=Fraction(1, 2))
    assert strict.leading_share == Fraction(1, 2)
    assert not strict.majority_met
    inclusive = poll_tally(eligible=60, counts=half, quorum=Fraction(1, 2), majority_inclusive=True)
    assert inclusive.passed


def test_poll_refuses_more_answers_than_people():
    with pytest.raises(TallyError):
        poll_tally(eligible=3, counts={"a": 4}, quorum=Fraction(0))
