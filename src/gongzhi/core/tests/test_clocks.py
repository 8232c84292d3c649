"""Deadline arithmetic on the three clocks (rules §2). Pure: no database."""

import time as perf
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongzhi.core.clocks import (
    ClockContext,
    ClockKind,
    DayInfo,
    Deadline,
    clock_elapsed,
    deadline_after,
    target_duration,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def package_day_info(day: date) -> DayInfo:
    try:
        return DayInfo(is_workday=chinese_calendar.is_workday(day), known=True)
    except NotImplementedError:
        return DayInfo(is_workday=day.weekday() < 5, known=False)


def make_ctx(day_info=package_day_info, **overrides) -> ClockContext:
    fields = {
        "tz": SHANGHAI,
        "service_start": time(8, 0),
        "service_end": time(20, 0),
        "working_start": time(9, 0),
        "working_end": time(17, 0),
        "day_info": day_info,
    }
    fields.update(overrides)
    return ClockContext(**fields)


CTX = make_ctx()


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


# --- the rules' examples ---------------------------------------------------------------


def test_report_at_night_on_service_hours_is_due_a_quarter_past_opening():
    due = deadline_after(at(2026, 5, 12, 23, 0), timedelta(minutes=15), "service_hours", CTX)
    assert due == Deadline(due_at=at(2026, 5, 13, 8, 15), estimated=False)


def test_three_working_days_from_national_day_eve_end_on_the_adjusted_saturday():
    duration = target_duration(3, "days", "working", CTX)
    assert duration == timedelta(hours=24)
    due = deadline_after(at(2026, 9, 30, 10, 0), duration, "working", CTX)
    assert due.due_at == at(2026, 10, 10, 10, 0)
    assert due.due_at.weekday() == 5  # a Saturday worked by 调休
    assert due.estimated is False


def test_a_year_the_package_does_not_know_falls_back_to_monday_to_friday_estimated():
    # 2027-01-29 is a Friday; chinesecalendar 1.11 knows nothing of 2027.
    duration = target_duration(1, "days", "working", CTX)
    due = deadline_after(at(2027, 1, 29, 12, 0), duration, "working", CTX)
    assert due.due_at == at(2027, 2, 1, 12, 0)  # the weekend is skipped
    assert due.estimated is True
    elapsed, estimated = clock_elapsed(at(2027, 1, 29, 12, 0), due.due_at, "working", CTX)
    assert (elapsed, estimated) == (duration, True)


def test_a_deadline_that_runs_from_a_known_year_into_an_unknown_one_is_estimated():
    due = deadline_after(at(2026, 12, 31, 16, 0), timedelta(hours=2), "working", CTX)
    assert due.due_at == at(2027, 1, 1, 10, 0)
    assert due.estimated is True


def test_a_deadline_inside_a_known_year_is_not_estimated_even_on_the_service_clock():
    due = deadline_after(at(2030, 1, 1, 9, 0), timedelta(hours=1), "service_hours", CTX)
    assert due == Deadline(due_at=at(2030, 1, 1, 10, 0), estimated=False)


# --- target durations ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "unit", "clock", "expected"),
    [
        (15, "minutes", "service_hours", timedelta(minutes=15)),
        (4, "hours", "calendar", timedelta(hours=4)),
        (24, "hours", "calendar", timedelta(hours=24)),
        (2, "days", "calendar", timedelta(hours=48)),
        (2, "days", "service_hours", timedelta(hours=24)),
        (7, "days", "working", timedelta(hours=56)),
        (0, "days", "working", timedelta(0)),
    ],
)
def test_target_duration(amount, unit, clock, expected):
    assert target_duration(amount, unit, clock, CTX) == expected


def test_target_duration_follows_the_community_window():
    ctx = make_ctx(service_start=time(7, 30), service_end=time(21, 0))
    assert target_duration(1, "days", "service_hours", ctx) == timedelta(hours=13, minutes=30)


@pytest.mark.parametrize(
    ("amount", "unit", "clock"),
    [(-1, "hours", "calendar"), (1, "weeks", "calendar"), (1, "days", "lunar")],
)
def test_target_duration_refuses_nonsense(amount, unit, clock):
    with pytest.raises(ValueError):
        target_duration(amount, unit, clock, CTX)


# --- boundaries ------------------------------------------------------------------------


def test_start_exactly_at_opening_counts_from_there():
    due = deadline_after(at(2026, 5, 12, 8, 0), timedelta(minutes=15), "service_hours", CTX)
    assert due.due_at == at(2026, 5, 12, 8, 15)


def test_start_exactly_at_closing_counts_from_the_next_opening():
    due = deadline_after(at(2026, 5, 12, 20, 0), timedelta(minutes=15), "service_hours", CTX)
    assert due.due_at == at(2026, 5, 13, 8, 15)


def test_a_duration_filling_the_rest_of_the_window_ends_at_closing_not_next_opening():
    due = deadline_after(at(2026, 5, 12, 19, 0), timedelta(hours=1), "service_hours", CTX)
    assert due.due_at == at(2026, 5, 12, 20, 0)


def test_zero_duration_inside_the_window_is_the_start_itself():
    start = at(2026, 5, 12, 10, 30)
    assert deadline_after(start, timedelta(0), "service_hours", CTX).due_at == start
    assert deadline_after(start, timedelta(0), "calendar", CTX).due_at == start


def test_zero_duration_outside_the_window_is_the_next_opening():
    due = deadline_after(at(2026, 10, 1, 10, 0), timedelta(0), "working", CTX)
    assert due.due_at == at(2026, 10, 8, 9, 0)


def test_start_before_opening_on_a_working_day_starts_at_opening():
    due = deadline_after(at(2026, 5, 12, 6, 0), timedelta(hours=2), "working", CTX)
    assert due.due_at == at(2026, 5, 12, 11, 0)


def test_a_weekend_start_on_the_working_clock_waits_for_monday():
    # 2026-05-16 is a Saturday (not worked).
    due = deadline_after(at(2026, 5, 16, 10, 0), timedelta(minutes=15), "working", CTX)
    assert due.due_at == at(2026, 5, 18, 9, 15)


def test_a_duration_spanning_many_days_on_the_service_clock():
    # 30 days of 12 h windows from an opening end at the 30th day's closing.
    due = deadline_after(at(2026, 3, 1, 8, 0), timedelta(hours=12 * 30), "service_hours", CTX)
    assert due.due_at == at(2026, 3, 30, 20, 0)


def test_a_duration_spanning_the_spring_festival_on_the_working_clock():
    # 2026 Spring Festival: Feb 15–23 off; Feb 14 (Sat) and Feb 28 (Sat) worked.
    start = at(2026, 2, 13, 9, 0)
    duration = target_duration(7, "days", "working", CTX)
    due = deadline_after(start, duration, "working", CTX)
    worked = [
        d
        for d in (date(2026, 2, 13) + timedelta(days=i) for i in range(30))
        if chinese_calendar.is_workday(d)
    ]
    assert due.due_at == datetime.combine(worked[6], time(17, 0), tzinfo=SHANGHAI)
    assert clock_elapsed(start, due.due_at, "working", CTX) == (duration, False)


def test_calendar_clock_is_plain_addition_across_midnight():
    start = at(2026, 10, 1, 22, 0)
    due = deadline_after(start, timedelta(hours=4), "calendar", CTX)
    assert due == Deadline(due_at=at(2026, 10, 2, 2, 0), estimated=False)


def test_elapsed_is_zero_when_end_is_not_after_start():
    start = at(2026, 5, 12, 10, 0)
    assert clock_elapsed(start, start, "working", CTX) == (timedelta(0), False)
    assert clock_elapsed(start, start - timedelta(hours=1), "calendar", CTX) == (
        timedelta(0),
        False,
    )


def test_elapsed_counts_only_window_time():
    # Tuesday 19:00 to Wednesday 09:00 on the service clock: 1 h Tuesday, 1 h Wednesday.
    elapsed, _ = clock_elapsed(at(2026, 5, 12, 19, 0), at(2026, 5, 13, 9, 0), "service_hours", CTX)
    assert elapsed == timedelta(hours=2)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        deadline_after(datetime(2026, 5, 12, 10, 0), timedelta(hours=1), "calendar", CTX)


def test_a_window_that_wraps_midnight_is_refused():
    with pytest.raises(ValueError):
        make_ctx(service_start=time(20, 0), service_end=time(8, 0))


def test_a_calendar_without_any_working_day_is_reported_not_looped_forever():
    ctx = make_ctx(day_info=lambda d: DayInfo(is_workday=False, known=True))
    with pytest.raises(ValueError):
        deadline_after(at(2026, 5, 12, 10, 0), timedelta(hours=1), "working", ctx)


def test_the_result_is_in_the_context_zone_whatever_zone_the_start_is_in():
    start = datetime(2026, 5, 12, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    due = deadline_after(start, timedelta(minutes=15), "service_hours", CTX)
    assert due.due_at.tzinfo == SHANGHAI
    assert due.due_at == at(2026, 5, 13, 8, 15)


# --- efficiency ------------------------------------------------------------------------


def test_a_seven_working_day_deadline_looks_at_each_day_once_and_is_fast():
    calls: list[date] = []

    def counting(day: date) -> DayInfo:
        calls.append(day)
        return package_day_info(day)

    ctx = make_ctx(day_info=counting)
    start = at(2026, 9, 30, 10, 0)
    duration = target_duration(7, "days", "working", ctx)
    due = deadline_after(start, duration, "working", ctx)
    # one look per calendar day between start and due, never per minute
    assert len(calls) == (due.due_at.date() - start.date()).days + 1
    assert len(set(calls)) == len(calls)

    best = min(_timed(deadline_after, start, duration, "working", CTX) for _ in range(50))
    assert best < 0.001


def _timed(fn, *args) -> float:
    began = perf.perf_counter()
    fn(*args)
    return perf.perf_counter() - began


# --- properties ------------------------------------------------------------------------


def synthetic_day_info(day: date) -> DayInfo:
    """A made-up calendar with irregular holidays and unknown years, to test the
    arithmetic beyond the shape of any real year."""
    n = day.toordinal()
    return DayInfo(is_workday=(n * 7919) % 11 not in (0, 3, 5), known=(n // 97) % 4 != 0)


contexts = st.sampled_from(
    [
        CTX,
        make_ctx(day_info=synthetic_day_info),
        make_ctx(
            service_start=time(7, 30),
            service_end=time(21, 45),
            working_start=time(8, 30),
            working_end=time(17, 30),
        ),
    ]
)
instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(SHANGHAI)
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=12))
clocks = st.sampled_from(list(ClockKind.values))
window_clocks = st.sampled_from([ClockKind.SERVICE_HOURS, ClockKind.WORKING])


@given(ctx=contexts, clock=clocks, a=instants, b=instants, duration=durations)
def test_deadline_is_monotone_in_start(ctx, clock, a, b, duration):
    early, late = sorted([a, b])
    assert (
        deadline_after(early, duration, clock, ctx).due_at
        <= deadline_after(late, duration, clock, ctx).due_at
    )


@given(ctx=contexts, clock=clocks, start=instants, d1=durations, d2=durations)
def test_deadline_is_monotone_in_duration(ctx, clock, start, d1, d2):
    short, long = sorted([d1, d2])
    assert (
        deadline_after(start, short, clock, ctx).due_at
        <= deadline_after(start, long, clock, ctx).due_at
    )


@settings(max_examples=300)
@given(ctx=contexts, clock=window_clocks, start=instants, duration=durations)
def test_elapsed_until_the_deadline_is_the_duration(ctx, clock, start, duration):
    due = deadline_after(start, duration, clock, ctx)
    elapsed, estimated = clock_elapsed(start, due.due_at, clock, ctx)
    assert elapsed == duration
    assert estimated == due.estimated or duration == timedelta(0)


@given(ctx=contexts, clock=window_clocks, start=instants, duration=durations)
def test_the_deadline_is_the_first_instant_reaching_the_duration(ctx, clock, start, duration):
    due = deadline_after(start, duration, clock, ctx).due_at
    if duration > timedelta(0):
        just_before, _ = clock_elapsed(start, due - timedelta(microseconds=1), clock, ctx)
        assert just_before < duration


@given(ctx=contexts, start=instants, duration=durations)
def test_calendar_clock_is_plain_addition(ctx, start, duration):
    due = deadline_after(start, duration, "calendar", ctx)
    assert due == Deadline(due_at=start + duration, estimated=False)
    assert clock_elapsed(start, due.due_at, "calendar", ctx) == (duration, False)


@given(ctx=contexts, clock=clocks, start=instants, duration=durations)
def test_result_is_aware_in_the_context_zone(ctx, clock, start, duration):
    due = deadline_after(start, duration, clock, ctx).due_at
    assert due.tzinfo is ctx.tz
    assert due.utcoffset() is not None


@given(ctx=contexts, clock=clocks, a=instants, b=instants, c=instants)
def test_elapsed_adds_up_over_consecutive_spans(ctx, clock, a, b, c):
    x, y, z = sorted([a, b, c])
    whole, _ = clock_elapsed(x, z, clock, ctx)
    first, _ = clock_elapsed(x, y, clock, ctx)
    second, _ = clock_elapsed(y, z, clock, ctx)
    assert whole == first + second
