"""Follow-up (办结回访, rules §3): the resident's words decide, never the handler's."""

from datetime import timedelta

import pytest
import time_machine

from gongzhi.cases.models import (
    ClockAlarm,
    ClockName,
    EventKind,
    FollowUp,
    FollowUpMethod,
    FollowUpOutcome,
)
from gongzhi.cases.services import (
    case_complete,
    case_follow_up,
    case_respond,
    case_start,
    cases_close_unanswered,
)
from gongzhi.cases.states import CaseState
from gongzhi.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from gongzhi.core.models import Notification

from .conftest import at

COMPLETED = at(2026, 11, 27, 10, 0)


@pytest.fixture
def completed(report, people):
    """A street-light case completed by its grid worker at 10:00."""
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False) as clock:
        case = report()
        case = case_respond(actor=people["grid_worker"], case=case)
        case = case_start(actor=people["grid_worker"], case=case)
        clock.move_to(COMPLETED)
        return case_complete(actor=people["grid_worker"], case=case, note="已更换灯泡")


def test_a_resolved_and_satisfied_call_follows_up_then_closes(completed, people):
    with time_machine.travel(at(2026, 11, 27, 15, 0), tick=False):
        case = case_follow_up(
            actor=people["worker"],
            case=completed,
            resolved=True,
            satisfaction="basically_satisfied",
            method="phone",
            note="居民说灯亮了",
        )
    assert case.state == CaseState.CLOSED
    assert case.followed_up_at == case.closed_at == at(2026, 11, 27, 15, 0)
    steps = list(
        case.events.filter(kind__in=[EventKind.FOLLOWED_UP, EventKind.CLOSED]).values_list(
            "from_state", "to_state"
        )
    )
    assert steps == [("completed", "followed_up"), ("followed_up", "closed")]
    row = FollowUp.objects.get(case=case)
    assert (row.method, row.resolved, row.satisfaction, row.round) == (
        FollowUpMethod.PHONE,
        True,
        "basically_satisfied",
        0,
    )
    assert row.recorded_by == people["worker"]
    assert Notification.objects.filter(
        recipient=people["resident"], verb="case.followed_up"
    ).exists()


def test_the_handler_may_not_follow_up_their_own_case(completed, people):
    with pytest.raises(PermissionDenied):
        case_follow_up(
            actor=people["grid_worker"], case=completed, resolved=True, satisfaction="satisfied"
        )
    assert not FollowUp.objects.exists()


def test_a_co_handler_may_not_follow_up_either(report, people):
    case = report("leak_from_above", text="楼上漏水")
    case = case_respond(actor=people["mediator"], case=case)
    case = case_start(actor=people["mediator"], case=case)
    case = case_complete(actor=people["mediator"], case=case, note="已协调维修")
    with pytest.raises(PermissionDenied):
        case_follow_up(actor=people["property"], case=case, resolved=True, satisfaction="satisfied")
    case = case_follow_up(
        actor=people["grid_leader"], case=case, resolved=True, satisfaction="satisfied"
    )
    assert case.state == CaseState.CLOSED


def test_the_resident_rates_online(completed, people):
    case = case_follow_up(
        actor=people["resident"], case=completed, resolved=True, satisfaction="satisfied"
    )
    assert FollowUp.objects.get(case=case).method == FollowUpMethod.ONLINE
    assert case.state == CaseState.CLOSED


def test_online_is_for_the_reporter_and_calls_for_staff(completed, people):
    with pytest.raises(ValidationFailed, match="反映人本人"):
        case_follow_up(
            actor=people["worker"],
            case=completed,
            resolved=True,
            satisfaction="satisfied",
            method="online",
        )
    with pytest.raises(ValidationFailed, match="工作人员"):
        case_follow_up(
            actor=people["resident"],
            case=completed,
            resolved=True,
            satisfaction="satisfied",
            method="visit",
        )


@pytest.mark.parametrize(
    ("resolved", "satisfaction"),
    [(False, "satisfied"), (True, "unsatisfied"), (False, "unsatisfied")],
)
def test_not_resolved_or_unsatisfied_reopens_the_case(completed, people, resolved, satisfaction):
    with time_machine.travel(at(2026, 11, 27, 18, 0), tick=False):
        case = case_follow_up(
            actor=people["resident"],
            case=completed,
            resolved=resolved,
            satisfaction=satisfaction,
            note="灯还是一闪一闪",
        )
    assert case.state == CaseState.IN_PROGRESS and case.reopen_count == 1
    assert case.completion_due_at == at(2026, 11, 28, 18, 0)
    assert case.next_due_at == case.completion_due_at
    assert (
        ClockAlarm.objects.filter(
            case=case, clock=ClockName.COMPLETION, round=1, fired_at__isnull=True
        ).count()
        == 3
    )
    kinds = list(case.events.values_list("kind", flat=True))[-2:]
    assert kinds == [EventKind.FOLLOWED_UP, EventKind.REOPENED]
    assert Notification.objects.filter(
        recipient=people["grid_worker"], verb="case.reopened"
    ).exists()


def test_every_follow_up_is_kept_across_reopens(completed, people):
    case = case_follow_up(
        actor=people["resident"], case=completed, resolved=False, satisfaction="unsatisfied"
    )
    case = case_complete(actor=people["grid_worker"], case=case, note="更换了整套灯具")
    case = case_follow_up(
        actor=people["resident"], case=case, resolved=True, satisfaction="satisfied"
    )
    rows = list(
        FollowUp.objects.filter(case=case).order_by("round").values_list("round", "resolved")
    )
    assert rows == [(0, False), (1, True)]
    assert case.state == CaseState.CLOSED


def test_a_case_not_completed_cannot_be_followed_up(report, people):
    case = report()
    with pytest.raises(InvalidTransition):
        case_follow_up(actor=people["worker"], case=case, resolved=True, satisfaction="satisfied")
    assert not FollowUp.objects.exists()


def test_answers_must_be_given(completed, people):
    with pytest.raises(ValidationFailed):
        case_follow_up(
            actor=people["worker"], case=completed, resolved=None, satisfaction="satisfied"
        )
    with pytest.raises(ValidationFailed):
        case_follow_up(actor=people["worker"], case=completed, resolved=True, satisfaction="great")


def test_no_answer_after_three_days_closes_without_counting_as_satisfied(completed, people):
    with time_machine.travel(COMPLETED + timedelta(days=3) - timedelta(minutes=1), tick=False):
        assert cases_close_unanswered() == 0
    with time_machine.travel(COMPLETED + timedelta(days=3), tick=False):
        assert cases_close_unanswered() == 1
        assert cases_close_unanswered() == 0  # a second run finds nothing
    completed.refresh_from_db()
    assert completed.state == CaseState.CLOSED
    row = FollowUp.objects.get(case=completed)
    assert row.outcome == FollowUpOutcome.NO_ANSWER
    assert row.resolved is None and row.satisfaction == "" and row.recorded_by is None
    event = completed.events.get(kind=EventKind.NO_ANSWER)
    assert (event.from_state, event.to_state, event.is_public) == ("completed", "closed", True)
    assert "不计为已解决或满意" in event.note


def test_a_follow_up_carries_its_cases_community(completed, people, tree):
    # The rates count a community's follow-ups by this copy of the case's community.
    with time_machine.travel(at(2026, 11, 27, 15, 0), tick=False) as clock:
        case = case_follow_up(
            actor=people["worker"],
            case=completed,
            resolved=False,
            satisfaction="unsatisfied",
            method="phone",
        )
        case = case_complete(actor=people["grid_worker"], case=case, note="更换了整套灯具")
        clock.move_to(at(2026, 12, 1, 16, 0))
        assert cases_close_unanswered() == 1
    rows = list(FollowUp.objects.filter(case=case).order_by("round"))
    assert [(r.outcome, r.community_id) for r in rows] == [
        (FollowUpOutcome.ANSWERED, tree["community"].pk),
        (FollowUpOutcome.NO_ANSWER, tree["community"].pk),
    ]
