"""The state graph of rules §1, tested without a database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.cases.states import (
    FINAL_STATES,
    OPEN_STATES,
    PAUSABLE_STATES,
    TRANSITIONS,
    CaseAction,
    CaseState,
    allowed_actions,
    next_state,
)
from gongzhi.core.errors import InvalidTransition

S, A = CaseState, CaseAction

# The graph as rules.md §1 states it, written out independently of the module's table.
EXPECTED = {
    (S.REPORTED, A.RESPOND): S.RESPONDED,
    (S.RESPONDED, A.START): S.IN_PROGRESS,
    (S.RESPONDED, A.PAUSE): S.PAUSED,
    (S.IN_PROGRESS, A.PAUSE): S.PAUSED,
    (S.IN_PROGRESS, A.COMPLETE): S.COMPLETED,
    (S.COMPLETED, A.FOLLOW_UP): S.FOLLOWED_UP,
    (S.FOLLOWED_UP, A.CLOSE): S.CLOSED,
    (S.COMPLETED, A.CLOSE_UNANSWERED): S.CLOSED,
    (S.COMPLETED, A.REOPEN): S.IN_PROGRESS,
    (S.FOLLOWED_UP, A.REOPEN): S.IN_PROGRESS,
    (S.CLOSED, A.REOPEN): S.IN_PROGRESS,
    (S.REPORTED, A.DECLINE): S.DECLINED,
    (S.RESPONDED, A.DECLINE): S.DECLINED,
    (S.TO_TOPIC, A.CLOSE_FOR_TOPIC): S.CLOSED,
    **{(state, A.MERGE): S.MERGED for state in (S.REPORTED, S.RESPONDED, S.IN_PROGRESS, S.PAUSED)},
    **{
        (state, A.TO_TOPIC): S.TO_TOPIC
        for state in (S.REPORTED, S.RESPONDED, S.IN_PROGRESS, S.PAUSED)
    },
}


@pytest.mark.parametrize("state", CaseState.values)
@pytest.mark.parametrize("action", [a for a in CaseAction.values if a != A.RESUME])
def test_every_state_and_action_follows_the_rules(state, action):
    expected = EXPECTED.get((state, action))
    if expected is None:
        with pytest.raises(InvalidTransition) as refused:
            next_state(state, action)
        # The message names the current state and the action, in Chinese.
        assert str(CaseState(state).label) in str(refused.value.message)
        assert str(CaseAction(action).label) in str(refused.value.message)
        assert refused.value.details == {"state": state, "action": action}
    else:
        assert next_state(state, action) == expected


@pytest.mark.parametrize("paused_from", [S.RESPONDED, S.IN_PROGRESS])
def test_resume_returns_to_where_the_case_was_paused(paused_from):
    assert next_state(S.PAUSED, A.RESUME, paused_from=paused_from) == paused_from


@pytest.mark.parametrize("paused_from", ["", S.REPORTED, S.COMPLETED])
def test_resume_refuses_a_state_that_cannot_have_been_paused(paused_from):
    with pytest.raises(InvalidTransition):
        next_state(S.PAUSED, A.RESUME, paused_from=paused_from)


@pytest.mark.parametrize("state", [s for s in CaseState.values if s != S.PAUSED])
def test_only_a_paused_case_resumes(state):
    with pytest.raises(InvalidTransition, match="恢复办理"):
        next_state(state, A.RESUME, paused_from=S.IN_PROGRESS)


def test_merged_and_declined_cases_accept_nothing():
    assert allowed_actions(S.MERGED) == frozenset()
    assert allowed_actions(S.DECLINED) == frozenset()
    # A closed case can only be reopened by a complaint.
    assert allowed_actions(S.CLOSED) == {A.REOPEN}


def test_unknown_action_is_refused():
    with pytest.raises(InvalidTransition):
        next_state(S.REPORTED, "teleport")


actions = st.sampled_from(CaseAction.values)


@given(st.lists(actions, max_size=40))
def test_random_walks_stay_inside_the_graph(sequence):
    """Whatever is attempted in whatever order, a case only ever moves along an edge of
    the graph, and resuming returns exactly to the state it was paused from."""
    state, paused_from = S.REPORTED, ""
    for action in sequence:
        try:
            target = next_state(state, action, paused_from=paused_from)
        except InvalidTransition:
            assert action not in allowed_actions(state) or action == A.RESUME
            continue
        if action == A.RESUME:
            assert state == S.PAUSED and target == paused_from
            paused_from = ""
        else:
            assert (state, action) in EXPECTED and EXPECTED[(state, action)] == target
        if target == S.PAUSED:
            assert state in PAUSABLE_STATES
            paused_from = state
        assert target in CaseState.values
        state = target


def test_state_sets_are_consistent():
    assert OPEN_STATES.isdisjoint(FINAL_STATES)
    assert PAUSABLE_STATES <= OPEN_STATES
    # Every edge in the table is one the rules list (and RESUME is handled apart).
    listed = {(s, a) for a, targets in TRANSITIONS.items() for s in targets if a != A.RESUME}
    assert listed == set(EXPECTED)
