"""How long a community's roster takes to import, on a fresh database file.

    .venv/bin/python bench/roster_import.py [--dwellings 5000] [--database-url URL]

Without --database-url it uses a new SQLite file (WAL, as in production) in a temporary
directory. It prints three figures: a file of dwellings only, a file with one resident per
dwelling (registered in batches through accounts.services.residents_from_roster), and the
second file imported again (which must change nothing).
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dwellings", type=int, default=5000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="gongzhi-bench-"))
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "gongzhi.config.settings.test"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

    import django

    django.setup()
    from django.core.management import call_command
    from openpyxl import Workbook

    from gongzhi.places.models import PlaceKind
    from gongzhi.places.roster import roster_import
    from gongzhi.places.services import place_create

    call_command("migrate", verbosity=0)
    district = place_create(actor=None, kind=PlaceKind.DISTRICT, name="基准区", segment="BENCH")
    subdistrict = place_create(
        actor=None, kind=PlaceKind.SUBDISTRICT, name="基准街道", segment="S", parent=district
    )
    community = place_create(
        actor=None, kind=PlaceKind.COMMUNITY, name="基准居民区", segment="C", parent=subdistrict
    )

    def roster(name: str, estate: str, with_residents: bool) -> Path:
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(
            ["小区", "楼栋", "单元", "室号", "面积(㎡)", "姓名", "手机号", "与房屋关系", "网格"]
        )
        n = 0
        building = 0
        while n < args.dwellings:
            building += 1
            for entrance in (1, 2):
                for floor in range(1, 21):
                    for door in range(1, 6):
                        if n >= args.dwellings:
                            break
                        n += 1
                        resident = (
                            [f"居民{n}", f"139{n:08d}", "业主"] if with_residents else ["", "", ""]
                        )
                        sheet.append(
                            [
                                estate,
                                f"{building}号楼",
                                f"{entrance}单元",
                                f"{floor}{door:02d}",
                                "88.50",
                                *resident,
                                f"第{building % 6 + 1}网格",
                            ]
                        )
        path = workdir / name
        workbook.save(path)
        return path

    plain = roster("dwellings.xlsx", "甲小区", with_residents=False)
    people = roster("residents.xlsx", "乙小区", with_residents=True)
    engine = os.environ["DATABASE_URL"].split("://")[0]
    print(f"database: {engine}, dwellings per file: {args.dwellings}")
    for label, path in (
        ("dwellings only", plain),
        ("dwellings + one resident each", people),
        ("same file again (no change)", people),
    ):
        started = time.perf_counter()
        report = roster_import(actor=None, community=community, file=str(path))
        elapsed = time.perf_counter() - started
        assert report.ok, report.summary_lines()[:5]
        print(
            f"{label:32s} {elapsed:6.2f} s   created: {dict(report.created)}"
            f"   existing dwellings: {report.existing['dwelling']}"
        )


if __name__ == "__main__":
    main()
