"""Working days from overrides and the holiday package; a community's clock context."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.sites import AdminSite
from django.test import RequestFactory

from gongzhi.core.admin import WorkdayOverrideAdmin
from gongzhi.core.clocks import DayInfo, deadline_after, target_duration
from gongzhi.core.models import AuditEvent, WorkdayOverride
from gongzhi.core.workdays import clock_context_for, day_info
from gongzhi.places.models import CommunitySettings
from gongzhi.places.services import community_settings_update

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_package_answers_for_a_known_year(db):
    assert day_info(date(2026, 10, 10)) == DayInfo(is_workday=True, known=True)  # 调休 Saturday
    assert day_info(date(2026, 10, 5)) == DayInfo(is_workday=False, known=True)  # National Day


def test_an_unknown_year_falls_back_to_monday_to_friday_not_known(db):
    assert day_info(date(2027, 1, 29)) == DayInfo(is_workday=True, known=False)  # Friday
    assert day_info(date(2027, 1, 30)) == DayInfo(is_workday=False, known=False)  # Saturday


def test_an_override_wins_over_the_package(db):
    WorkdayOverride.objects.create(date=date(2026, 10, 10), is_workday=False, note="台风停工")
    assert day_info(date(2026, 10, 10)) == DayInfo(is_workday=False, known=True)


def test_an_override_for_an_unknown_year_makes_the_deadline_exact(db):
    # An administrator enters 2027's Spring Festival before the package knows it.
    for offset in range(8):
        WorkdayOverride.objects.create(
            date=date(2027, 2, 8) + timedelta(days=offset), is_workday=False, note="春节"
        )
    ctx = clock_context_for(None)
    start = datetime(2027, 2, 5, 16, 0, tzinfo=SHANGHAI)  # Friday, the last day before
    due = deadline_after(start, timedelta(hours=2), "working", ctx)
    # Feb 6–7 weekend (fallback), Feb 8–15 entered as holidays: Tuesday 16th at 10:00.
    assert due.due_at == datetime(2027, 2, 16, 10, 0, tzinfo=SHANGHAI)
    assert due.estimated is True  # the weekend days are still only a guess


def test_a_whole_deadline_reads_the_overrides_in_one_query(db, django_assert_num_queries):
    ctx = clock_context_for(None)
    duration = target_duration(30, "days", "working", ctx)
    start = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
    with django_assert_num_queries(1):  # 2025–2027 at once
        due = deadline_after(start, duration, "working", ctx)
    assert due.due_at.year == 2027


def test_one_calendar_sees_the_overrides_of_the_years_either_side(db, django_assert_num_queries):
    WorkdayOverride.objects.create(date=date(2025, 12, 31), is_workday=False, note="停水停工")
    WorkdayOverride.objects.create(date=date(2027, 1, 4), is_workday=False, note="春运调整")
    WorkdayOverride.objects.create(date=date(2028, 1, 3), is_workday=False, note="不读")
    calendar = clock_context_for(None).day_info
    with django_assert_num_queries(1):
        assert calendar(date(2026, 12, 31)) == DayInfo(is_workday=True, known=True)
        assert calendar(date(2027, 1, 4)) == DayInfo(is_workday=False, known=True)
        assert calendar(date(2025, 12, 31)) == DayInfo(is_workday=False, known=True)
    with django_assert_num_queries(1):  # 2028 is read when first asked (with 2029)
        assert calendar(date(2028, 1, 3)) == DayInfo(is_workday=False, known=True)


def test_a_new_context_sees_an_override_saved_after_the_previous_one(db):
    before = clock_context_for(None)
    assert before.day_info(date(2026, 6, 1)).is_workday is True
    WorkdayOverride.objects.create(date=date(2026, 6, 1), is_workday=False)
    assert clock_context_for(None).day_info(date(2026, 6, 1)).is_workday is False


def test_clock_context_reads_the_community_service_window(tree):
    community_settings_update(
        actor=None,
        community_settings=CommunitySettings.objects.get(community=tree["community"]),
        service_start=time(7, 0),
        service_end=time(21, 30),
    )
    ctx = clock_context_for(tree["community"])
    assert (ctx.service_start, ctx.service_end) == (time(7, 0), time(21, 30))
    assert (ctx.working_start, ctx.working_end) == (time(9, 0), time(17, 0))
    assert ctx.tz == SHANGHAI
    # any place inside the community has the community's clocks
    assert clock_context_for(tree["dwelling"]).service_start == time(7, 0)


def test_clock_context_defaults_to_eight_to_eight(tree):
    ctx = clock_context_for(tree["other_community"])
    assert (ctx.service_start, ctx.service_end) == (time(8, 0), time(20, 0))
    assert clock_context_for(None).service_end == time(20, 0)
    # a place above any community has no window of its own
    assert clock_context_for(tree["subdistrict"]).service_start == time(8, 0)


def test_working_hours_come_from_settings(db, settings):
    settings.GONGZHI = {**settings.GONGZHI, "WORKING_HOURS": ("08:30", "17:30")}
    ctx = clock_context_for(None)
    assert (ctx.working_start, ctx.working_end) == (time(8, 30), time(17, 30))
    assert target_duration(1, "days", "working", ctx) == timedelta(hours=9)


@pytest.fixture
def override_admin():
    return WorkdayOverrideAdmin(WorkdayOverride, AdminSite())


def test_admin_changes_of_an_override_are_audited(people, override_admin):
    request = RequestFactory().post("/admin/")
    request.user = people["admin"]
    row = WorkdayOverride(date=date(2027, 10, 9), is_workday=True, note="调休上班")
    override_admin.save_model(request, row, form=None, change=False)
    row.is_workday = False
    override_admin.save_model(request, row, form=None, change=True)
    override_admin.delete_model(request, row)

    events = list(
        AuditEvent.objects.filter(object_type="core.workdayoverride").values_list(
            "verb", "actor", "before", "after"
        )
    )
    admin_id = people["admin"].pk
    assert [e[0] for e in events] == [
        "workday_override.created",
        "workday_override.changed",
        "workday_override.deleted",
    ]
    assert all(e[1] == admin_id for e in events)
    assert events[1][2]["is_workday"] is True and events[1][3]["is_workday"] is False
    assert not WorkdayOverride.objects.exists()
