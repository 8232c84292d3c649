"""Deadlines as cases get them: the category's policy on its clock, in the community's
service window, with China's working days, and pauses credited back."""

from datetime import time, timedelta

import time_machine

from gongzhi.cases.models import ClockAlarm, ClockName, EventKind, Policy
from gongzhi.cases.services import (
    case_complete,
    case_pause,
    case_reopen,
    case_respond,
    case_resume,
    case_start,
    policy_save,
)
from gongzhi.core.models import WorkdayOverride
from gongzhi.places.models import CommunitySettings

from .conftest import at


def alarms(case, clock):
    return {
        a.level: a.due_at
        for a in ClockAlarm.objects.filter(case=case, clock=clock, round=case.reopen_count)
    }


def test_three_working_days_from_30_september_end_on_the_adjusted_saturday(report):
    # 10-01…10-07 are the National Day holiday; Saturday 10-10 is worked (调休).
    with time_machine.travel(at(2026, 9, 30, 10, 0), tick=False):
        case = report("drain_blocked", text="下水道堵了")
    assert case.completion_due_at == at(2026, 10, 10, 10, 0)
    assert case.completion_due_estimated is False
    assert case.completion_target == timedelta(hours=24)  # three 8-hour working days


def test_a_report_at_23_00_is_due_a_response_at_08_15(report):
    with time_machine.travel(at(2026, 11, 27, 23, 0), tick=False):
        case = report("street_light")
    assert case.response_due_at == at(2026, 11, 28, 8, 15)
    # The completion clock of a small matter is the calendar: 24 h from the report.
    assert case.completion_due_at == at(2026, 11, 28, 23, 0)
    # The alarms sit on the same clock: 80 % of 15 service minutes is 08:12.
    assert alarms(case, ClockName.RESPONSE) == {
        "warning": at(2026, 11, 28, 8, 12),
        "overdue": at(2026, 11, 28, 8, 15),
        "supervision": at(2026, 11, 28, 8, 30),
    }


def test_the_community_service_window_is_used(report, tree):
    CommunitySettings.objects.filter(community=tree["community"]).update(
        service_start=time(7, 30), service_end=time(21, 0)
    )
    with time_machine.travel(at(2026, 11, 27, 21, 30), tick=False):
        case = report("street_light")
    assert case.response_due_at == at(2026, 11, 28, 7, 45)


def test_urgent_matters_run_on_the_calendar_day_and_night(report):
    with time_machine.travel(at(2026, 11, 27, 23, 0), tick=False):
        case = report("gas_smell", text="楼道里有很大的煤气味")
    assert case.response_due_at == at(2026, 11, 27, 23, 15)
    assert case.completion_due_at == at(2026, 11, 28, 3, 0)


def test_a_pause_is_credited_back_and_shown(report, people):
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False) as clock:
        case = report("street_light")
        case = case_respond(actor=people["grid_worker"], case=case)
        before = alarms(case, ClockName.COMPLETION)
        clock.move_to(at(2026, 11, 27, 10, 0))
        case = case_pause(actor=people["grid_worker"], case=case, reason="等待供电局")
        clock.move_to(at(2026, 11, 27, 12, 30))
        case = case_resume(actor=people["grid_worker"], case=case)
    assert case.paused_total == timedelta(hours=2, minutes=30)
    assert case.completion_due_at == at(2026, 11, 28, 11, 30)
    after = alarms(case, ClockName.COMPLETION)
    assert {level: after[level] - before[level] for level in after} == {
        "warning": timedelta(hours=2, minutes=30),
        "overdue": timedelta(hours=2, minutes=30),
        "supervision": timedelta(hours=2, minutes=30),
    }
    resumed = case.events.get(kind=EventKind.RESUMED)
    assert "2小时30分钟" in resumed.note and resumed.is_public
    assert resumed.data["credited_seconds"] == 9000


def test_a_pause_over_a_weekend_credits_only_working_time(report, people):
    # Friday 2026-11-27 16:00 → Monday 11-30 10:00 on the working clock: 1 h + 1 h.
    with time_machine.travel(at(2026, 11, 26, 10, 0), tick=False) as clock:
        case = report("drain_blocked", text="下水道堵了")
        due = case.completion_due_at
        case = case_respond(actor=people["property"], case=case)
        case = case_start(actor=people["property"], case=case)
        clock.move_to(at(2026, 11, 27, 16, 0))
        case = case_pause(actor=people["property"], case=case, reason="等待配件")
        clock.move_to(at(2026, 11, 30, 10, 0))
        case = case_resume(actor=people["property"], case=case)
    assert due == at(2026, 12, 1, 10, 0)
    assert case.paused_total == timedelta(hours=2)
    assert case.completion_due_at == at(2026, 12, 1, 12, 0)
    assert case.state == "in_progress"


def test_the_response_clock_does_not_pause(report, people):
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False) as clock:
        case = report("street_light")
        case = case_respond(actor=people["grid_worker"], case=case)
        response_due = case.response_due_at
        clock.move_to(at(2026, 11, 27, 9, 30))
        case = case_pause(actor=people["grid_worker"], case=case, reason="等待")
        clock.move_to(at(2026, 11, 27, 11, 30))
        case = case_resume(actor=people["grid_worker"], case=case)
    assert case.response_due_at == response_due


def test_a_year_the_holiday_package_does_not_know_is_estimated(report):
    with time_machine.travel(at(2027, 3, 1, 10, 0), tick=False):
        case = report("drain_blocked", text="下水道堵了")
    assert case.completion_due_estimated is True
    assert case.response_due_estimated is False


def test_an_administrator_override_moves_working_days(report):
    # From Friday 11-27 10:00, 3 working days end on Wednesday 12-02 10:00; declare
    # Monday 11-30 a day off (a local closure) and they end on Thursday instead.
    WorkdayOverride.objects.create(date=at(2026, 11, 30, 0, 0).date(), is_workday=False)
    with time_machine.travel(at(2026, 11, 27, 10, 0), tick=False):
        case = report("drain_blocked", text="下水道堵了")
    assert case.completion_due_at == at(2026, 12, 3, 10, 0)


def test_a_policy_change_leaves_running_cases_alone(report, people, category):
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False):
        case = report("street_light")
        policy = Policy.objects.get(category=category["street_light"], community=None)
        policy.completion_amount = 2
        policy_save(actor=people["admin"], policy=policy)
        later = report("street_light", text="又一盏路灯不亮")
    case.refresh_from_db()
    assert case.completion_due_at == at(2026, 11, 28, 9, 0)
    assert later.completion_due_at == at(2026, 11, 27, 11, 0)


def test_a_reopened_case_gets_a_new_completion_deadline_from_the_reopening(report, people):
    with time_machine.travel(at(2026, 11, 27, 9, 0), tick=False) as clock:
        case = report("street_light")
        case = case_respond(actor=people["grid_worker"], case=case)
        case = case_start(actor=people["grid_worker"], case=case)
        case = case_complete(actor=people["grid_worker"], case=case, note="修好了")
        clock.move_to(at(2026, 11, 27, 20, 0))
        case = case_reopen(actor=people["resident"], case=case, reason="还是不亮")
    assert case.completion_due_at == at(2026, 11, 28, 20, 0)
    assert alarms(case, ClockName.COMPLETION)["warning"] == at(2026, 11, 28, 15, 12)
    # The first round's alarms were cancelled when the case was completed.
    first_round = ClockAlarm.objects.filter(case=case, clock=ClockName.COMPLETION, round=0)
    assert all(a.cancelled_at is not None for a in first_round)
