"""The residents' roster (花名册) a community already keeps in Excel, brought into gongzhi.

One row per resident, or per dwelling with no resident yet::

    小区 | 楼栋 | 单元 | 室号 | 面积(㎡) | 姓名 | 手机号 | 与房屋关系 | 网格

Three steps, each on its own:

1. `roster_read` turns a workbook into `RosterRow`s; it knows Excel (header row, number
   cells, full-width digits) and nothing of the database.
2. `roster_validate` checks every row and the rows against each other (a phone under two
   names, one dwelling with two areas); pure, so it is tested without a database.
3. `roster_import` matches the rows against the community's tree, creates what is missing
   with bulk inserts and the residents through the accounts service, all in one
   transaction; if any row is wrong, nothing is written and the report lists every one.

Codes come from the names (``12号楼`` → ``B12``, ``1单元`` → ``U1``, ``1201`` → ``1201``,
estates ``E1``, ``E2``… in order of first appearance), so the same file always lands on the
same places and importing it again changes nothing.
"""

import re
import time
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from gongzhi.accounts.models import Relation, Residency, ResidencyStatus
from gongzhi.accounts.services import (
    RosterRefused,
    RosterResident,
    residents_from_roster,
    residents_from_roster_problems,
)
from gongzhi.core.audit import audit_record
from gongzhi.core.errors import DomainError, ValidationFailed
from gongzhi.core.text import normalise as _normalise

from .models import Grid, Place, PlaceKind
from .services import grid_create, grid_update, search_name_for

CODE_MAX: int = Place._meta.get_field("code").max_length or 0

# A roster repeats the same estate, building and entrance names thousands of times.
normalise = lru_cache(maxsize=16_384)(_normalise)

# A roster bigger than this is not one community's: refuse it before reading it all.
MAX_ROWS = 20_000
# How far down a title row or two may push the header row.
HEADER_SEARCH_ROWS = 5
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
MAX_AREA = Decimal("99999999.99")
# Place names hold 100 characters; a bare number gains a word (12 → 12号楼), so keep room.
NAME_MAX = 90

# The relations a roster may state; owner status is still only a claim until verified.
RELATIONS: dict[str, str] = {
    "业主": Relation.OWNER,
    "共有人": Relation.CO_OWNER,
    "租户": Relation.TENANT,
    "家庭成员": Relation.FAMILY,
}


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # lazy translation: the header as the template writes it
    aliases: tuple[str, ...]
    required: bool = False
    help: Any = ""


COLUMNS: tuple[Column, ...] = (
    Column(
        "estate",
        gettext_lazy("小区"),
        ("小区", "小区名称"),
        required=True,
        help=gettext_lazy("小区名称，如“虹桥新城小区”。同名小区视为同一个。"),
    ),
    Column(
        "building",
        gettext_lazy("楼栋"),
        ("楼栋", "楼号", "楼栋号", "幢", "栋", "楼"),
        required=True,
        help=gettext_lazy("如“12号楼”“12幢”或“12”，编码为B12。"),
    ),
    Column(
        "entrance",
        gettext_lazy("单元"),
        ("单元", "单元号"),
        help=gettext_lazy("如“1单元”或“1”，编码为U1；没有单元的楼栋留空。"),
    ),
    Column(
        "room",
        gettext_lazy("室号"),
        ("室号", "房号", "室", "房间号", "门牌号"),
        required=True,
        help=gettext_lazy("如“1201”，编码为1201。请把该列设为文本格式，以免丢失开头的0。"),
    ),
    Column(
        "area",
        gettext_lazy("面积(㎡)"),
        ("面积", "面积㎡", "面积m2", "专有部分面积", "建筑面积"),
        help=gettext_lazy(
            "专有部分面积，单位平方米，大于0，最多两位小数。业主大会表决按此计算，可留空。"
        ),
    ),
    Column(
        "name",
        gettext_lazy("姓名"),
        ("姓名", "居民姓名"),
        help=gettext_lazy("居民姓名。只登记房屋、暂无居民时，姓名、手机号、关系三列都留空。"),
    ),
    Column(
        "phone",
        gettext_lazy("手机号"),
        ("手机号", "手机", "手机号码", "联系电话", "电话"),
        help=gettext_lazy("11位手机号，居民用它激活账号；同一手机号只能对应一个姓名。"),
    ),
    Column(
        "relation",
        gettext_lazy("与房屋关系"),
        ("与房屋关系", "房屋关系", "关系"),
        help=gettext_lazy("业主、共有人、租户或家庭成员。导入后为“待核验”，核验后才算业主。"),
    ),
    Column(
        "grid",
        gettext_lazy("网格"),
        ("网格", "所属网格", "网格名称"),
        help=gettext_lazy("可选。楼栋所属网格的名称，如“第一网格”；没有的网格会自动建立。"),
    ),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}

# The template's example row: a row equal to it is the example left in place, not data.
EXAMPLE_ROW: tuple[str, ...] = (
    "示例小区",
    "12号楼",
    "1单元",
    "1201",
    "89.50",
    "张三",
    "13800000000",
    "业主",
    "第一网格",
)


@dataclass(frozen=True)
class RowError:
    """One problem in one cell (or one row, or the whole file when `row` is 0)."""

    row: int
    column: str
    value: str
    message: str
    column_letter: str = ""


@dataclass
class RosterRow:
    row: int
    estate: str = ""
    building: str = ""
    entrance: str = ""
    room: str = ""
    area_text: str = ""
    name: str = ""
    phone_text: str = ""
    relation_text: str = ""
    grid: str = ""
    letters: dict[str, str] = field(default_factory=dict)
    # Filled by validation:
    area: Decimal | None = None
    phone: str = ""
    relation: str = ""

    @property
    def has_resident(self) -> bool:
        return bool(self.name or self.phone_text or self.relation_text)

    @property
    def person_key(self) -> str:
        """Who the row's resident is: their phone, or without one their name (at a dwelling)."""
        return self.phone or "name:" + normalise(self.name)

    def value(self, key: str) -> str:
        return {
            "area": self.area_text,
            "phone": self.phone_text,
            "relation": self.relation_text,
        }.get(key, getattr(self, key, ""))

    def error(self, key: str, message: str, value: str | None = None) -> RowError:
        return RowError(
            row=self.row,
            column=str(COLUMN_BY_KEY[key].label),
            value=self.value(key) if value is None else value,
            message=message,
            column_letter=self.letters.get(key, ""),
        )

    def dwelling_key(self) -> tuple[str, str, str, str]:
        return (
            estate_key(self.estate),
            place_key(PlaceKind.BUILDING, self.building),
            place_key(PlaceKind.ENTRANCE, self.entrance) if self.entrance else "",
            place_key(PlaceKind.DWELLING, self.room),
        )


@dataclass
class RosterSheet:
    rows: list[RosterRow]
    errors: list[RowError]
    example_skipped: bool = False
    has_grid_column: bool = False


# ---------------------------------------------------------------- names → code segments

_CHINESE_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CHINESE_UNITS = {"十": 10, "百": 100, "千": 1000}


def chinese_number(text: str) -> int | None:
    """The value of a Chinese numeral below 10000 (十二 → 12, 一百零一 → 101), else None.

    Digit strings written with Chinese digits (一二〇一 → 1201) are read digit by digit.
    """
    if not text or any(ch not in _CHINESE_DIGITS and ch not in _CHINESE_UNITS for ch in text):
        return None
    if not any(ch in _CHINESE_UNITS for ch in text):
        return int("".join(str(_CHINESE_DIGITS[ch]) for ch in text))
    total = 0
    digit: int | None = None
    last_unit = 10_000
    for ch in text:
        if ch in _CHINESE_DIGITS:
            if digit is not None and _CHINESE_DIGITS[ch] != 0:
                return None  # two digits in a row inside a unit numeral: not a number
            digit = _CHINESE_DIGITS[ch] if _CHINESE_DIGITS[ch] != 0 else None
        else:
            unit = _CHINESE_UNITS[ch]
            if unit >= last_unit:
                return None
            # 十二 is 12: a unit with no digit before it counts once (only 十 is written so).
            if digit is None and unit != 10:
                return None
            total += (digit if digit is not None else 1) * unit
            digit = None
            last_unit = unit
    return total + (digit or 0)


# What a worker writes around the number of a building, entrance or dwelling.
_AFFIXES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    PlaceKind.BUILDING: (("第",), ("号楼", "号", "幢", "栋", "楼", "座")),
    PlaceKind.ENTRANCE: (("第",), ("单元", "号", "门")),
    PlaceKind.DWELLING: ((), ("室", "号", "户")),
}
_PREFIXES: dict[str, str] = {
    PlaceKind.BUILDING: "B",
    PlaceKind.ENTRANCE: "U",
    PlaceKind.DWELLING: "",
}
_ALNUM = re.compile(r"^[a-z0-9]+$")
_ALNUM_PARTS = re.compile(r"^[a-z0-9]+(?:[-_/.·][a-z0-9]+)+$")


def _core(kind: str, name: str) -> str:
    text = normalise(name).replace(" ", "")
    prefixes, suffixes = _AFFIXES[kind]
    for prefix in prefixes:
        if text.startswith(prefix) and len(text) > len(prefix):
            text = text[len(prefix) :]
    for suffix in suffixes:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    return text


@lru_cache(maxsize=16_384)
def segment_for(kind: str, name: str) -> str | None:
    """The code segment a building, entrance or dwelling name implies, or None.

    ``12号楼``/``12幢``/``第十二栋`` → ``B12``; ``1单元``/``一单元`` → ``U1``;
    ``1201``/``1201室`` → ``1201``; ``A座`` → ``BA``; ``12-1号楼`` → ``B12X1``.
    Leading zeros of building and entrance numbers are dropped (``01单元`` is ``U1``);
    a dwelling's are kept, because ``0101`` and ``101`` are different doors in some estates.
    """
    core = _core(kind, name)
    if not core:
        return None
    number = chinese_number(core)
    if number is not None:
        core = str(number)
    elif _ALNUM_PARTS.match(core):
        core = "x".join(re.split(r"[-_/.·]", core))
    elif not _ALNUM.match(core):
        return None
    if kind != PlaceKind.DWELLING and core.isdigit():
        core = str(int(core))
    return (_PREFIXES[kind] + core).upper()


def place_key(kind: str, name: str) -> str:
    """What makes two names the same place within one parent: the code segment they imply,
    or (for names that imply none) the normalised name."""
    return segment_for(kind, name) or "name:" + normalise(name)


def estate_key(name: str) -> str:
    """Estates are told apart by name only (小区 names are not numbers)."""
    return "name:" + normalise(name)


_WORDS: dict[str, str] = {
    PlaceKind.BUILDING: "号楼",
    PlaceKind.ENTRANCE: "单元",
    PlaceKind.DWELLING: "室",
}


def display_name(kind: str, text: str) -> str:
    """How a new place is named: a bare number gets its usual word (12 → 12号楼)."""
    text = unicodedata.normalize("NFKC", text).strip()
    if not _ALNUM.match(text.lower()):
        return text
    return text + _WORDS.get(kind, "")


def grid_segment_for(name: str) -> str | None:
    """第一网格 / 1号网格 / 网格1 → ``G1``; None if the name carries no number."""
    core = normalise(name).replace(" ", "")
    for affix in ("第", "网格", "号", "片"):
        core = core.replace(affix, "")
    if not core:
        return None
    number = chinese_number(core)
    if number is not None:
        return f"G{number}"
    if _ALNUM.match(core):
        return "G" + (str(int(core)) if core.isdigit() else core.upper())
    return None


def _sort_key(segment: str) -> int:
    digits = re.match(r"^[A-Z]*(\d+)", segment)
    return min(int(digits.group(1)), 2_000_000_000) if digits else 0


# ---------------------------------------------------------------------------- reading


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        # Excel stores every number as a float: 13800000000.0 is a phone, 1201.0 a room.
        value = int(value) if value.is_integer() else value
    text = unicodedata.normalize("NFKC", str(value))
    return re.sub(r"\s+", " ", text).strip()


def _header_key(text: str) -> str | None:
    cleaned = _header_cleaned(text)
    for column in COLUMNS:
        if cleaned in _header_names(column):
            return column.key
    return None


def _header_cleaned(text: str) -> str:
    cleaned = normalise(text).replace(" ", "").replace("*", "")
    return re.sub(r"[(（].*?[)）]", "", cleaned)


def _header_names(column: Column) -> set[str]:
    """The aliases plus the header in every interface language: a template downloaded
    with the English interface must import again."""
    names = {normalise(a) for a in column.aliases}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            names.add(_header_cleaned(str(column.label)))
    return names


def roster_read(file: str | IO[bytes]) -> RosterSheet:
    """Read the roster sheet of an .xlsx workbook into rows (row numbers as Excel shows them).

    The sheet is the one named 花名册, else the first that is not the 说明 sheet. The header
    row may be below a title row or two; columns are found by their header, in any order,
    and columns gongzhi does not know (备注, 身份证号…) are ignored, never stored.
    """
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        return RosterSheet(
            rows=[],
            errors=[
                RowError(
                    0,
                    "",
                    "",
                    _("无法读取该文件，请上传 .xlsx 格式的 Excel 文件（不支持旧版 .xls）。"),
                )
            ],
        )
    try:
        sheets = [ws for ws in workbook.worksheets if normalise(ws.title) != "说明"]
        named = [ws for ws in sheets if normalise(ws.title) == "花名册"]
        if not sheets:
            return RosterSheet(rows=[], errors=[RowError(0, "", "", _("文件中没有工作表。"))])
        sheet = (named or sheets)[0]
        sheet.reset_dimensions()
        return _read_rows(sheet.iter_rows(values_only=True))
    finally:
        workbook.close()


def _read_rows(rows: Iterable[tuple[Any, ...]]) -> RosterSheet:
    errors: list[RowError] = []
    header: dict[int, str] | None = None
    result: list[RosterRow] = []
    example_skipped = False
    for number, values in enumerate(rows, start=1):
        cells = [_cell_text(v) for v in values]
        if not any(cells):
            continue
        if header is None:
            found = {i: _header_key(c) for i, c in enumerate(cells) if c}
            keys = [k for k in found.values() if k]
            if {"estate", "building", "room"} <= set(keys):
                header = {}
                for i, key in found.items():
                    if key is None:
                        continue
                    if key in header.values():
                        errors.append(
                            RowError(
                                number,
                                str(COLUMN_BY_KEY[key].label),
                                cells[i],
                                _("表头中“%(label)s”列出现了两次。")
                                % {"label": COLUMN_BY_KEY[key].label},
                                get_column_letter(i + 1),
                            )
                        )
                    header[i] = key
                continue
            if number >= HEADER_SEARCH_ROWS:
                break
            continue
        if len(result) >= MAX_ROWS:
            errors.append(
                RowError(number, "", "", _("文件超过 %(max)d 行，请分批导入。") % {"max": MAX_ROWS})
            )
            break
        row = RosterRow(row=number)
        for i, key in header.items():
            text = cells[i] if i < len(cells) else ""
            attribute = {"area": "area_text", "phone": "phone_text", "relation": "relation_text"}
            setattr(row, attribute.get(key, key), text)
            row.letters[key] = get_column_letter(i + 1)
        if _is_example(row):
            example_skipped = True
            continue
        result.append(row)
    if header is None:
        missing = "、".join(str(COLUMN_BY_KEY[k].label) for k in ("estate", "building", "room"))
        errors.append(
            RowError(
                1, "", "", _("找不到表头：表格前几行中必须有 %(cols)s 这几列。") % {"cols": missing}
            )
        )
    elif not result and not errors:
        errors.append(RowError(0, "", "", _("表格中没有数据行。")))
    return RosterSheet(
        rows=result,
        errors=errors,
        example_skipped=example_skipped,
        has_grid_column=header is not None and "grid" in header.values(),
    )


def _is_example(row: RosterRow) -> bool:
    values = (
        row.estate,
        row.building,
        row.entrance,
        row.room,
        row.area_text,
        row.name,
        row.phone_text,
        row.relation_text,
        row.grid,
    )
    return values == EXAMPLE_ROW


# ------------------------------------------------------------------------- validating


def parse_phone(text: str) -> str | None:
    """An 11-digit mainland mobile number from what a worker typed (spaces, dashes, +86)."""
    digits = re.sub(r"[\s\-()]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if PHONE_RE.match(digits) else None


def parse_area(text: str) -> Decimal | None:
    """A positive area with at most two decimals, units (㎡, 平方米) allowed; else None."""
    cleaned = normalise(text).replace(" ", "")
    for unit in ("平方米", "平米", "m2", "m²"):
        if cleaned.endswith(unit):
            cleaned = cleaned[: -len(unit)]
            break
    try:
        area = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not area.is_finite() or area <= 0 or area > MAX_AREA:
        return None
    if area != area.quantize(Decimal("0.01")):
        return None
    return area.quantize(Decimal("0.01"))


def roster_validate(rows: list[RosterRow]) -> list[RowError]:
    """Every problem in the rows, alone and against each other; fills area/phone/relation.

    Pure: it looks at nothing but the rows, so the same file gives the same errors on any
    machine. Checks against what the database already holds come later, in the import.
    """
    errors: list[RowError] = []
    first_area: dict[tuple[str, str, str, str], tuple[Decimal, int]] = {}
    first_name: dict[str, tuple[str, int]] = {}
    first_resident: dict[tuple[tuple[str, str, str, str], str], int] = {}
    first_grid: dict[tuple[str, str], tuple[str, int]] = {}
    for row in rows:
        row_errors: list[RowError] = []
        for key in ("estate", "building", "room"):
            if not row.value(key):
                row_errors.append(
                    row.error(key, _("“%(label)s”不能为空。") % {"label": COLUMN_BY_KEY[key].label})
                )
        for key in ("estate", "building", "entrance", "room", "grid"):
            if len(row.value(key)) > NAME_MAX:
                row_errors.append(
                    row.error(key, _("内容过长（最多%(max)d个字）。") % {"max": NAME_MAX})
                )
        if row.area_text:
            row.area = parse_area(row.area_text)
            if row.area is None:
                row_errors.append(row.error("area", _("面积必须是大于0的数字，最多两位小数。")))
        if row.has_resident:
            if not row.name:
                row_errors.append(row.error("name", _("填写了手机号或关系时，姓名不能为空。")))
            elif len(row.name) > 50:
                row_errors.append(row.error("name", _("姓名过长（最多50个字）。")))
            # No phone is allowed (many elderly residents have none); such a resident is
            # known by name within the dwelling and activates at the committee's desk.
            if row.phone_text:
                row.phone = parse_phone(row.phone_text) or ""
                if not row.phone:
                    row_errors.append(
                        row.error("phone", _("手机号必须是以1开头、第二位为3至9的11位数字。"))
                    )
            if not row.relation_text:
                row_errors.append(row.error("relation", _("登记居民时，与房屋关系不能为空。")))
            else:
                row.relation = RELATIONS.get(normalise(row.relation_text).replace(" ", ""), "")
                if not row.relation:
                    row_errors.append(
                        row.error(
                            "relation",
                            _("与房屋关系只能是：%(choices)s。")
                            % {"choices": "、".join(RELATIONS)},
                        )
                    )
        if not row_errors:
            row_errors.extend(_cross_check(row, first_area, first_name, first_resident, first_grid))
        errors.extend(row_errors)
    return errors


def _cross_check(
    row: RosterRow,
    first_area: dict[tuple[str, str, str, str], tuple[Decimal, int]],
    first_name: dict[str, tuple[str, int]],
    first_resident: dict[tuple[tuple[str, str, str, str], str], int],
    first_grid: dict[tuple[str, str], tuple[str, int]],
) -> list[RowError]:
    errors: list[RowError] = []
    dwelling = row.dwelling_key()
    if row.area is not None:
        seen = first_area.setdefault(dwelling, (row.area, row.row))
        if seen[0] != row.area:
            errors.append(
                row.error(
                    "area",
                    _("同一房屋在第%(row)d行登记的面积是%(area)s㎡，两处不一致。")
                    % {"row": seen[1], "area": seen[0]},
                )
            )
    seen_name = first_name.setdefault(row.phone, (row.name, row.row)) if row.phone else None
    if seen_name and normalise(seen_name[0]) != normalise(row.name):
        errors.append(
            row.error(
                "phone",
                _("该手机号在第%(row)d行登记的姓名是“%(name)s”，一个手机号只能对应一人。")
                % {"row": seen_name[1], "name": seen_name[0]},
            )
        )
    elif row.has_resident:
        seen_row = first_resident.setdefault((dwelling, row.person_key), row.row)
        if seen_row != row.row:
            errors.append(
                row.error(
                    "name",
                    _("与第%(row)d行重复：同一居民在同一房屋登记了两次。") % {"row": seen_row},
                    value=row.name,
                )
            )
    if row.grid:
        building = dwelling[:2]
        seen_grid = first_grid.setdefault(building, (row.grid, row.row))
        if normalise(seen_grid[0]) != normalise(row.grid):
            errors.append(
                row.error(
                    "grid",
                    _("同一楼栋在第%(row)d行划入“%(grid)s”，一栋楼只能填一个网格。")
                    % {"row": seen_grid[1], "grid": seen_grid[0]},
                )
            )
    return errors


# ---------------------------------------------------------------------------- importing

Progress = Callable[[str, int, int], None]


@dataclass
class RosterReport:
    """What an import found and did. `errors` non-empty means nothing was written."""

    community_code: str
    dry_run: bool = False
    rows: int = 0
    example_skipped: bool = False
    errors: list[RowError] = field(default_factory=list)
    created: Counter[str] = field(default_factory=Counter)
    existing: Counter[str] = field(default_factory=Counter)
    areas_filled: int = 0
    grid_buildings_added: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def changed(self) -> bool:
        """Whether the import wrote (or, in a dry run, would write) anything."""
        return bool(sum(self.created.values()) or self.areas_filled or self.grid_buildings_added)

    def counts(self) -> list[tuple[str, str, int, int]]:
        """(key, label, created, already there) for each kind of record the import touches."""
        return [
            (key, str(label), self.created[key], self.existing[key]) for key, label in REPORT_LABELS
        ]

    def summary_lines(self) -> list[str]:
        """The report as a person reads it, in the active language (Chinese by default)."""
        if self.errors:
            lines = [
                _("发现 %(n)d 处问题，未导入任何数据。请修改后重新上传：") % {"n": len(self.errors)}
            ]
            for error in self.errors:
                where = (_("第%(row)d行") % {"row": error.row} if error.row else _("文件")) + (
                    f" {error.column}" if error.column else ""
                )
                value = f"「{error.value}」" if error.value else ""
                lines.append(f"  {where}{value}：{error.message}")
            return lines
        head = _("检查通过（未写入，仅检查）") if self.dry_run else _("导入成功")
        lines = [
            _("%(head)s：共 %(rows)d 行，用时 %(seconds).1f 秒。")
            % {"head": head, "rows": self.rows, "seconds": self.seconds}
        ]
        for _key, label, new, old in self.counts():
            lines.append(
                _("  %(label)s：新增 %(new)d，已有 %(old)d")
                % {"label": label, "new": new, "old": old}
            )
        if self.areas_filled:
            lines.append(_("  补登面积：%(n)d 户") % {"n": self.areas_filled})
        if self.grid_buildings_added:
            lines.append(_("  楼栋划入已有网格：%(n)d 栋") % {"n": self.grid_buildings_added})
        if self.example_skipped:
            lines.append(_("  模板中的示例行已忽略。"))
        return lines


REPORT_LABELS: tuple[tuple[str, Any], ...] = (
    ("estate", gettext_lazy("小区")),
    ("building", gettext_lazy("楼栋")),
    ("entrance", gettext_lazy("单元")),
    ("dwelling", gettext_lazy("房屋")),
    ("grid", gettext_lazy("网格")),
    ("resident", gettext_lazy("居民")),
)


class _Abort(Exception):
    """Raised inside the import's transaction to roll everything back."""


def roster_import(
    *,
    actor: Any,
    community: Place,
    file: str | IO[bytes],
    dry_run: bool = False,
    progress: Progress | None = None,
) -> RosterReport:
    """Import a community's roster: all rows or, if any row is wrong, none.

    In one transaction: the estates, buildings, entrances and dwellings the file names
    and the tree lacks are bulk-created (codes from the names), dwellings with no area
    get the file's area, buildings join the grid the file names (created if needed), and
    the residents not yet registered at their dwelling are registered in batches through
    `accounts.services.residents_from_roster`. A dry run does all of it and rolls back,
    so its report is exactly what the import would do.
    """
    if community.kind != PlaceKind.COMMUNITY:
        raise ValidationFailed(_("花名册只能导入到居民区。"), code="roster_needs_community")
    started = time.perf_counter()
    report = RosterReport(community_code=community.code, dry_run=dry_run)
    sheet = roster_read(file)
    report.rows = len(sheet.rows)
    report.example_skipped = sheet.example_skipped
    report.errors = sheet.errors or roster_validate(sheet.rows)
    if report.errors:
        report.seconds = time.perf_counter() - started
        return report
    if progress:
        progress(_("检查"), report.rows, report.rows)
    try:
        with transaction.atomic():
            # Two imports into one community at once would compute the same new codes.
            Place.objects.select_for_update().filter(pk=community.pk).first()
            plan = _Plan(community)
            for row in sheet.rows:
                plan.add(row)
            plan.check_people()
            if plan.errors:
                report.errors = plan.errors
                raise _Abort
            plan.write(report, actor=actor, with_grids=sheet.has_grid_column)
            _register_residents(
                plan,
                report,
                actor=actor,
                community=community,
                register=residents_from_roster,
                progress=progress,
            )
            if report.errors:
                raise _Abort
            if report.changed:
                # One event for the bulk-created places (their codes listed); grids and
                # residents have their own events from the services that wrote them.
                audit_record(
                    actor=actor,
                    verb="places.roster_import",
                    obj=community,
                    after={
                        "rows": report.rows,
                        "created": dict(report.created),
                        "existing": dict(report.existing),
                        "areas_filled": report.areas_filled,
                        "codes": [p.code for p in plan.new_places],
                    },
                )
            if dry_run:
                raise _Abort
    except _Abort:
        if report.errors:
            # Nothing was written: the counts of what would have been are not news.
            report.created.clear()
            report.existing.clear()
            report.areas_filled = 0
            report.grid_buildings_added = 0
    report.errors.sort(key=lambda e: (e.row, len(e.column_letter), e.column_letter))
    report.seconds = time.perf_counter() - started
    return report


class _Plan:
    """The community's tree in memory, and the places and links the rows add to it."""

    def __init__(self, community: Place):
        self.community = community
        self.errors: list[RowError] = []
        self.by_code: dict[str, Place] = {}
        self.by_name: dict[tuple[str, str], Place] = {}
        self.new_places: list[Place] = []
        self.area_updates: dict[str, Place] = {}
        self.rows_by_dwelling: list[tuple[RosterRow, Place]] = []
        self.grid_buildings: dict[str, tuple[str, list[Place]]] = {}
        existing = Place.objects.filter(community=community).only(
            "pk", "code", "name", "search_name", "kind", "depth", "exclusive_area", "is_active"
        )
        for place in existing:
            self._index(place)
        self.by_code[community.code] = community
        self._existing_codes = set(self.by_code)
        self._estate_numbers = [
            int(code.rsplit("-E", 1)[1])
            for code in self.by_code
            if re.fullmatch(re.escape(community.code) + r"-E\d+", code)
        ]

    def check_people(self) -> None:
        """What the accounts service would refuse about the residents — above all a phone
        already registered under another name — found before anything is written, so that
        it is listed with every other problem in the file."""
        residents = [(row, dwelling) for row, dwelling in self.rows_by_dwelling if row.has_resident]
        problems = residents_from_roster_problems(rows=[_resident(*pair) for pair in residents])
        for index, problem in problems.items():
            self.errors.append(_resident_error(residents[index][0], problem))

    def _index(self, place: Place) -> None:
        self.by_code[place.code] = place
        parent_code = place.code.rsplit("-", 1)[0]
        self.by_name.setdefault((parent_code, place.search_name or normalise(place.name)), place)

    def add(self, row: RosterRow) -> None:
        estate = self._estate(row)
        building = estate and self._child(estate, PlaceKind.BUILDING, row.building, row, "building")
        if not building:
            return
        parent = building
        if row.entrance:
            entrance = self._child(building, PlaceKind.ENTRANCE, row.entrance, row, "entrance")
            if not entrance:
                return
            parent = entrance
        dwelling = self._child(parent, PlaceKind.DWELLING, row.room, row, "room")
        if not dwelling:
            return
        self._area(dwelling, row)
        if row.grid:
            grid = self.grid_buildings.setdefault(normalise(row.grid), (row.grid, []))
            if building not in grid[1]:
                grid[1].append(building)
        self.rows_by_dwelling.append((row, dwelling))

    def _estate(self, row: RosterRow) -> Place | None:
        found = self.by_name.get((self.community.code, normalise(row.estate)))
        if found is not None:
            return self._usable(found, PlaceKind.ESTATE, row, "estate")
        number = max(self._estate_numbers, default=0) + 1
        while f"{self.community.code}-E{number}" in self.by_code:
            number += 1
        self._estate_numbers.append(number)
        return self._new(self.community, PlaceKind.ESTATE, row.estate, f"E{number}")

    def _child(
        self, parent: Place, kind: str, text: str, row: RosterRow, column: str
    ) -> Place | None:
        segment = segment_for(kind, text)
        found = self.by_code.get(f"{parent.code}-{segment}") if segment else None
        if found is None:
            found = self.by_name.get((parent.code, normalise(display_name(kind, text))))
        if found is None:
            found = self.by_name.get((parent.code, normalise(text)))
        if found is not None:
            return self._usable(found, kind, row, column)
        if segment is None:
            number = 1
            while f"{parent.code}-{_PREFIXES[kind]}X{number}" in self.by_code:
                number += 1
            segment = f"{_PREFIXES[kind]}X{number}"
        if len(parent.code) + 1 + len(segment) > CODE_MAX:
            self.errors.append(row.error(column, _("编码过长，请简化名称。")))
            return None
        return self._new(parent, kind, display_name(kind, text), segment)

    def _usable(self, place: Place, kind: str, row: RosterRow, column: str) -> Place | None:
        if place.kind != kind:
            self.errors.append(
                row.error(
                    column,
                    _("系统中编码为 %(code)s 的地点是%(kind)s，不是%(wanted)s。")
                    % {
                        "code": place.code,
                        "kind": place.get_kind_display(),
                        "wanted": PlaceKind(kind).label,
                    },
                )
            )
            return None
        if not place.is_active:
            self.errors.append(
                row.error(
                    column,
                    _("系统中的“%(name)s”（%(code)s）已停用，请先在后台启用。")
                    % {"name": place.name, "code": place.code},
                )
            )
            return None
        return place

    def _new(self, parent: Place, kind: str, name: str, segment: str) -> Place:
        place = Place(
            kind=kind,
            name=name,
            search_name=search_name_for(name),
            code=f"{parent.code}-{segment}",
            parent=parent,
            depth=parent.depth + 1,
            community=self.community,
            sort_key=_sort_key(segment),
        )
        self.new_places.append(place)
        self._index(place)
        return place

    def _area(self, dwelling: Place, row: RosterRow) -> None:
        if row.area is None:
            return
        if dwelling.code in self._existing_codes and dwelling.exclusive_area is not None:
            if dwelling.exclusive_area != row.area:
                self.errors.append(
                    row.error(
                        "area",
                        _("系统中该房屋的面积是%(area)s㎡，与表中不一致；如需更正请在后台修改。")
                        % {"area": dwelling.exclusive_area},
                    )
                )
            return
        # The file's own consistency was checked by roster_validate; the first area wins.
        if dwelling.exclusive_area is None:
            dwelling.exclusive_area = row.area
            if dwelling.code in self._existing_codes:
                self.area_updates[dwelling.code] = dwelling

    def write(self, report: RosterReport, *, actor: Any, with_grids: bool) -> None:
        for level in ("estate", "building", "entrance", "dwelling"):
            # Parents before children: bulk_create gives the parents their ids first.
            new = [p for p in self.new_places if p.kind == level]
            Place.objects.bulk_create(new, batch_size=1000)
            report.created[level] = len(new)
        touched: dict[str, set[str]] = {
            kind: set() for kind in ("estate", "building", "entrance", "dwelling")
        }
        for _row, dwelling in self.rows_by_dwelling:
            for code in dwelling.ancestor_codes():
                place = self.by_code.get(code)
                if place is not None and place.kind in touched:
                    touched[place.kind].add(code)
        new_codes = {p.code for p in self.new_places}
        for kind, codes in touched.items():
            report.existing[kind] = len(codes - new_codes)
        if self.area_updates:
            Place.objects.bulk_update(list(self.area_updates.values()), ["exclusive_area"])
            report.areas_filled = len(self.area_updates)
        if with_grids and self.grid_buildings:
            self._write_grids(report, actor=actor)

    def _write_grids(self, report: RosterReport, *, actor: Any) -> None:
        grids = {
            normalise(g.name): g
            for g in Grid.objects.filter(community=self.community).prefetch_related("buildings")
        }
        taken = {g.code for g in grids.values()}
        for key, (name, buildings) in self.grid_buildings.items():
            grid = grids.get(key)
            if grid is None:
                segment = grid_segment_for(name)
                if segment is None or f"{self.community.code}-{segment}" in taken:
                    number = 1
                    while f"{self.community.code}-GX{number}" in taken:
                        number += 1
                    segment = f"GX{number}"
                grid = grid_create(
                    actor=actor,
                    community=self.community,
                    segment=segment,
                    name=name,
                    buildings=buildings,
                )
                taken.add(grid.code)
                report.created["grid"] += 1
                continue
            report.existing["grid"] += 1
            current = list(grid.buildings.all())
            missing = [b for b in buildings if b not in current]
            if missing:
                grid_update(actor=actor, grid=grid, buildings=current + missing)
                report.grid_buildings_added += len(missing)


# Residents are registered this many at a time: few statements, and a progress bar that moves.
RESIDENT_BATCH = 1000
# Where a refusal of the accounts service points in the file (the name column otherwise).
_COLUMN_FOR_PROBLEM = {
    "invalid_phone": "phone",
    "phone_other_name": "phone",
    "residency_relation_invalid": "relation",
}


def _resident(row: RosterRow, dwelling: Place) -> RosterResident:
    return RosterResident(
        name=row.name, phone=row.phone or None, dwelling=dwelling, relation=row.relation
    )


def _resident_error(row: RosterRow, problem: DomainError) -> RowError:
    return row.error(_COLUMN_FOR_PROBLEM.get(problem.code, "name"), str(problem.message))


def _register_residents(
    plan: _Plan,
    report: RosterReport,
    *,
    actor: Any,
    community: Place,
    register: Callable[..., Any],
    progress: Progress | None,
) -> None:
    """Register the residents through the accounts service, a batch at a time; collect
    its refusals.

    Rows whose resident is already verified at the dwelling with the same relation are
    counted and left out, so a repeated import writes nothing at all.
    """
    verified: dict[tuple[str, int], str] = {}
    rows = (
        Residency.objects.filter(community=community, status=ResidencyStatus.VERIFIED)
        .values_list("user__phone", "user__name", "place_id", "relation", "source")
        .iterator(chunk_size=2000)
    )
    for phone, name, place_id, relation, source in rows:
        if phone:
            verified[(phone, place_id)] = relation
        elif source == "roster":
            verified[("name:" + normalise(name), place_id)] = relation
    residents = [(row, dwelling) for row, dwelling in plan.rows_by_dwelling if row.has_resident]
    todo = [
        (row, dwelling)
        for row, dwelling in residents
        if verified.get((row.person_key, dwelling.pk)) != row.relation
    ]
    report.existing["resident"] += len(residents) - len(todo)
    label = _("登记居民")
    done = len(residents) - len(todo)
    if progress and residents:
        progress(label, done, len(residents))
    for start in range(0, len(todo), RESIDENT_BATCH):
        batch = todo[start : start + RESIDENT_BATCH]
        try:
            register(actor=actor, rows=[_resident(*pair) for pair in batch])
        except RosterRefused as refused:
            report.errors.extend(
                _resident_error(batch[index][0], problem)
                for index, problem in refused.problems.items()
            )
        else:
            report.created["resident"] += len(batch)
        done += len(batch)
        if progress:
            progress(label, done, len(residents))
