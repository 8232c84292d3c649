"""The stateful property test again, with people acting at the same moment.

Each race starts two or three steps on one case at once, from threads with their own
database connections, all from the same page (the same `expected_version`), sometimes
while the clock checker runs. Whatever the interleaving: at most one step wins and it
moves the case along an edge of the graph; every other is refused with an answer a person
understands (never a deadlock or a server error on PostgreSQL) and changes nothing; every
alarm fires once, even with two checkers at once; and every case stays consistent
(`assert_case_consistent`, shared with the single-threaded machine).
"""

import threading
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.db import OperationalError, close_old_connections, connection
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from gongzhi.cases.models import Case, CaseEvent, Channel, EventKind
from gongzhi.cases.services import case_report, clock_alarms_fire
from gongzhi.core.errors import DomainError

from .conftest import at
from .test_stateful import EXPECTED, NEXT_STEPS, assert_case_consistent, perform


def refusals():
    """What a person acting at the same moment as another may be answered. On the
    in-memory SQLite of the tests (shared cache) a writer that meets another's open
    transaction is refused at once ("table is locked") rather than waiting; on PostgreSQL
    the loser waits and is then told the case changed — a deadlock there is a bug."""
    return (DomainError, OperationalError) if connection.vendor == "sqlite" else (DomainError,)


def at_once(calls):
    """Run every call in its own thread, released together; their results or exceptions."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as exc:  # the outcome under test, checked by the caller
            outcomes[index] = exc
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_people_acting_at_once_never_reach_an_impossible_state(tree, people, category, resident_at):
    places = [tree["dwelling"], tree["dwelling_102"], tree["dwelling_201"]]
    households = {place.pk: resident_at(place) for place in places}
    codes = ["street_light", "drain_blocked", "parking_dispute", "gas_smell"]
    # How races ended, over all examples: the test must really have raced.
    seen: Counter[str] = Counter()

    class PeopleAtOnce(RuleBasedStateMachine):
        cases = Bundle("cases")

        def __init__(self):
            super().__init__()
            self.traveller = time_machine.travel(at(2026, 11, 27, 9, 0), tick=False)
            self.clock = self.traveller.start()
            self.pks: list[int] = []

        def teardown(self):
            self.traveller.stop()

        @rule(target=cases, place=st.sampled_from(places), code=st.sampled_from(codes))
        def report(self, place, code):
            case = case_report(
                actor=households[place.pk],
                place=place,
                category=category[code],
                text="楼道里的问题需要处理",
                channel=Channel.RESIDENT_PAGE,
            )
            self.pks.append(case.pk)
            return case.pk

        @rule(
            pk=cases,
            other=cases,
            picks=st.lists(st.integers(0, 11), min_size=2, max_size=3),
            with_clock_check=st.booleans(),
        )
        def race(self, pk, other, picks, with_clock_check):
            before = Case.objects.get(pk=pk)
            options = NEXT_STEPS.get(before.state)
            if not options:
                return
            target = Case.objects.get(pk=other)
            attempts = []
            for choice in picks:
                action = options[choice % len(options)]
                if action in ("follow_up_good", "follow_up_bad", "reopen"):
                    candidates = [before.reporter, people["worker"], people["grid_leader"]]
                elif action in ("decline", "to_topic", "merge"):
                    candidates = [people["worker"], people["secretary"], before.lead]
                else:
                    candidates = [before.lead, people["secretary"], people["grid_worker"]]
                attempts.append((action, candidates[choice % 3] or people["secretary"]))
            calls = [
                lambda action=action, actor=actor: perform(
                    action, actor, before, target, expected_version=before.version
                )
                for action, actor in attempts
            ]
            if with_clock_check:
                calls.append(clock_alarms_fire)
            outcomes = at_once(calls)

            step_outcomes = outcomes[: len(attempts)]
            for outcome in step_outcomes:
                if isinstance(outcome, Exception):
                    assert isinstance(outcome, refusals()), repr(outcome)
            if with_clock_check and isinstance(outcomes[-1], Exception):
                # A checker that lost a race is simply run again by the next tick.
                assert isinstance(outcomes[-1], OperationalError | DomainError), outcomes[-1]
            winners = [
                action
                for (action, _actor), outcome in zip(attempts, step_outcomes, strict=True)
                if not isinstance(outcome, Exception)
            ]
            after = Case.objects.get(pk=pk)
            seen["races"] += 1
            if winners and len(winners) < len(attempts):
                seen["one_won_the_others_were_refused"] += 1
            assert len(winners) <= 1, (attempts, step_outcomes)
            if winners:
                assert after.version > before.version
                assert after.state in EXPECTED[winners[0]][before.state]
            else:
                assert (after.state, after.version) == (before.state, before.version)

        @rule(minutes=st.integers(1, 3 * 24 * 60))
        def time_passes_and_two_checkers_run_at_once(self, minutes):
            self.clock.shift(timedelta(minutes=minutes))
            for outcome in at_once([clock_alarms_fire, clock_alarms_fire]):
                if isinstance(outcome, Exception):
                    assert isinstance(outcome, OperationalError), repr(outcome)
            clock_alarms_fire()  # what the next tick does after a lost race

        @invariant()
        def every_case_is_consistent_and_every_alarm_fired_once(self):
            for case in Case.objects.filter(pk__in=self.pks):
                assert_case_consistent(case)
            fired = Counter(
                (event.case_id, event.kind, tuple(sorted(event.data.items())))
                for event in CaseEvent.objects.filter(
                    case_id__in=self.pks,
                    kind__in=[EventKind.WARNING, EventKind.OVERDUE, EventKind.SUPERVISED],
                )
            )
            assert all(n == 1 for n in fired.values()), fired

    run_state_machine_as_test(
        PeopleAtOnce,
        settings=settings(
            max_examples=10,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
    assert seen["one_won_the_others_were_refused"] > 0, seen
