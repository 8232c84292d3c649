"""The roster template workers download, fill and upload again (/places/roster/template.xlsx).

It is built from the same column list the importer reads (`roster.COLUMNS`), so the two
cannot drift apart: the header row, a greyed example row the importer recognises and
skips, text format on the columns Excel would otherwise mangle (室号 0101 → 101, phones
→ 1.38E+10), a drop-down list for 与房屋关系, and a 说明 sheet explaining each column.
"""

from io import BytesIO

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from .roster import COLUMNS, EXAMPLE_ROW, MAX_ROWS, RELATIONS

ROSTER_SHEET = "花名册"
HELP_SHEET = "说明"
TEXT_COLUMNS = {"building", "entrance", "room", "phone"}
# The drop-down list reaches this far: a large community's roster, with room to spare.
FORMATTED_ROWS = 10_000


def roster_template_workbook() -> Workbook:
    """The template as an openpyxl workbook: the 花名册 sheet first, the 说明 sheet second."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = ROSTER_SHEET
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="FDE9E7")
    example_font = Font(italic=True, color="808080")
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        label = str(column.label) + ("*" if column.required else "")
        cell = sheet.cell(row=1, column=index, value=label)
        cell.font = header_font
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center")
        example = sheet.cell(row=2, column=index, value=EXAMPLE_ROW[index - 1])
        example.font = example_font
        sheet.column_dimensions[letter].width = 14 if column.key != "estate" else 20
        if column.key in TEXT_COLUMNS:
            # The column's default style: cells typed into later inherit the text format.
            sheet.column_dimensions[letter].number_format = "@"
            example.number_format = "@"
    sheet.freeze_panes = "A2"

    relation_letter = get_column_letter(
        next(i for i, c in enumerate(COLUMNS, start=1) if c.key == "relation")
    )
    relations = DataValidation(
        type="list",
        formula1='"{}"'.format(",".join(RELATIONS)),
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=_("与房屋关系"),
        error=_("请从列表中选择：%(choices)s") % {"choices": "、".join(RELATIONS)},
    )
    relations.add(f"{relation_letter}2:{relation_letter}{FORMATTED_ROWS + 1}")
    sheet.add_data_validation(relations)

    notes = workbook.create_sheet(HELP_SHEET)
    notes.append([_("列"), _("是否必填"), _("说明")])
    for cell in notes[1]:
        cell.font = header_font
        cell.fill = header_fill
    for column in COLUMNS:
        notes.append(
            [str(column.label), _("必填") if column.required else _("选填"), str(column.help)]
        )
    notes.append([])
    for line in (
        _("每行一位居民；暂无居民的房屋也可单独占一行，姓名、手机号、关系留空。"),
        _("第2行灰色的示例行导入时会自动忽略，可以保留也可以删除。"),
        _("只要有一行有误，整个文件都不会导入；请按报告逐行修改后重新上传。"),
        _("重复导入同一文件不会产生重复数据。"),
        _("每个文件最多 %(max)d 行。") % {"max": MAX_ROWS},
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 10
    notes.column_dimensions["C"].width = 80
    return workbook


def roster_template_bytes() -> bytes:
    """The template as the bytes of an .xlsx file."""
    buffer = BytesIO()
    roster_template_workbook().save(buffer)
    return buffer.getvalue()
