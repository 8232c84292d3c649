"""The roster import: every row right or nothing written; the same file twice changes nothing."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from gongzhi.accounts.models import Relation, Residency, ResidencyStatus, User
from gongzhi.accounts.services import RosterRefused, residents_from_roster
from gongzhi.core.errors import ValidationFailed
from gongzhi.core.models import AuditEvent
from gongzhi.places.models import Grid, Place, PlaceKind
from gongzhi.places.roster import (
    RosterRow,
    chinese_number,
    parse_area,
    parse_phone,
    roster_import,
    roster_validate,
    segment_for,
)
from gongzhi.places.roster_template import roster_template_bytes

HQXC = "310105-ZJQ-HQXC"

GOOD_ROWS = [
    ["虹桥新城小区", "1号楼", "1单元", "101", "89.50", "王芳", "13911110001", "业主", "第一网格"],
    ["虹桥新城小区", "1号楼", "1单元", "101", "", "李强", "13911110002", "家庭成员", "第一网格"],
    ["虹桥新城小区", "12号楼", "1单元", "1201", 96.3, "赵敏", 13911110003, "共有人", "第三网格"],
    ["虹桥新城小区", "12号楼", "1单元", "1202", "", "", "", "", "第三网格"],
    ["虹桥新城小区", "12号楼", "2单元", "1201", "", "钱伟", "13911110004", "租户", "第三网格"],
    ["紫云小区", "3幢", "", "301室", "70", "孙丽", "13911110005", "业主", ""],
    ["紫云小区", "3幢", "", "302室", "70", "周杰", "", "业主", ""],
]


def tally():
    return (
        Place.objects.count(),
        User.objects.count(),
        Residency.objects.count(),
        Grid.objects.count(),
        AuditEvent.objects.count(),
    )


def test_a_good_roster_builds_the_tree_and_registers_the_residents(tree, people, roster_file):
    community = tree["community"]
    report = roster_import(actor=people["worker"], community=community, file=roster_file(GOOD_ROWS))
    assert report.ok, report.summary_lines()
    assert report.rows == 7
    assert dict(report.created) == {
        "estate": 1,
        "building": 2,
        "entrance": 2,
        "dwelling": 5,
        "grid": 1,
        "resident": 6,
    }
    assert report.existing["estate"] == 1
    assert report.existing["dwelling"] == 1
    assert report.existing["grid"] == 1
    assert report.areas_filled == 0  # 101 already had 89.50 in the tree

    codes = set(Place.objects.filter(community=community).values_list("code", flat=True))
    assert {
        f"{HQXC}-E1-B12",
        f"{HQXC}-E1-B12-U1",
        f"{HQXC}-E1-B12-U1-1201",
        f"{HQXC}-E1-B12-U1-1202",
        f"{HQXC}-E1-B12-U2-1201",
        f"{HQXC}-E2",
        f"{HQXC}-E2-B3",
        f"{HQXC}-E2-B3-301",
        f"{HQXC}-E2-B3-302",
    } <= codes
    new_dwelling = Place.objects.get(code=f"{HQXC}-E1-B12-U1-1201")
    assert new_dwelling.name == "1201室"
    assert new_dwelling.kind == PlaceKind.DWELLING
    assert new_dwelling.community == community
    assert new_dwelling.depth == 6
    assert new_dwelling.exclusive_area == Decimal("96.30")
    assert new_dwelling.parent.parent.name == "12号楼"
    assert Place.objects.get(code=f"{HQXC}-E2").name == "紫云小区"
    shop_row_dwelling = Place.objects.get(code=f"{HQXC}-E2-B3-301")
    assert shop_row_dwelling.parent.kind == PlaceKind.BUILDING  # no entrance: under the building

    residencies = {
        (r.user.name, r.place.code): r
        for r in Residency.objects.select_related("user", "place").filter(community=community)
    }
    wang = residencies[("王芳", tree["dwelling"].code)]
    assert wang.status == ResidencyStatus.VERIFIED
    assert wang.relation == Relation.OWNER
    assert wang.user.phone == "13911110001"
    assert residencies[("赵敏", f"{HQXC}-E1-B12-U1-1201")].relation == Relation.CO_OWNER
    assert residencies[("钱伟", f"{HQXC}-E1-B12-U2-1201")].relation == Relation.TENANT
    assert residencies[("周杰", f"{HQXC}-E2-B3-302")].user.phone is None

    grid_3 = Grid.objects.get(community=community, name="第三网格")
    assert grid_3.code == f"{HQXC}-G3"
    assert list(grid_3.buildings.values_list("code", flat=True)) == [f"{HQXC}-E1-B12"]
    assert tree["building"] in tree["grid"].buildings.all()
    assert AuditEvent.objects.filter(verb="places.roster_import").count() == 1


def test_importing_the_same_file_again_changes_nothing(tree, people, roster_file):
    path = roster_file(GOOD_ROWS)
    roster_import(actor=people["worker"], community=tree["community"], file=path)
    before = tally()
    again = roster_import(actor=people["worker"], community=tree["community"], file=path)
    assert again.ok
    assert sum(again.created.values()) == 0
    assert again.existing["dwelling"] == 6
    assert again.existing["resident"] == 6
    assert tally() == before


def test_two_bad_rows_import_nothing_and_are_both_reported_in_chinese(tree, people, roster_file):
    rows = [
        *GOOD_ROWS[:2],
        ["虹桥新城小区", "12号楼", "1单元", "1201", "96.3", "赵敏", "1391111000", "共有人", ""],
        ["虹桥新城小区", "12号楼", "1单元", "1202", "", "钱伟", "13911110004", "房东", ""],
        *GOOD_ROWS[5:],
    ]
    before = tally()
    report = roster_import(
        actor=people["worker"], community=tree["community"], file=roster_file(rows)
    )
    assert not report.ok
    assert [(e.row, e.column, e.value) for e in report.errors] == [
        (4, "手机号", "1391111000"),
        (5, "与房屋关系", "房东"),
    ]
    assert "11位数字" in report.errors[0].message
    assert "业主、共有人、租户、家庭成员" in report.errors[1].message
    assert report.errors[0].column_letter == "G"
    assert tally() == before
    lines = report.summary_lines()
    assert lines[0] == "发现 2 处问题，未导入任何数据。请修改后重新上传："
    assert "第4行 手机号「1391111000」" in lines[1]


def test_a_refusal_by_the_accounts_service_rolls_back_the_places_too(
    tree, people, roster_file, monkeypatch
):
    def refuse_second(*, actor, rows):
        residents_from_roster(actor=actor, rows=rows)
        raise RosterRefused({1: ValidationFailed("该居民无法登记。")})

    monkeypatch.setattr("gongzhi.places.roster.residents_from_roster", refuse_second)
    before = tally()
    report = roster_import(
        actor=people["worker"], community=tree["community"], file=roster_file(GOOD_ROWS)
    )
    assert [(e.row, e.message) for e in report.errors] == [(3, "该居民无法登记。")]
    assert sum(report.created.values()) == 0
    assert tally() == before


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [
                ["小区A", "1号楼", "1单元", "101", "80", "", "", "", ""],
                ["小区A", "1幢", "1", "101室", "81", "", "", "", ""],
            ],
            [(3, "面积(㎡)", "同一房屋在第2行登记的面积是80.00㎡")],
        ),
        (
            [
                ["小区A", "1号楼", "1单元", "101", "", "张三", "13911112222", "业主", ""],
                ["小区A", "1号楼", "1单元", "102", "", "张四", "13911112222", "业主", ""],
            ],
            [(3, "手机号", "该手机号在第2行登记的姓名是“张三”")],
        ),
        (
            [
                ["小区A", "1号楼", "1单元", "101", "", "张三", "13911112222", "业主", ""],
                ["小区A", "1号楼", "1单元", "101", "", "张三", "13911112222", "业主", ""],
            ],
            [(3, "姓名", "与第2行重复")],
        ),
        (
            [
                ["小区A", "1号楼", "1单元", "101", "", "", "", "", "第一网格"],
                ["小区A", "1号楼", "1单元", "102", "", "", "", "", "第二网格"],
            ],
            [(3, "网格", "一栋楼只能填一个网格")],
        ),
        (
            [["", "1号楼", "", "", "-5", "张三", "", "", ""]],
            [
                (2, "小区", "不能为空"),
                (2, "室号", "不能为空"),
                (2, "面积(㎡)", "大于0"),
                (2, "与房屋关系", "不能为空"),
            ],
        ),
        (
            [["小区A", "1号楼", "", "101", "80.123", "", "13911112222", "业主", ""]],
            [(2, "面积(㎡)", "最多两位小数"), (2, "姓名", "姓名不能为空")],
        ),
    ],
)
def test_rows_are_checked_alone_and_against_each_other(rows, expected, roster_file, tree):
    report = roster_import(actor=None, community=tree["community"], file=roster_file(rows))
    found = [(e.row, e.column, e.message) for e in report.errors]
    assert len(found) == len(expected), found
    for (row, column, message), (want_row, want_column, fragment) in zip(
        sorted(found), sorted(expected), strict=True
    ):
        assert (row, column) == (want_row, want_column)
        assert fragment in message


def test_a_different_area_than_the_tree_holds_is_refused(tree, roster_file):
    rows = [["虹桥新城小区", "1号楼", "1单元", "101室", "90", "", "", "", ""]]
    report = roster_import(actor=None, community=tree["community"], file=roster_file(rows))
    assert [(e.row, e.column) for e in report.errors] == [(2, "面积(㎡)")]
    assert "89.50" in report.errors[0].message


def test_a_missing_area_is_filled_from_the_roster(tree, roster_file):
    rows = [["虹桥新城小区", "2号楼", "1单元", "201", "66.6", "", "", "", ""]]
    report = roster_import(actor=None, community=tree["community"], file=roster_file(rows))
    assert report.ok
    assert report.areas_filled == 1
    tree["dwelling_201"].refresh_from_db()
    assert tree["dwelling_201"].exclusive_area == Decimal("66.60")


def test_a_phone_known_under_another_name_is_refused_without_revealing_it(
    tree, people, roster_file
):
    rows = [["虹桥新城小区", "1号楼", "1单元", "102", "", "冒名者", "13800000003", "业主", ""]]
    report = roster_import(actor=None, community=tree["community"], file=roster_file(rows))
    assert [(e.row, e.column) for e in report.errors] == [(2, "手机号")]
    assert "“w*****”" in report.errors[0].message  # the worker's name, masked
    assert not Residency.objects.filter(place=tree["dwelling_102"]).exists()


def test_a_dry_run_reports_what_would_happen_and_writes_nothing(tree, people, roster_file):
    before = tally()
    report = roster_import(
        actor=people["worker"],
        community=tree["community"],
        file=roster_file(GOOD_ROWS),
        dry_run=True,
    )
    assert report.ok
    assert report.dry_run
    assert report.created["dwelling"] == 5
    assert report.created["resident"] == 6
    assert tally() == before
    assert report.summary_lines()[0].startswith("检查通过（未写入，仅检查）")


def test_the_header_may_sit_below_a_title_and_be_written_in_traditional(tree, roster_file):
    header = ["小區", "樓棟", "單元", "室號", "面積（㎡）", "姓名", "手機號", "與房屋關係", "备注"]
    rows = [["虹桥新城小区", "2号楼", "1单元", "202", "", "刘洋", "13911113333", "業主", "新"]]
    path = roster_file(rows, header=header, title_rows=[["虹桥新城居民区花名册"]])
    report = roster_import(actor=None, community=tree["community"], file=path)
    assert report.ok, report.summary_lines()
    residency = Residency.objects.get(user__phone="13911113333")
    assert residency.place.code == f"{HQXC}-E1-B2-U1-202"
    assert residency.relation == Relation.OWNER


def test_a_file_that_is_not_a_workbook_is_reported(tree, tmp_path):
    path = tmp_path / "roster.xlsx"
    path.write_text("小区,楼栋,室号\n", encoding="utf-8")
    report = roster_import(actor=None, community=tree["community"], file=str(path))
    assert [(e.row, e.message[:6]) for e in report.errors] == [(0, "无法读取该文")]


def test_a_sheet_without_the_needed_columns_is_reported(tree, roster_file):
    path = roster_file([["a", "b"]], header=["姓名", "手机号"])
    report = roster_import(actor=None, community=tree["community"], file=path)
    assert len(report.errors) == 1
    assert "找不到表头" in report.errors[0].message


def test_the_roster_goes_into_a_community_only(tree, roster_file):
    with pytest.raises(ValidationFailed):
        roster_import(actor=None, community=tree["estate"], file=roster_file(GOOD_ROWS))


def test_the_filled_template_imports_and_its_example_row_is_skipped(tree, tmp_path):
    workbook = load_workbook(BytesIO(roster_template_bytes()))
    sheet = workbook["花名册"]
    assert [c.value for c in sheet[1]][:4] == ["小区*", "楼栋*", "单元", "室号*"]
    assert "说明" in workbook.sheetnames
    assert sheet.data_validations.dataValidation[0].formula1 == '"业主,共有人,租户,家庭成员"'
    sheet.append(["虹桥新城小区", "2号楼", "1单元", "0203", "55", "陈晨", "13911114444", "租户"])
    path = tmp_path / "filled.xlsx"
    workbook.save(path)
    report = roster_import(actor=None, community=tree["community"], file=str(path))
    assert report.ok, report.summary_lines()
    assert report.example_skipped
    assert report.rows == 1
    assert Place.objects.get(code=f"{HQXC}-E1-B2-U1-0203").exclusive_area == Decimal("55.00")
    assert not Place.objects.filter(name="示例小区").exists()


def test_a_template_downloaded_in_english_imports_again(tree, tmp_path):
    with translation.override("en"):
        workbook = load_workbook(BytesIO(roster_template_bytes()))
    sheet = workbook.worksheets[0]
    assert str(sheet["A1"].value).startswith("Estate")
    sheet.append(["虹桥新城小区", "2号楼", "1单元", "0204", "60", "陈晨", "13911115555", "租户"])
    path = tmp_path / "filled-en.xlsx"
    workbook.save(path)
    report = roster_import(actor=None, community=tree["community"], file=str(path))
    assert report.ok, report.summary_lines()
    assert Place.objects.filter(code=f"{HQXC}-E1-B2-U1-0204").exists()


def test_an_empty_template_is_reported_as_empty(tree):
    report = roster_import(
        actor=None, community=tree["community"], file=BytesIO(roster_template_bytes())
    )
    assert [e.message for e in report.errors] == ["表格中没有数据行。"]


def test_five_thousand_dwellings_import_in_one_go(tree, people, roster_file):
    rows = [
        [
            "大型小区",
            f"{b}号楼",
            f"{u}单元",
            f"{floor}{door:02d}",
            "88.8",
            "",
            "",
            "",
            f"网格{b % 5 + 1}",
        ]
        for b in range(1, 26)
        for u in range(1, 3)
        for floor in range(1, 21)
        for door in range(1, 6)
    ]
    assert len(rows) == 5000
    report = roster_import(
        actor=people["worker"], community=tree["community"], file=roster_file(rows)
    )
    assert report.ok, report.summary_lines()[:5]
    assert report.created["dwelling"] == 5000
    assert report.created["building"] == 25
    assert report.created["entrance"] == 50
    estate = Place.objects.get(community=tree["community"], name="大型小区")
    assert Place.objects.filter(code__startswith=estate.code + "-", kind="dwelling").count() == 5000
    assert Place.objects.get(code=f"{estate.code}-B25-U2-2005").exclusive_area == Decimal("88.80")
    assert Grid.objects.get(community=tree["community"], name="网格5").buildings.count() == 5
    assert not Place.objects.filter(community=tree["community"], search_name="").exists()


# --- pure pieces ----------------------------------------------------------------------------

_DIGITS = "零一二三四五六七八九"


def _chinese(n: int) -> str:
    """How 1..9999 is written in Chinese (the test's own reference, not the code's)."""
    parts = []
    zero = False
    for unit, word in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // unit % 10
        if digit:
            if zero:
                parts.append("零")
                zero = False
            parts.append(("" if (unit == 10 and digit == 1 and n < 20) else _DIGITS[digit]) + word)
        elif parts:
            zero = True
    return "".join(parts)


@given(st.integers(min_value=1, max_value=9999))
def test_chinese_numerals_read_back_to_their_value(n):
    assert chinese_number(_chinese(n)) == n


@pytest.mark.parametrize(
    ("kind", "name", "segment"),
    [
        (PlaceKind.BUILDING, "12号楼", "B12"),
        (PlaceKind.BUILDING, "12幢", "B12"),
        (PlaceKind.BUILDING, "第十二栋", "B12"),
        (PlaceKind.BUILDING, "１２號樓", "B12"),
        (PlaceKind.BUILDING, "A座", "BA"),
        (PlaceKind.BUILDING, "12-1号楼", "B12X1"),
        (PlaceKind.BUILDING, "北楼", None),
        (PlaceKind.ENTRANCE, "1单元", "U1"),
        (PlaceKind.ENTRANCE, "01", "U1"),
        (PlaceKind.ENTRANCE, "一单元", "U1"),
        (PlaceKind.DWELLING, "1201", "1201"),
        (PlaceKind.DWELLING, "1201室", "1201"),
        (PlaceKind.DWELLING, "0101", "0101"),
    ],
)
def test_codes_come_from_names(kind, name, segment):
    assert segment_for(kind, name) == segment


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_any_mainland_mobile_number_is_accepted_however_spaced(phone):
    assert parse_phone(phone) == phone
    assert parse_phone(f"{phone[:3]} {phone[3:7]}-{phone[7:]}") == phone
    assert parse_phone("+86" + phone) == phone


@given(
    st.from_regex(r"(1[0-2]|[02-9][0-9])[0-9]{9}|1[3-9][0-9]{8}|1[3-9][0-9]{10}", fullmatch=True)
)
def test_other_numbers_are_not_mobile_numbers(text):
    assert parse_phone(text) is None


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"), places=2))
def test_positive_areas_with_two_decimals_are_accepted(area):
    assert parse_area(str(area)) == area
    assert parse_area(f"{area}㎡") == area


@given(st.decimals(min_value=Decimal("0.001"), max_value=Decimal("999"), places=3))
def test_areas_with_a_third_decimal_are_refused(area):
    assert (parse_area(str(area)) is None) == (area != area.quantize(Decimal("0.01")))


def test_validation_is_pure_and_reports_rows_in_order():
    rows = [
        RosterRow(
            row=2,
            estate="A",
            building="1",
            room="101",
            phone_text="1",
            name="甲",
            relation_text="业主",
        ),
        RosterRow(row=3, estate="A", building="1", room="102", area_text="x"),
    ]
    errors = roster_validate(rows)
    assert [(e.row, e.column) for e in errors] == [(2, "手机号"), (3, "面积(㎡)")]
