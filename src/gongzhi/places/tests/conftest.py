"""Roster files for the places tests, written with openpyxl as a worker's Excel would be."""

from pathlib import Path

import pytest
from openpyxl import Workbook

HEADER = ["小区", "楼栋", "单元", "室号", "面积(㎡)", "姓名", "手机号", "与房屋关系", "网格"]


def write_roster(path: Path, rows, header=HEADER, title_rows=()) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "花名册"
    for title in title_rows:
        sheet.append(list(title))
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


@pytest.fixture
def roster_file(tmp_path):
    """Write rows (lists in HEADER order) to an .xlsx and return its path."""
    counter = iter(range(1000))

    def make(rows, **kwargs):
        return write_roster(tmp_path / f"roster-{next(counter)}.xlsx", rows, **kwargs)

    return make
