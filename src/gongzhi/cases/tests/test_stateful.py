"""A stateful property test: random sequences of actions by different people, with time
passing and the clock checker running, never reach an impossible state.

After every step the invariants are checked on every case: the timeline's state changes
chain from `reported` to the current state, reopen counts match reopen events, a closed
case has a follow-up (or its topic), a refused action changes nothing, a successful one
moves along an edge of the graph, and no alarm is left waiting on a finished case.
"""

import itertools
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from gongzhi.cases.models import (
    Case,
    CaseEvent,
    CaseHandler,
    Channel,
    ClockAlarm,
    EventKind,
    FollowUp,
    FollowUpOutcome,
    HandlerKind,
)
from gongzhi.cases.services import (
    case_complete,
    case_decline,
    case_follow_up,
    case_merge,
    case_pause,
    case_reopen,
    case_report,
    case_respond,
    case_resume,
    case_start,
    case_to_topic,
    cases_close_for_topic,
    cases_close_unanswered,
    clock_alarms_fire,
)
from gongzhi.cases.states import OPEN_STATES, PAUSABLE_STATES, CaseState
from gongzhi.core.errors import Conflict, DomainError

from .conftest import at, png

ACTORS = [
    "resident",
    "neighbour",
    "grid_worker",
    "grid_leader",
    "worker",
    "secretary",
    "property",
    "mediator",
    "supervisor",
    "volunteer",
    "other_worker",
]
TOPIC = "deliberation.topic:1"

# Where a successful action may take a case: (state before) → allowed states after.
EXPECTED = {
    "respond": {CaseState.REPORTED: {CaseState.RESPONDED}},
    "start": {CaseState.RESPONDED: {CaseState.IN_PROGRESS}},
    "pause": {s: {CaseState.PAUSED} for s in PAUSABLE_STATES},
    "resume": {CaseState.PAUSED: PAUSABLE_STATES},
    "complete": {CaseState.IN_PROGRESS: {CaseState.COMPLETED}},
    "follow_up_good": {CaseState.COMPLETED: {CaseState.CLOSED}},
    "follow_up_bad": {CaseState.COMPLETED: {CaseState.IN_PROGRESS}},
    "reopen": {
        s: {CaseState.IN_PROGRESS}
        for s in (CaseState.COMPLETED, CaseState.FOLLOWED_UP, CaseState.CLOSED)
    },
    "decline": {s: {CaseState.DECLINED} for s in (CaseState.REPORTED, CaseState.RESPONDED)},
    "to_topic": {s: {CaseState.TO_TOPIC} for s in OPEN_STATES},
    "merge": {s: {CaseState.MERGED} for s in OPEN_STATES},
}


# The forward path weighs more than the side paths, so long lifecycles are common.
NEXT_STEPS = {
    CaseState.REPORTED: ["respond", "respond", "respond", "decline", "to_topic", "merge"],
    CaseState.RESPONDED: ["start", "start", "start", "pause", "decline", "merge"],
    CaseState.IN_PROGRESS: ["complete", "complete", "complete", "pause", "to_topic"],
    CaseState.PAUSED: ["resume", "resume", "merge"],
    CaseState.COMPLETED: ["follow_up_good", "follow_up_bad", "reopen"],
    CaseState.CLOSED: ["reopen"],
}


def perform(action, actor, case, other, expected_version=None):
    v = {"expected_version": expected_version}
    if action == "respond":
        return case_respond(actor=actor, case=case, **v)
    if action == "start":
        return case_start(actor=actor, case=case, **v)
    if action == "pause":
        return case_pause(actor=actor, case=case, reason="等待第三方", **v)
    if action == "resume":
        return case_resume(actor=actor, case=case, **v)
    if action == "complete":
        return case_complete(actor=actor, case=case, note="已处理", photos=[png()], **v)
    if action == "follow_up_good":
        return case_follow_up(actor=actor, case=case, resolved=True, satisfaction="satisfied", **v)
    if action == "follow_up_bad":
        return case_follow_up(
            actor=actor, case=case, resolved=False, satisfaction="unsatisfied", **v
        )
    if action == "reopen":
        return case_reopen(actor=actor, case=case, reason="问题依旧", **v)
    if action == "decline":
        return case_decline(actor=actor, case=case, reason="不属于本社区", referral="12345", **v)
    if action == "to_topic":
        return case_to_topic(actor=actor, case=case, note="需要共商", topic_ref=TOPIC, **v)
    if action == "merge":
        return case_merge(actor=actor, case=case, into=other, **v)
    raise AssertionError(action)


def assert_case_consistent(case):
    """What must hold of any case after any sequence of actions, by anyone, at any time."""
    assert case.state in CaseState.values
    changes = list(
        CaseEvent.objects.filter(case=case)
        .exclude(to_state="")
        .order_by("at", "pk")
        .values_list("from_state", "to_state")
    )
    assert changes[0] == ("", CaseState.REPORTED)
    for (_, previous), (source, _) in itertools.pairwise(changes):
        assert source == previous
    assert changes[-1][1] == case.state
    reopens = CaseEvent.objects.filter(case=case, kind=EventKind.REOPENED).count()
    assert case.reopen_count == reopens
    if case.state == CaseState.PAUSED:
        assert case.paused_at is not None and case.paused_from in PAUSABLE_STATES
    else:
        assert case.paused_at is None and case.paused_from == ""
    if case.state == CaseState.COMPLETED:
        assert case.completed_at and case.completed_by_id
    if case.state in OPEN_STATES:
        assert case.completed_at is None and case.topic_at is None
    if case.state == CaseState.CLOSED:
        follow_up = FollowUp.objects.filter(case=case, round=case.reopen_count).first()
        assert follow_up is not None or case.topic_at is not None
        if follow_up is not None and follow_up.outcome == FollowUpOutcome.ANSWERED:
            assert follow_up.is_positive
    if case.state == CaseState.MERGED:
        target = case.merged_into
        assert target is not None and target.state != CaseState.MERGED
    if case.state == CaseState.DECLINED:
        assert case.decline_reason
    if case.state not in (CaseState.REPORTED, CaseState.MERGED):
        assert case.responded_at is not None
    if case.state not in OPEN_STATES:
        assert not ClockAlarm.objects.filter(
            case=case, fired_at__isnull=True, cancelled_at__isnull=True
        ).exists()
    leads = CaseHandler.objects.filter(case=case, kind=HandlerKind.LEAD, is_active=True)
    assert leads.count() <= 1
    assert case.lead_id == (leads.first().user_id if leads else None)
    assert not FollowUp.objects.filter(
        case=case, outcome=FollowUpOutcome.NO_ANSWER, resolved__isnull=False
    ).exists()


@pytest.mark.django_db
def test_random_lifecycles_never_reach_an_impossible_state(tree, people, category, resident_at):
    people = dict(people)
    people["neighbour"] = resident_at(tree["dwelling_102"])
    places = [tree["dwelling"], tree["dwelling_102"], tree["dwelling_201"]]
    # Made before the machine runs: each run rolls back what it wrote.
    households = {place.pk: resident_at(place) for place in places}
    codes = ["street_light", "drain_blocked", "parking_dispute", "gas_smell"]

    class CaseLifecycle(RuleBasedStateMachine):
        cases = Bundle("cases")

        def __init__(self):
            super().__init__()
            self.savepoint = transaction.atomic()
            self.savepoint.__enter__()
            self.traveller = time_machine.travel(at(2026, 11, 27, 9, 0), tick=False)
            self.clock = self.traveller.start()
            self.versions: dict[int, int] = {}

        def teardown(self):
            self.traveller.stop()
            transaction.set_rollback(True)
            self.savepoint.__exit__(None, None, None)

        @rule(
            target=cases,
            who=st.sampled_from(["household", "volunteer"]),
            place=st.sampled_from(places),
            code=st.sampled_from(codes),
        )
        def report(self, who, place, code):
            # A household reports about its own home; a volunteer's patrol finds anything.
            volunteer = who == "volunteer"
            case = case_report(
                actor=people["volunteer"] if volunteer else households[place.pk],
                place=place,
                category=category[code],
                text="楼道里的问题需要处理",
                channel=Channel.PATROL if volunteer else Channel.RESIDENT_PAGE,
            )
            self.versions[case.pk] = case.version
            return case.pk

        @rule(
            pk=cases,
            other=cases,
            action=st.sampled_from(sorted(EXPECTED)),
            who=st.sampled_from(ACTORS),
        )
        def act(self, pk, other, action, who):
            """Anyone tries anything: mostly refused, and a refusal changes nothing."""
            self.attempt(pk, other, action, people[who])

        @rule(pk=cases, other=cases, path=st.lists(st.integers(0, 11), min_size=1, max_size=6))
        def take_next_steps(self, pk, other, path):
            """Someone entitled takes steps the case's state allows, one after the other,
            so that cases travel the whole loop and its side paths."""
            for choice in path:
                case = Case.objects.get(pk=pk)
                options = NEXT_STEPS.get(case.state)
                if not options:
                    return
                action = options[choice % len(options)]
                if action in ("follow_up_good", "follow_up_bad", "reopen"):
                    candidates = [case.reporter, people["worker"], people["grid_leader"]]
                elif action in ("decline", "to_topic", "merge"):
                    candidates = [people["worker"], people["secretary"], case.lead]
                else:
                    candidates = [case.lead, case.lead, people["secretary"]]
                actor = candidates[choice % 3] or people["secretary"]
                self.attempt(pk, other, action, actor)

        def attempt(self, pk, other, action, actor):
            before = Case.objects.get(pk=pk)
            try:
                perform(action, actor, before, Case.objects.get(pk=other))
            except DomainError:
                after = Case.objects.get(pk=pk)
                assert (after.state, after.version) == (before.state, before.version)
                return
            after = Case.objects.get(pk=pk)
            assert after.version > before.version
            assert after.state in EXPECTED[action][before.state]
            if action == "resume":
                assert after.state == before.paused_from

        @rule(pk=cases, who=st.sampled_from(ACTORS))
        def act_on_a_stale_page(self, pk, who):
            case = Case.objects.get(pk=pk)
            if case.version == 1:
                return
            try:
                case_respond(actor=people[who], case=case, expected_version=case.version - 1)
            except Conflict as conflict:
                assert conflict.details == {"state": case.state, "version": case.version}
            except DomainError:
                pass  # not theirs to see or to do: refused before the version is compared
            else:
                raise AssertionError("a stale version was accepted")
            assert Case.objects.get(pk=pk).version == case.version

        @rule(minutes=st.integers(1, 5 * 24 * 60))
        def time_passes(self, minutes):
            self.clock.shift(timedelta(minutes=minutes))
            clock_alarms_fire()
            cases_close_unanswered()

        @rule()
        def the_topic_plan_is_done(self):
            cases_close_for_topic(actor=people["secretary"], topic_ref=TOPIC, note="方案已落实")

        @invariant()
        def every_case_is_consistent(self):
            for case in Case.objects.all():
                self.check(case)

        def check(self, case):
            assert case.version >= self.versions.get(case.pk, 1)
            self.versions[case.pk] = case.version
            assert_case_consistent(case)

    run_state_machine_as_test(
        CaseLifecycle,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
