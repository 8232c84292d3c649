"""A week of cases with known outcomes, built through the cases services at frozen times.

`week` (Monday 2026-11-23 to Sunday 2026-11-29; the board is read on Wednesday the 25th
at 09:40) holds, in 虹桥新城居民区:

    a  street light, 1号楼 101   responded 09:10 · completed 10:00 · resident: resolved,
                                 satisfied → closed
    b  street light, 1号楼 102   responded 09:10 · completed 10:00 · resident: not resolved,
                                 unsatisfied → reopened, due again Tue 12:00 → overdue
    c  litter, 2号楼 201         responded 09:10 · never completed (due Tue 09:00) → overdue
    d  street light, 中心绿地     responded 09:30, late (due 09:15) → overdue
    e  litter, 2号楼 201         reported Wed 09:30, response due 09:45: not yet due

and in 另一居民区 one street light case reported on Monday and never answered.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from gongzhi.cases.models import Category, Channel
from gongzhi.cases.services import (
    case_complete,
    case_follow_up,
    case_report,
    case_respond,
    case_start,
)
from gongzhi.places.models import PlaceKind
from gongzhi.places.services import place_create

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    """A Shanghai wall-clock instant: at(2026, 11, 25, 9, 40)."""
    return datetime(*args, tzinfo=SHANGHAI)


# When the board of `week` is read.
NOW = at(2026, 11, 25, 9, 40)


@pytest.fixture
def category(db):
    return {c.code: c for c in Category.objects.all()}


@pytest.fixture
def green(tree):
    """A public area of the estate: cases there are in no building."""
    return place_create(
        actor=None, kind=PlaceKind.PUBLIC_AREA, name="中心绿地", segment="P1", parent=tree["estate"]
    )


@pytest.fixture
def report(tree, people, category, resident_at):
    def make(code="street_light", *, place=None, text="路灯不亮了", actor=None):
        # A resident reports about their own home or a shared place of their community.
        place = place or tree["dwelling"]
        return case_report(
            actor=actor or resident_at(place),
            place=place,
            category=category[code],
            text=text,
            channel=Channel.RESIDENT_PAGE,
        )

    return make


@pytest.fixture
def week(tree, people, report, green):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False) as clock:
        a = report(text="1号楼101门口路灯不亮")
        b = report(place=tree["dwelling_102"], text="1号楼102门口路灯不亮")
        c = report("litter", place=tree["dwelling_201"], text="2号楼垃圾堆放")
        d = report(place=green, text="中心绿地路灯不亮")
        elsewhere = report(place=tree["other_dwelling"], text="9号楼路灯不亮")
        clock.move_to(at(2026, 11, 23, 9, 10))
        for case in (a, b, c):
            case_respond(actor=case.lead, case=case)
        clock.move_to(at(2026, 11, 23, 9, 30))
        case_respond(actor=d.lead, case=d)
        clock.move_to(at(2026, 11, 23, 10, 0))
        for case in (a, b):
            case_start(actor=case.lead, case=case)
            case_complete(actor=case.lead, case=case, note="换了灯泡")
        clock.move_to(at(2026, 11, 23, 12, 0))
        a = case_follow_up(
            actor=people["resident"], case=a, resolved=True, satisfaction="satisfied"
        )
        b = case_follow_up(actor=b.reporter, case=b, resolved=False, satisfaction="unsatisfied")
        clock.move_to(at(2026, 11, 25, 9, 30))
        e = report("litter", place=tree["dwelling_201"], text="2号楼楼道垃圾")
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "elsewhere": elsewhere}
