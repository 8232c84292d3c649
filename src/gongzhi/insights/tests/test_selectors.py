"""The figures of the boards, from a week of known cases (see conftest.py)."""

from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gongzhi.cases.selectors import case_rates_for
from gongzhi.cases.services import (
    case_complete,
    case_exclude_from_rates,
    case_follow_up,
    case_respond,
    case_start,
)
from gongzhi.core.errors import NotFound
from gongzhi.insights.selectors import (
    Rate,
    area_table_for,
    board_area_get,
    board_cluster_get,
    board_community_get,
    boards_for,
    cluster_table_for,
    community_board_for,
)
from gongzhi.places.models import PlaceKind
from gongzhi.places.services import cluster_create, place_create

from .conftest import NOW, at


def fraction(rate: Rate) -> str:
    return f"{rate.numerator}/{rate.denominator}"


def test_the_community_board_counts_a_known_week(week, tree, people):
    board = community_board_for(user=people["secretary"], community=tree["community"], now=NOW)
    assert (board.new_today, board.new_this_week, board.overdue_now) == (1, 5, 3)
    assert (board.week.first_day, board.week.last_day) == (date(2026, 11, 23), date(2026, 11, 29))
    week = board.rates_week
    # a, b, c answered by 09:15; d at 09:30; e not due until 09:45.
    assert fraction(week.response) == "3/4"
    assert week.response.percent == 75.0
    # a completed in time; b reopened and past its new deadline; c and d past theirs.
    assert fraction(week.completion) == "1/4"
    # The resident's two answers: a resolved and satisfied, b neither.
    assert fraction(week.resolution) == "1/2"
    assert fraction(week.satisfaction) == "1/2"
    assert (week.reported, week.reopened) == (5, 1)
    # Today only e was reported, and nothing about it is due yet.
    assert board.rates_today.reported == 1
    assert board.rates_today.response.denominator == 0
    assert board.rates_today.response.percent is None
    assert {t.key: t.count for t in board.by_state} == {
        "reported": 1,
        "responded": 2,
        "in_progress": 1,
        "paused": 0,
        "completed": 0,
    }
    assert [(t.label, t.count) for t in board.top_categories] == [("路灯不亮", 3), ("垃圾堆放", 2)]
    assert [(t.label, t.count) for t in board.top_buildings] == [
        ("虹桥新城小区 1号楼", 2),
        ("虹桥新城小区 2号楼", 2),
    ]
    assert board.top_buildings[0].key == tree["building"].code
    assert board.outside_buildings == 1  # d, in the estate's green


def test_the_trend_has_eight_weeks_from_monday_with_each_case_in_its_week(
    week, tree, people, report
):
    with time_machine.travel(at(2026, 11, 4, 20, 30), tick=False) as clock:
        early = report(text="3号门路灯")  # after the service window: due Thursday 08:15
        clock.move_to(at(2026, 11, 5, 8, 5))
        case_respond(actor=early.lead, case=early)
    board = community_board_for(user=people["supervisor"], community=tree["community"], now=NOW)
    weeks = [p.week.first_day for p in board.trend]
    assert weeks[0] == date(2026, 10, 5) and weeks[-1] == date(2026, 11, 23)
    assert all(d.weekday() == 0 for d in weeks) and len(weeks) == 8
    by_week = {p.week.first_day: p.rates for p in board.trend}
    assert by_week[date(2026, 11, 2)].reported == 1
    assert fraction(by_week[date(2026, 11, 2)].response) == "1/1"
    assert by_week[date(2026, 11, 9)].reported == 0
    assert by_week[date(2026, 11, 9)].response.percent is None
    assert board.trend[-1].rates == board.rates_week


@pytest.mark.parametrize(("day", "reported_today"), [(23, 4), (25, 1), (29, 0)])
def test_today_is_counted_inside_its_week_on_any_day(week, tree, people, day, reported_today):
    # Monday (a-d reported), Wednesday (e), Sunday (nothing): today at either end of a week.
    board = community_board_for(
        user=people["secretary"], community=tree["community"], now=at(2026, 11, day, 23, 30)
    )
    assert board.rates_today.reported == reported_today
    assert board.rates_week.reported == 5
    assert [p.rates.reported for p in board.trend] == [0] * 7 + [5]


def test_a_case_left_out_of_the_rates_takes_its_follow_up_with_it(week, tree, people):
    with time_machine.travel(at(2026, 11, 24, 9, 0), tick=False):
        case_exclude_from_rates(actor=people["secretary"], case=week["a"], reason="测试数据")
    rates = community_board_for(
        user=people["secretary"], community=tree["community"], now=NOW
    ).rates_week
    assert (rates.reported, rates.excluded) == (4, 1)
    # a's answer was the resolved and satisfied one; only b's (neither) is left.
    assert (fraction(rates.resolution), fraction(rates.satisfaction)) == ("0/1", "0/1")
    table = area_table_for(user=people["supervisor"], place=tree["subdistrict"], now=NOW)
    mine = next(r for r in table.rows if r.code == tree["community"].code)
    assert fraction(mine.rates.resolution) == "0/1"
    assert mine.cases == 5  # the table's count is of every case reported, excluded or not
    assert fraction(table.total.rates.satisfaction) == "0/1"


def test_each_community_counts_its_own_follow_ups(week, tree, people):
    elsewhere = week["elsewhere"]
    with time_machine.travel(at(2026, 11, 24, 9, 0), tick=False) as clock:
        case = case_respond(actor=elsewhere.lead, case=elsewhere)
        case = case_start(actor=case.lead, case=case)
        case = case_complete(actor=case.lead, case=case, note="换了灯泡")
        clock.move_to(at(2026, 11, 24, 12, 0))
        case_follow_up(actor=case.reporter, case=case, resolved=True, satisfaction="satisfied")
    mine = community_board_for(
        user=people["secretary"], community=tree["community"], now=NOW
    ).rates_week
    assert (fraction(mine.resolution), fraction(mine.satisfaction)) == ("1/2", "1/2")
    theirs = community_board_for(
        user=people["supervisor"], community=tree["other_community"], now=NOW
    ).rates_week
    assert (fraction(theirs.resolution), fraction(theirs.satisfaction)) == ("1/1", "1/1")
    table = area_table_for(user=people["supervisor"], place=tree["subdistrict"], now=NOW)
    rows = {r.name: r for r in table.rows}
    assert fraction(rows["虹桥新城居民区"].rates.resolution) == "1/2"
    assert fraction(rows["另一居民区"].rates.resolution) == "1/1"
    assert fraction(table.total.rates.satisfaction) == "2/3"
    # The subdistrict's own figures, follow-ups matched to their cases, agree.
    whole = case_rates_for(
        user=people["supervisor"],
        start=table.period.start,
        end=table.period.end,
        place=tree["subdistrict"],
        now=NOW,
    ).total
    assert (whole.follow_ups_answered, whole.resolved, whole.satisfied) == (3, 2, 2)


@pytest.mark.parametrize(
    ("who", "opens"),
    [
        ("secretary", True),
        ("worker", True),
        ("supervisor", True),
        ("district_supervisor", True),
        ("admin", True),
        ("grid_worker", False),  # a grid is not the whole community
        ("grid_leader", False),
        ("property", False),
        ("mediator", False),
        ("resident", False),
        ("volunteer", False),
        ("other_worker", False),
    ],
)
def test_who_opens_a_community_board(tree, people, who, opens):
    code = tree["community"].code
    if opens:
        assert board_community_get(user=people[who], code=code) == tree["community"]
        community_board_for(user=people[who], community=tree["community"], now=NOW)
    else:
        with pytest.raises(NotFound):
            board_community_get(user=people[who], code=code)
        with pytest.raises(NotFound):
            community_board_for(user=people[who], community=tree["community"], now=NOW)


def test_a_board_code_that_is_not_a_community_is_not_found(tree, people):
    with pytest.raises(NotFound):
        board_community_get(user=people["supervisor"], code=tree["estate"].code)
    with pytest.raises(NotFound):
        board_area_get(user=people["supervisor"], code=tree["community"].code)


def test_the_area_table_has_one_row_per_community_below(week, tree, people):
    table = area_table_for(user=people["supervisor"], place=tree["subdistrict"], now=NOW)
    rows = {r.name: r for r in table.rows}
    assert list(rows) == ["虹桥新城居民区", "另一居民区"]  # by code: HQXC before LY
    mine, other = rows["虹桥新城居民区"], rows["另一居民区"]
    assert (mine.cases, mine.overdue) == (5, 3)
    assert (fraction(mine.rates.response), fraction(mine.rates.completion)) == ("3/4", "1/4")
    assert (fraction(mine.rates.resolution), fraction(mine.rates.satisfaction)) == ("1/2", "1/2")
    # Never answered: due a response since Monday 09:15, and its completion overdue.
    assert (other.cases, other.overdue) == (1, 1)
    assert fraction(other.rates.response) == "0/1"
    assert other.rates.resolution.percent is None
    assert (table.total.cases, table.total.overdue) == (6, 4)
    assert fraction(table.total.rates.response) == "3/5"


def test_the_area_table_sorts_with_nothing_due_last(week, tree, people):
    def order(sort):
        table = area_table_for(
            user=people["supervisor"], place=tree["subdistrict"], now=NOW, sort=sort
        )
        return table.sort, [r.name for r in table.rows]

    assert order("-overdue") == ("-overdue", ["虹桥新城居民区", "另一居民区"])
    assert order("overdue") == ("overdue", ["另一居民区", "虹桥新城居民区"])
    assert order("-response") == ("-response", ["虹桥新城居民区", "另一居民区"])
    assert order("response")[1] == ["另一居民区", "虹桥新城居民区"]
    # 另一居民区 has had no follow-up: "—" goes last whichever way the column is sorted.
    assert order("resolution")[1] == ["虹桥新城居民区", "另一居民区"]
    assert order("-resolution")[1] == ["虹桥新城居民区", "另一居民区"]
    assert order("-community")[1] == ["另一居民区", "虹桥新城居民区"]
    assert order("nonsense") == ("community", ["虹桥新城居民区", "另一居民区"])


def test_a_month_table_counts_the_month(week, tree, people, report):
    with time_machine.travel(at(2026, 11, 3, 9, 0), tick=False):
        report(text="月初的路灯")
    weekly = area_table_for(user=people["supervisor"], place=tree["subdistrict"], now=NOW)
    monthly = area_table_for(
        user=people["supervisor"], place=tree["subdistrict"], now=NOW, period="month"
    )
    assert weekly.total.cases == 6 and monthly.total.cases == 7
    assert (monthly.period.first_day, monthly.period.last_day) == (
        date(2026, 11, 1),
        date(2026, 11, 30),
    )


@pytest.mark.parametrize(
    ("who", "place", "opens"),
    [
        ("supervisor", "subdistrict", True),
        ("district_supervisor", "subdistrict", True),
        ("district_supervisor", "district", True),
        ("admin", "district", True),
        ("supervisor", "district", False),  # above their subdistrict
        ("secretary", "subdistrict", False),
        ("worker", "subdistrict", False),
        ("resident", "subdistrict", False),
    ],
)
def test_who_opens_an_area_table(tree, people, who, place, opens):
    if opens:
        assert board_area_get(user=people[who], code=tree[place].code) == tree[place]
    else:
        with pytest.raises(NotFound):
            board_area_get(user=people[who], code=tree[place].code)
        with pytest.raises(NotFound):
            area_table_for(user=people[who], place=tree[place], now=NOW)


def test_a_cluster_table_shows_the_communities_the_reader_may_read(week, tree, people):
    cluster = cluster_create(
        actor=None,
        code="P2",
        name="第二片区",
        communities=[tree["community"], tree["other_community"]],
    )
    whole = cluster_table_for(user=people["admin"], cluster=cluster, now=NOW)
    assert [r.name for r in whole.rows] == ["虹桥新城居民区", "另一居民区"]
    assert whole.total.cases == 6
    mine = cluster_table_for(user=people["other_worker"], cluster=cluster, now=NOW)
    assert [(r.name, r.cases) for r in mine.rows] == [("另一居民区", 1)]
    assert board_cluster_get(user=people["secretary"], code="p2") == cluster
    with pytest.raises(NotFound):
        board_cluster_get(user=people["resident"], code="P2")
    with pytest.raises(NotFound):
        board_cluster_get(user=people["secretary"], code="P9")


def test_the_area_table_takes_the_same_queries_for_two_or_twelve_communities(
    week, tree, people, report
):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            area_table_for(user=people["district_supervisor"], place=tree["subdistrict"], now=NOW)
        return len(captured)

    queries()  # the reader's scopes are read once and kept for the request
    few = queries()
    for n in range(10):
        community = place_create(
            actor=None,
            kind=PlaceKind.COMMUNITY,
            name=f"新居民区{n}",
            segment=f"N{n}",
            parent=tree["subdistrict"],
        )
        home = place_create(
            actor=None, kind=PlaceKind.ESTATE, name="小区", segment="E1", parent=community
        )
        with time_machine.travel(at(2026, 11, 24, 9, 0), tick=False):
            report(place=home, actor=people["supervisor"], text="路灯")
    many = queries()
    table = area_table_for(user=people["district_supervisor"], place=tree["subdistrict"], now=NOW)
    assert len(table.rows) == 12
    assert many == few


def test_the_board_index_lists_what_the_user_may_open(tree, people):
    supervisor = boards_for(user=people["supervisor"])
    assert [a.code for a in supervisor.areas] == [tree["subdistrict"].code]
    assert [c.code for c in supervisor.communities] == [
        tree["community"].code,
        tree["other_community"].code,
    ]
    secretary = boards_for(user=people["secretary"])
    assert (secretary.areas, [c.code for c in secretary.communities]) == (
        [],
        [tree["community"].code],
    )
    assert boards_for(user=people["grid_worker"]).communities == []
