"""Warnings and supervision (督办): stored alarms fire exactly once, whatever the checker does."""

import io

import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gongzhi.cases.models import Case, ClockAlarm, EventKind
from gongzhi.cases.services import (
    _fire_alarms,
    case_complete,
    case_pause,
    case_respond,
    case_resume,
    case_start,
    clock_alarms_fire,
)
from gongzhi.cases.tasks import check_clocks
from gongzhi.core.models import Notification

from .conftest import at

REPORTED = at(2026, 11, 27, 9, 0)


def verbs(user):
    return list(
        Notification.objects.filter(
            recipient=user, verb__in=["case.warning", "case.overdue", "case.supervision"]
        )
        .order_by("pk")
        .values_list("verb", flat=True)
    )


def fire(moment):
    with time_machine.travel(moment, tick=False):
        return clock_alarms_fire()


def test_the_three_levels_reach_the_handler_the_secretary_and_the_subdistrict(report, people):
    with time_machine.travel(REPORTED, tick=False):
        case = report()
    # 15 service minutes to respond: 80 % at 09:12, 100 % at 09:15, 200 % at 09:30.
    assert fire(at(2026, 11, 27, 9, 11)) == {"warning": 0, "overdue": 0, "supervision": 0}
    assert fire(at(2026, 11, 27, 9, 12)) == {"warning": 1, "overdue": 0, "supervision": 0}
    assert verbs(people["grid_worker"]) == ["case.warning"]
    assert fire(at(2026, 11, 27, 9, 15))["overdue"] == 1
    assert verbs(people["secretary"]) == ["case.overdue"]
    case.refresh_from_db()
    assert case.overdue_at == at(2026, 11, 27, 9, 15)
    assert fire(at(2026, 11, 27, 9, 30))["supervision"] == 1
    assert verbs(people["supervisor"]) == ["case.supervision"]
    case.refresh_from_db()
    assert case.supervised_at == at(2026, 11, 27, 9, 30)
    # Nobody else was told, and the steps are on the (internal) timeline.
    assert verbs(people["worker"]) == [] and verbs(people["resident"]) == []
    kinds = list(case.events.filter(is_public=False).values_list("kind", flat=True))
    assert kinds == [EventKind.ROUTED, EventKind.WARNING, EventKind.OVERDUE, EventKind.SUPERVISED]


def test_a_duplicate_run_and_a_restart_fire_nothing_twice(report, people):
    with time_machine.travel(REPORTED, tick=False):
        report()
    first = fire(at(2026, 11, 27, 9, 13))
    again = fire(at(2026, 11, 27, 9, 13))
    assert first["warning"] == 1 and again == {"warning": 0, "overdue": 0, "supervision": 0}
    # A restart: a fresh process has nothing in memory; it runs the task and the command.
    with time_machine.travel(at(2026, 11, 27, 9, 14), tick=False):
        result = check_clocks.enqueue()
        call_command("check-clocks", stdout=io.StringIO())
    assert result.return_value == {"warning": 0, "overdue": 0, "supervision": 0}
    assert verbs(people["grid_worker"]) == ["case.warning"]
    assert Notification.objects.filter(verb="case.warning").count() == 1


def test_a_late_run_fires_every_level_it_crossed_once(report, people):
    with time_machine.travel(REPORTED, tick=False):
        case = report()
    # The checker was down until 09:20: warning and overdue are both due, once each.
    assert fire(at(2026, 11, 27, 9, 20)) == {"warning": 1, "overdue": 1, "supervision": 0}
    assert fire(at(2026, 11, 27, 9, 21)) == {"warning": 0, "overdue": 0, "supervision": 0}
    assert fire(at(2026, 11, 27, 9, 31))["supervision"] == 1
    assert ClockAlarm.objects.filter(case=case, fired_at__isnull=False).count() == 3


def test_a_run_after_the_alarm_was_claimed_elsewhere_does_nothing(report):
    """Two checkers that read the same due alarm: only the first claim succeeds."""
    with time_machine.travel(REPORTED, tick=False):
        report()
    due = list(
        ClockAlarm.objects.filter(due_at__lte=at(2026, 11, 27, 9, 13), fired_at__isnull=True)
    )
    assert len(due) == 1
    assert fire(at(2026, 11, 27, 9, 13))["warning"] == 1
    assert _fire_alarms([due[0].pk], at(2026, 11, 27, 9, 13)) == []
    assert Notification.objects.filter(verb="case.warning").count() == 1


def test_the_command_prints_what_it_did(report, capsys):
    with time_machine.travel(REPORTED, tick=False):
        report()
    with time_machine.travel(at(2026, 11, 27, 9, 16), tick=False):
        call_command("check-clocks")
    assert capsys.readouterr().out.strip() == (
        "warning=1 overdue=1 supervision=0 closed_unanswered=0"
    )


def test_responding_cancels_the_response_alarms(report, people):
    with time_machine.travel(REPORTED, tick=False):
        case = report()
    with time_machine.travel(at(2026, 11, 27, 9, 10), tick=False):
        case_respond(actor=people["grid_worker"], case=case)
    assert fire(at(2026, 11, 27, 9, 40)) == {"warning": 0, "overdue": 0, "supervision": 0}
    case.refresh_from_db()
    assert case.overdue_at is None


def test_completing_cancels_the_completion_alarms(report, people):
    with time_machine.travel(REPORTED, tick=False):
        case = report()
        case = case_respond(actor=people["grid_worker"], case=case)
        case = case_start(actor=people["grid_worker"], case=case)
    # 24 h on the calendar: the warning is due at 80 %, 2026-11-28 04:12.
    assert fire(at(2026, 11, 28, 4, 12))["warning"] == 1
    with time_machine.travel(at(2026, 11, 28, 5, 0), tick=False):
        case_complete(actor=people["grid_worker"], case=case, note="修好了")
    assert fire(at(2026, 11, 29, 12, 0)) == {"warning": 0, "overdue": 0, "supervision": 0}


def test_a_paused_case_does_not_escalate_until_it_resumes(report, people):
    with time_machine.travel(REPORTED, tick=False):
        case = report()
        case = case_respond(actor=people["grid_worker"], case=case)
    with time_machine.travel(at(2026, 11, 27, 10, 0), tick=False):
        case = case_pause(actor=people["grid_worker"], case=case, reason="等待物业配件")
    # Long past the completion deadline, but the clock is stopped.
    assert fire(at(2026, 11, 29, 10, 0)) == {"warning": 0, "overdue": 0, "supervision": 0}
    with time_machine.travel(at(2026, 11, 29, 10, 0), tick=False):
        case = case_resume(actor=people["grid_worker"], case=case)
    # 48 h paused: the warning moves from 11-28 04:12 to 11-30 04:12.
    assert fire(at(2026, 11, 30, 4, 11))["warning"] == 0
    assert fire(at(2026, 11, 30, 4, 12))["warning"] == 1
    assert case.completion_due_at == at(2026, 11, 30, 9, 0)


def test_the_work_per_check_grows_with_what_is_due_not_with_open_cases(report):
    with time_machine.travel(REPORTED, tick=False):
        for n in range(12):
            report(text=f"路灯不亮 {n}")
    with CaptureQueriesContext(connection) as idle:
        assert fire(at(2026, 11, 27, 9, 1)) == {"warning": 0, "overdue": 0, "supervision": 0}
    assert len(idle.captured_queries) == 1
    first_case = Case.objects.order_by("pk").first()
    ClockAlarm.objects.exclude(case=first_case).update(due_at=at(2026, 12, 31, 0, 0))
    with CaptureQueriesContext(connection) as one_due:
        assert fire(at(2026, 11, 27, 9, 13))["warning"] == 1
    # A constant number of statements for the one alarm, not one per open case.
    assert len(one_due.captured_queries) < 20
