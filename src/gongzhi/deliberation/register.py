"""Reading an owner register (业主名册) from an Excel workbook.

One row per exclusive part: where it is (楼栋 / 单元 / 室号 within the estate, or its
房屋编码), its area and which area that is, its owner(s), a phone, and whether the
developer still holds it unsold. Columns are found by their header in any order; columns
gongzhi does not know (身份证号, 备注…) are ignored and never stored. Reading is pure:
matching rows to places and writing the register happen in `services`.
"""

import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from gongzhi.core.text import normalise
from gongzhi.places.models import PlaceKind
from gongzhi.places.roster import parse_area, parse_phone, segment_for

from .models import AreaSource

MAX_ROWS = 20_000
HEADER_SEARCH_ROWS = 5

HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("房屋编码", "编码"),
    "building": ("楼栋", "楼号", "幢", "栋", "楼"),
    "entrance": ("单元", "单元号"),
    "room": ("室号", "房号", "室", "门牌号"),
    "area": ("专有部分面积", "面积", "建筑面积", "产权面积"),
    "area_source": ("面积依据", "面积来源", "面积类型"),
    "owner": ("业主", "业主姓名", "产权人", "姓名"),
    "phone": ("手机号", "手机", "联系电话", "电话"),
    "developer": ("开发商未售", "未售出", "开发商持有", "开发建设单位未售出"),
}
AREA_SOURCES: dict[str, str] = {
    "不动产登记": AreaSource.REGISTERED,
    "不动产登记面积": AreaSource.REGISTERED,
    "登记": AreaSource.REGISTERED,
    "产证": AreaSource.REGISTERED,
    "实测": AreaSource.SURVEYED,
    "实测面积": AreaSource.SURVEYED,
    "合同": AreaSource.CONTRACT,
    "合同面积": AreaSource.CONTRACT,
}
YES = {"是", "y", "yes", "1", "true", "√", "未售", "未交付"}
NO = {"", "否", "n", "no", "0", "false"}
OWNER_SEPARATORS = re.compile(r"[、，,;；/]+")


@dataclass
class RegisterRow:
    row: int
    code: str = ""
    building: str = ""
    entrance: str = ""
    room: str = ""
    area: Decimal | None = None
    area_source: str = AreaSource.REGISTERED
    owners: tuple[str, ...] = ()
    phone: str = ""
    developer_unsold: bool = False


@dataclass
class RegisterSheet:
    rows: list[RegisterRow] = field(default_factory=list)
    # (Excel row number, message); row 0 is about the whole file.
    errors: list[tuple[int, str]] = field(default_factory=list)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(value))).strip()


def _header(text: str) -> str | None:
    cleaned = re.sub(r"[(（].*?[)）]", "", normalise(text).replace(" ", "").replace("*", ""))
    for key, aliases in HEADERS.items():
        if cleaned in {normalise(a) for a in aliases}:
            return key
    return None


def register_read(file: str | IO[bytes]) -> RegisterSheet:
    """Every row of the first sheet, with what is wrong with each (nothing is matched yet)."""
    sheet = RegisterSheet()
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        sheet.errors.append((0, _("无法读取该文件，请上传 .xlsx 格式的 Excel 文件。")))
        return sheet
    try:
        worksheet = workbook.worksheets[0]
        worksheet.reset_dimensions()
        _read(worksheet.iter_rows(values_only=True), sheet)
    finally:
        workbook.close()
    return sheet


def _read(rows, sheet: RegisterSheet) -> None:
    header: dict[int, str] | None = None
    for number, values in enumerate(rows, start=1):
        cells = [_cell(v) for v in values]
        if not any(cells):
            continue
        if header is None:
            found = {i: _header(c) for i, c in enumerate(cells) if c}
            keys = {k for k in found.values() if k}
            if "area" in keys and ("code" in keys or {"building", "room"} <= keys):
                header = {i: k for i, k in found.items() if k}
            elif number >= HEADER_SEARCH_ROWS:
                break
            continue
        if len(sheet.rows) >= MAX_ROWS:
            sheet.errors.append(
                (number, _("文件超过 %(max)d 行，请分批导入。") % {"max": MAX_ROWS})
            )
            break
        data = {key: (cells[i] if i < len(cells) else "") for i, key in header.items()}
        row, problem = _row(number, data)
        if problem:
            sheet.errors.append((number, problem))
        else:
            sheet.rows.append(row)
    if header is None:
        sheet.errors.append(
            (0, _("找不到表头：须有“专有部分面积”列，以及“房屋编码”或“楼栋”“室号”列。"))
        )


def _row(number: int, data: dict[str, str]) -> tuple[RegisterRow, str]:
    row = RegisterRow(row=number, code=data.get("code", "").upper())
    row.building, row.entrance, row.room = (
        data.get("building", ""),
        data.get("entrance", ""),
        data.get("room", ""),
    )
    if not row.code and not (row.building and row.room):
        return row, _("缺少房屋编码或楼栋、室号。")
    row.area = parse_area(data.get("area", ""))
    if row.area is None:
        return row, _("专有部分面积须为大于0的数字，最多两位小数。")
    source_text = normalise(data.get("area_source", "")).replace(" ", "")
    if source_text:
        if source_text not in AREA_SOURCES:
            return row, _("面积依据须为不动产登记、实测或合同。")
        row.area_source = AREA_SOURCES[source_text]
    developer = normalise(data.get("developer", "")).replace(" ", "")
    if developer not in YES | NO:
        return row, _("“开发商未售”一列请填“是”或“否”。")
    row.developer_unsold = developer in YES
    row.owners = tuple(n for n in OWNER_SEPARATORS.split(data.get("owner", "")) if n.strip())
    phone_text = data.get("phone", "")
    if phone_text:
        phone = parse_phone(phone_text)
        if phone is None:
            return row, _("手机号须为11位大陆手机号。")
        row.phone = phone
    if not row.owners and not row.developer_unsold:
        return row, _("请填写业主姓名；开发商未售出的房屋请在“开发商未售”一列填“是”。")
    return row, ""


def row_code(row: RegisterRow, estate_code: str) -> str | None:
    """The place code a row names within the estate, or None if its names imply none."""
    if row.code:
        return row.code
    building = segment_for(PlaceKind.BUILDING, row.building)
    room = segment_for(PlaceKind.DWELLING, row.room)
    if building is None or room is None:
        return None
    if row.entrance:
        entrance = segment_for(PlaceKind.ENTRANCE, row.entrance)
        if entrance is None:
            return None
        return f"{estate_code}-{building}-{entrance}-{room}"
    return f"{estate_code}-{building}-{room}"
