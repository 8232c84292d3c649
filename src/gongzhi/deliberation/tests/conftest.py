"""Fixtures for the consultation loop: an estate with known areas and verified owners.

    虹桥新城居民区 (the root `tree`'s community)
      绿园 E2                      <- `green["estate"]`, owners' committee `green["committee"]`
        1号楼 B1 / 101 (90 ㎡), 102 (80 ㎡), 201 (70 ㎡)
        2号楼 B2 / 101 (100 ㎡), 102 (60 ㎡), 201 (100 ㎡)

Owners (verified through `residency_claim` + `residency_verify`, as in production):
王 holds B1-101 and B1-102 (one owner, 170 ㎡); 李 B1-201; 张 and 周 co-own B2-101 (张
is the owner, 周 the co-owner); 赵 B2-102; B2-201 has no registered owner. So the
register has 5 owners and 500 ㎡.
"""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from gongzhi.accounts.models import Relation, Role
from gongzhi.accounts.services import residency_claim, residency_verify, role_assign, user_create
from gongzhi.places.models import PlaceKind
from gongzhi.places.services import place_create

SHANGHAI = ZoneInfo("Asia/Shanghai")
PASSWORD = "pw-Example-2026"


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def make_user(username: str, phone: str, name: str = ""):
    return user_create(
        actor=None, username=username, name=name or username, phone=phone, password=PASSWORD
    )


def verified(people, user, place, relation=Relation.OWNER):
    residency = residency_claim(user=user, place=place, relation=relation)
    return residency_verify(actor=people["worker"], residency=residency)


@pytest.fixture
def green(tree, people):
    def add(kind, name, segment, parent, **fields):
        return place_create(
            actor=None, kind=kind, name=name, segment=segment, parent=parent, **fields
        )

    g = {"estate": add(PlaceKind.ESTATE, "绿园", "E2", tree["community"])}
    g["b1"] = add(PlaceKind.BUILDING, "1号楼", "B1", g["estate"])
    g["b2"] = add(PlaceKind.BUILDING, "2号楼", "B2", g["estate"])
    layout = {
        "b1": [("101", "90.00"), ("102", "80.00"), ("201", "70.00")],
        "b2": [("101", "100.00"), ("102", "60.00"), ("201", "100.00")],
    }
    for building, rooms in layout.items():
        for room, area in rooms:
            g[f"{building}_{room}"] = add(
                PlaceKind.DWELLING, f"{room}室", room, g[building], exclusive_area=area
            )
    g["wang"] = make_user("wang", "13700000001", "王建国")
    g["li"] = make_user("li", "13700000002", "李梅")
    g["zhang"] = make_user("zhang", "13700000003", "张伟")
    g["zhou"] = make_user("zhou", "13700000004", "周芳")
    g["zhao"] = make_user("zhao", "13700000005", "赵强")
    g["tenant"] = make_user("tenant", "13700000006", "钱租")
    verified(people, g["wang"], g["b1_101"])
    verified(people, g["wang"], g["b1_102"])
    verified(people, g["li"], g["b1_201"])
    verified(people, g["zhang"], g["b2_101"])
    verified(people, g["zhou"], g["b2_101"], Relation.CO_OWNER)
    verified(people, g["zhao"], g["b2_102"])
    verified(people, g["tenant"], g["b2_201"], Relation.TENANT)
    g["committee"] = make_user("green_oc", "13700000009", "业委会主任")
    role_assign(actor=None, user=g["committee"], role=Role.OWNERS_COMMITTEE, place=g["estate"])
    g["property"] = make_user("green_pm", "13700000010", "物业经理")
    role_assign(actor=None, user=g["property"], role=Role.PROPERTY_MANAGER, place=g["estate"])
    return g


def workbook(
    rows, header=("楼栋", "室号", "专有部分面积", "面积依据", "业主", "手机号", "开发商未售")
):
    """An .xlsx in memory with a title row, the header and `rows`."""
    book = Workbook()
    sheet = book.active
    sheet.append(["绿园业主名册"])
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    return data
