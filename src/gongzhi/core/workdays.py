"""Which days are working days, and the clock context of a community: the impure side of
`clocks.py`.

A day's answer comes from, in order: an administrator's `WorkdayOverride` for that date
(entered for a year the holiday package does not know yet, or for a local closure), then
the `chinese_calendar` package (China's public holidays and adjusted weekends 调休, as the
State Council publishes them), and past the years the package knows, Monday–Friday,
marked `known=False` so the deadlines built on it are shown as estimated.
"""

from datetime import MAXYEAR, MINYEAR, date, datetime, time
from functools import lru_cache
from typing import cast
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings

from gongzhi.places.models import CommunitySettings, Place

from .clocks import ClockContext, DayInfo
from .models import WorkdayOverride

DEFAULT_SERVICE_WINDOW = (time(8, 0), time(20, 0))


class WorkdayCalendar:
    """Answers `day_info` for one computation, reading the overrides in one query.

    It is a snapshot: build a new one (through `clock_context_for`) for each request or
    batch, so an override an administrator saves is seen by the next computation in every
    process, with no cache to invalidate.
    """

    def __init__(self) -> None:
        self._overrides: dict[int, dict[date, bool]] = {}

    def __call__(self, day: date) -> DayInfo:
        overrides = self._overrides.get(day.year)
        if overrides is None:
            self._read_years_around(day.year)
            overrides = self._overrides[day.year]
        if day in overrides:
            return DayInfo(is_workday=overrides[day], known=True)
        return package_day_info(day)

    def _read_years_around(self, year: int) -> None:
        """The overrides of `year` and of the years either side, in one query: deadlines
        and countdowns near the turn of the year reach into the next one (a list page in
        December would otherwise pay a second query)."""
        years = [
            y
            for y in (year - 1, year, year + 1)
            if MINYEAR <= y <= MAXYEAR and y not in self._overrides
        ]
        for y in years:
            self._overrides[y] = {}
        rows = WorkdayOverride.objects.filter(
            date__gte=date(years[0], 1, 1), date__lte=date(years[-1], 12, 31)
        ).values_list("date", "is_workday")
        for day, is_workday in rows:
            self._overrides[day.year][day] = is_workday


@lru_cache(maxsize=4096)
def package_day_info(day: date) -> DayInfo:
    """What the holiday package says of `day`, or Monday–Friday if it does not cover it."""
    try:
        return DayInfo(is_workday=chinese_calendar.is_workday(day), known=True)
    except NotImplementedError:
        # The package raises for years the State Council has not published.
        return DayInfo(is_workday=day.weekday() < 5, known=False)


def day_info(day: date) -> DayInfo:
    """Whether `day` is a working day, and whether that is known or a Monday–Friday guess."""
    return WorkdayCalendar()(day)


def clock_context_for(community: Place | None) -> ClockContext:
    """The clocks of `community` (or of any place, through its community): its service
    window from `CommunitySettings`, the working hours from settings, and a fresh
    `WorkdayCalendar`. Without a community or its settings, the default 08:00–20:00."""
    service_start, service_end = DEFAULT_SERVICE_WINDOW
    community_id = None
    if community is not None:
        community_id = community.community_id or community.pk
    if community_id is not None:
        window = (
            CommunitySettings.objects.filter(community_id=community_id)
            .values_list("service_start", "service_end")
            .first()
        )
        if window is not None:
            service_start, service_end = window
    working_hours = cast(tuple[str, str], settings.GONGZHI["WORKING_HOURS"])
    working_start, working_end = (_parse_time(t) for t in working_hours)
    return ClockContext(
        tz=ZoneInfo(settings.TIME_ZONE),
        service_start=service_start,
        service_end=service_end,
        working_start=working_start,
        working_end=working_end,
        day_info=WorkdayCalendar(),
    )


def _parse_time(value: str | time) -> time:
    if isinstance(value, time):
        return value
    return datetime.strptime(value, "%H:%M").time()
