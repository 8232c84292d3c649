"""Deadline arithmetic on the three clocks of rules §2 (分类限时办理). Pure: no database.

A clock says which instants count. `calendar` counts every instant; `service_hours` counts
the community's daily service window (08:00–20:00 by default) on every day; `working`
counts the working window (09:00–17:00) on working days only, where "working day" comes
from the injected `ClockContext.day_info` (China's holidays and 调休, see `workdays.py`).

All arithmetic is done on absolute instants (UTC), and window boundaries are built from
local dates and times in the context's zone, so the result is right even in a zone with
daylight-saving changes. Days are handled one step each, never minute by minute.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from django.db import models
from django.utils.translation import gettext_lazy as _


class ClockKind(models.TextChoices):
    CALENDAR = "calendar", _("全天候")
    SERVICE_HOURS = "service_hours", _("服务时段")
    WORKING = "working", _("工作日")


class TargetUnit(models.TextChoices):
    MINUTES = "minutes", _("分钟")
    HOURS = "hours", _("小时")
    DAYS = "days", _("天")


@dataclass(frozen=True)
class DayInfo:
    is_workday: bool
    # False when the holiday data does not cover this date and Monday–Friday was assumed.
    known: bool


@dataclass(frozen=True)
class ClockContext:
    tz: tzinfo
    service_start: time
    service_end: time
    working_start: time
    working_end: time
    day_info: Callable[[date], DayInfo]

    def __post_init__(self) -> None:
        # A window that wraps past midnight would make "the day's window" ambiguous; no
        # community works that way, so it is refused rather than guessed at.
        if not self.service_start < self.service_end:
            raise ValueError("service window must start before it ends")
        if not self.working_start < self.working_end:
            raise ValueError("working window must start before it ends")


@dataclass(frozen=True)
class Deadline:
    due_at: datetime
    # True if any day used in the computation was a fallback Monday–Friday guess.
    estimated: bool


_DAY = timedelta(days=1)
_ANCHOR = date(2000, 1, 3)
_MAX_CLOSED_RUN = 366


def _window_length(start: time, end: time) -> timedelta:
    return datetime.combine(_ANCHOR, end) - datetime.combine(_ANCHOR, start)


def target_duration(amount: int, unit: str, clock: str, ctx: ClockContext) -> timedelta:
    """The target as clock time: a day is 24 h on `calendar`, one window elsewhere."""
    if amount < 0:
        raise ValueError("a target cannot be negative")
    if unit == TargetUnit.MINUTES:
        return timedelta(minutes=amount)
    if unit == TargetUnit.HOURS:
        return timedelta(hours=amount)
    if unit != TargetUnit.DAYS:
        raise ValueError(f"unknown target unit {unit!r}")
    if clock == ClockKind.CALENDAR:
        return amount * _DAY
    start, end = _window_times(clock, ctx)
    return amount * _window_length(start, end)


def deadline_after(start: datetime, duration: timedelta, clock: str, ctx: ClockContext) -> Deadline:
    """The instant at which `duration` of clock time has passed since `start`.

    Outside a window the count starts at the next window opening, so a zero duration then
    yields that opening. A duration that exactly fills the rest of a window ends at that
    window's close, not at the next opening.
    """
    _require_aware(start)
    if duration < timedelta(0):
        raise ValueError("a duration cannot be negative")
    if clock == ClockKind.CALENDAR:
        return Deadline(due_at=(start + duration).astimezone(ctx.tz), estimated=False)
    opens, closes = _window_times(clock, ctx)
    working = clock == ClockKind.WORKING
    estimated = False
    cursor = start.astimezone(UTC)
    remaining = duration
    day = start.astimezone(ctx.tz).date()
    closed_run = 0
    while True:
        if working:
            info = ctx.day_info(day)
            estimated = estimated or not info.known
            is_open = info.is_workday
        else:
            is_open = True
        if is_open:
            window_open = _instant(day, opens, ctx.tz)
            window_close = _instant(day, closes, ctx.tz)
            if cursor < window_close:
                cursor = max(cursor, window_open)
                available = window_close - cursor
                if remaining <= available:
                    return Deadline(
                        due_at=(cursor + remaining).astimezone(ctx.tz), estimated=estimated
                    )
                remaining -= available
            closed_run = 0
        else:
            closed_run += 1
            # A calendar with no working day in a whole year is misconfigured; without this
            # guard the search would never end.
            if closed_run > _MAX_CLOSED_RUN:
                raise ValueError("no working day within a year; check the workday overrides")
        day += _DAY


def clock_elapsed(
    start: datetime, end: datetime, clock: str, ctx: ClockContext
) -> tuple[timedelta, bool]:
    """Clock time between two instants (zero if `end` is not after `start`), and whether
    any day it covered was a Monday–Friday guess."""
    _require_aware(start)
    _require_aware(end)
    if end <= start:
        return timedelta(0), False
    if clock == ClockKind.CALENDAR:
        return end - start, False
    opens, closes = _window_times(clock, ctx)
    working = clock == ClockKind.WORKING
    estimated = False
    begin, finish = start.astimezone(UTC), end.astimezone(UTC)
    total = timedelta(0)
    day = start.astimezone(ctx.tz).date()
    last_day = end.astimezone(ctx.tz).date()
    while day <= last_day:
        if working:
            info = ctx.day_info(day)
            estimated = estimated or not info.known
            is_open = info.is_workday
        else:
            is_open = True
        if is_open:
            lo = max(begin, _instant(day, opens, ctx.tz))
            hi = min(finish, _instant(day, closes, ctx.tz))
            if hi > lo:
                total += hi - lo
        day += _DAY
    return total, estimated


def _window_times(clock: str, ctx: ClockContext) -> tuple[time, time]:
    if clock == ClockKind.SERVICE_HOURS:
        return ctx.service_start, ctx.service_end
    if clock == ClockKind.WORKING:
        return ctx.working_start, ctx.working_end
    raise ValueError(f"unknown clock {clock!r}")


def _instant(day: date, at: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("deadlines are computed on aware datetimes only")
