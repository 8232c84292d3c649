"""The city data set: a place tree, its people and a million cases, for the other benches.

    .venv/bin/python bench/dataset.py --cases 1000000 --communities 1000 [--database-url URL]

Without --database-url it builds a new SQLite file in a temporary directory. The database
is migrated first and must hold no places or cases yet. Other benches import it:

    from bench.dataset import build, generate
    summary = build("postgres://postgres@127.0.0.1:5432/x", communities=10, cases=20_000)
    summary = generate(communities=3, cases=2_000)   # Django already set up and migrated

What it writes, and why it is written the way it is:
- districts → subdistricts → communities → estates → buildings → entrances → dwellings,
  street shops and public areas, with the materialised-path `code`, depth, community and
  search name that `places.services.place_create` gives them, a `CommunitySettings` row
  per community, and grids over each community's buildings (cut as `gongzhi demo` cuts
  them);
- the people: a subdistrict supervisor per subdistrict, a district supervisor per
  district, and per community a secretary, a director, community workers, a mediator, a
  property manager and an owners' committee member per estate, grid leaders and workers,
  volunteers, and residents with a verified residency at a dwelling — all with role
  assignments as `accounts.services.role_assign` stores them and one shared password;
- cases over the last two years (more recent months busier, reports mostly by day), in
  the category mix a city sees, each routed as `cases.routing.route` routes it, numbered
  as `_allocate_number` numbers it (the `CaseNumberSequence` rows end where the numbers
  end, so a new report continues the day's sequence), with the deadlines and clock alarms
  of its category's policy computed on the same clocks as `core.clocks.deadline_after`,
  and a timeline of `CaseEvent` rows that the services would have written to reach its
  state: reported and routed; the warnings, overdue and supervision alarms that fired
  before the case moved on (with `overdue_at` / `supervised_at`); responded, started,
  paused, completed; a follow-up (answered, or no answer after 3 days and closed by the
  system); a negative follow-up that reopened the case; declined; merged into an open
  case of the same community; turned into a topic.
- Alarms due before "now" have fired (as a checker running every minute would have done)
  and alarms due later are pending, so `clock_alarms_fire(now=<generation time>)` finds
  nothing to do and a later `now` finds the alarms that real time would bring.

Not written: per-case audit events (the audit chain holds one `bench.dataset` event that
records the generation instead), notifications and texts, photos (`completed` events say
0 photos, even for categories that ask for one) and residents' one-time codes.

The rows are written in bulk: PostgreSQL through COPY, SQLite through executemany with
journaling and syncing off during the load and WAL restored afterwards.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "gongzhi-bench-2026"
ADMIN_USERNAME = "bench-admin"
DEFAULT_SEED = 2026
HISTORY_DAYS = 730
CHUNK = 20_000
US = 1_000_000
MINUTE = 60 * US
HOUR = 60 * MINUTE
DAY = 24 * HOUR

# (code, name) of ten Shanghai districts; more are numbered after them.
DISTRICTS = [
    ("310101", "黄浦区"),
    ("310104", "徐汇区"),
    ("310105", "长宁区"),
    ("310106", "静安区"),
    ("310107", "普陀区"),
    ("310109", "虹口区"),
    ("310110", "杨浦区"),
    ("310112", "闵行区"),
    ("310113", "宝山区"),
    ("310115", "浦东新区"),
]
NAME_HEADS = [
    "虹桥",
    "天山",
    "仙霞",
    "古北",
    "新华",
    "周家桥",
    "华阳",
    "江苏",
    "北新泾",
    "程家桥",
    "曹杨",
    "长风",
    "真如",
    "甘泉",
    "石泉",
    "宜川",
    "彭浦",
    "临汾",
    "大宁",
    "芷江",
    "共和",
    "天目",
    "南京",
    "外滩",
    "豫园",
    "打浦",
    "淮海",
    "瑞金",
    "五里",
    "半淞",
    "凉城",
    "欧阳",
    "广中",
    "嘉兴",
    "提篮",
    "四川",
    "殷行",
    "五角场",
    "控江",
    "延吉",
    "平凉",
    "江浦",
    "定海",
    "大桥",
    "长白",
    "新江湾",
    "七宝",
    "梅陇",
    "古美",
    "莘庄",
    "江川",
    "浦锦",
    "吴泾",
    "虹梅",
    "张庙",
    "淞南",
    "高境",
    "庙行",
    "友谊",
    "吴淞",
    "陆家嘴",
    "潍坊",
    "塘桥",
    "洋泾",
    "金杨",
    "花木",
    "周家渡",
    "上钢",
    "三林",
    "北蔡",
]
NAME_TAILS = [
    "新村",
    "一村",
    "二村",
    "三村",
    "花园",
    "苑",
    "公寓",
    "小区",
    "东区",
    "西区",
    "南区",
    "北区",
    "坊",
    "里",
    "家园",
]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍鹏建华红梅飞鑫波斌宇"
    "浩凯健俊帆帅旭宁婷雪琳晨阳"
)
PROPERTY_COMPANIES = [
    "上房物业",
    "长宁物业",
    "古北物业",
    "陆家嘴物业",
    "万科物业",
    "绿城物业",
    "中海物业",
]

# Share of all cases per category (a city's small matters dominate).
CATEGORY_WEIGHTS = {
    "street_light": 6,
    "litter": 12,
    "corridor_clutter": 10,
    "noise": 9,
    "other_small": 8,
    "lift_trapped": 1.2,
    "elder_unreachable": 0.8,
    "gas_smell": 0.8,
    "flying_wire": 3,
    "fire_lane_blocked": 2.5,
    "water_main_burst": 1.2,
    "drain_blocked": 7,
    "roof_leak": 3,
    "facility_damaged": 8,
    "leak_from_above": 5,
    "pet_dispute": 3,
    "parking_dispute": 4,
    "parking_shortage": 2,
    "charging_ports": 1.5,
    "renovation": 1,
}
TEXTS = {
    "street_light": [
        "{b}门口路灯不亮，晚上很黑",
        "{b}旁边的路灯坏了好几天",
        "小区{b}附近照明灯一直闪",
    ],
    "litter": ["{b}楼下垃圾堆放没人清理", "垃圾桶满了，{b}旁边有味道", "{b}旁有人乱扔装修垃圾"],
    "corridor_clutter": ["{b}楼道堆了很多杂物", "{b}楼梯间被纸箱占用", "{b}楼道里停放自行车挡路"],
    "noise": ["{b}楼上晚上很吵", "{b}附近装修噪音扰民", "{b}有人深夜唱歌声音很大"],
    "other_small": ["{b}门禁坏了", "{b}信箱被撬", "{b}楼下长椅坏了"],
    "lift_trapped": ["{b}电梯困人，请马上来", "{b}电梯停在两层之间，有人被困"],
    "elder_unreachable": ["{b}独居老人两天联系不上", "{b}的老人电话一直没人接"],
    "gas_smell": ["{b}楼道里有燃气异味", "{b}闻到煤气味"],
    "flying_wire": ["{b}有人从窗口拉线给电动车充电", "{b}楼下飞线充电很危险"],
    "fire_lane_blocked": ["{b}消防通道被车堵塞", "{b}旁消防通道停满了车"],
    "water_main_burst": ["{b}水管爆裂，到处是水", "{b}地下水管漏水停水了"],
    "drain_blocked": ["{b}下水道堵塞反水", "{b}楼下污水井堵了"],
    "roof_leak": ["{b}顶楼屋顶漏水", "{b}屋顶渗水到家里"],
    "facility_damaged": ["{b}健身器材损坏", "{b}单元门坏了关不上", "{b}楼道灯坏了"],
    "leak_from_above": ["{b}楼上漏水到我家天花板", "{b}楼上卫生间渗水"],
    "pet_dispute": ["{b}邻居遛狗不拴绳", "{b}有人在楼道里养猫很臭"],
    "parking_dispute": ["{b}车位被别人占了", "{b}门口有车挡住出路"],
    "parking_shortage": ["{b}附近停车难，晚上没地方停", "希望{b}旁边增加车位"],
    "charging_ports": ["希望在{b}附近加装充电桩", "{b}电动车没有地方充电"],
    "renovation": ["{b}希望加装电梯", "{b}外墙需要改造翻新"],
}
# Shares of the final states (open states and awaiting follow-up are at "now").
STATE_SHARES = [
    ("reported", 0.006),
    ("responded", 0.012),
    ("in_progress", 0.040),
    ("paused", 0.006),
    ("completed", 0.008),
    ("to_topic", 0.003),
    ("declined", 0.020),
    ("merged", 0.030),
]
# (channel, weight, how the report arrives)
CHANNELS = [
    ("resident_page", 50, "self"),
    ("api", 5, "self"),
    ("phone", 20, "entered"),
    ("walk_in", 7, "entered"),
    ("reception_day", 2, "entered"),
    ("visit", 4, "entered"),
    ("patrol", 10, "patrol"),
    ("task", 2, "task"),
]
# Reports by hour of the local day.
HOUR_WEIGHTS = [1, 0.5, 0.3, 0.3, 0.3, 0.6, 2, 5, 9, 10, 9, 8, 6, 6, 7, 7, 7, 6, 7, 8, 8, 6, 4, 2]
SATISFACTION = [("satisfied", 0.80), ("basically_satisfied", 0.20)]
NO_ANSWER_SHARE = 0.12
REOPEN_SHARE = 0.03


# --- command line and set-up ------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--communities", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--workers", type=int, default=3, help="generator processes (0: generate in-process)"
    )
    parser.add_argument(
        "--baseline",
        type=int,
        default=100,
        help="cases taken through the services (report → … → closed) as the baseline, on a "
        "fresh database of the same engine (0: none)",
    )
    parser.add_argument("--services-baseline", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    url = args.database_url or (
        f"sqlite:///{Path(tempfile.mkdtemp(prefix='gongzhi-dataset-')) / 'city.sqlite3'}"
    )
    if args.services_baseline:
        setup_django(url)
        seconds = services_baseline(args.services_baseline)
        print(json.dumps({"services_seconds_per_case": seconds}))
        return {}
    summary = build(
        url,
        communities=args.communities,
        cases=args.cases,
        seed=args.seed,
        progress=not args.no_progress,
        workers=args.workers,
    )
    per_case = summary["seconds"] / max(1, summary["cases"])
    figures = [
        ("generation_seconds", summary["seconds"], "s", {}),
        ("cases_per_second", round(summary["cases"] / summary["seconds"]), "cases/s", {}),
    ]
    if args.baseline:
        services = _baseline_in_child(url, args.baseline)
        figures.append(
            (
                "services_seconds_per_case",
                round(services, 4),
                "s",
                {
                    "baseline_cases": args.baseline,
                    "lifecycle": "report→respond→start→complete→follow_up",
                },
            )
        )
        figures.append(("speedup_over_services", round(services / per_case, 1), "x", {}))
        figures.append(
            (
                "services_estimate_for_all_cases",
                round(services * summary["cases"] / 3600, 1),
                "h",
                {},
            )
        )
    load = [round(x, 2) for x in os.getloadavg()]
    for figure, value, unit, extra in figures:
        print(
            json.dumps(
                {
                    "bench": "dataset",
                    "figure": figure,
                    "value": value,
                    "unit": unit,
                    "engine": summary["engine"],
                    "cases": summary["cases"],
                    "communities": summary["communities"],
                    "load_average": load,
                    **extra,
                }
            )
        )
    print(json.dumps({"bench": "dataset", "summary": summary}, ensure_ascii=False, default=str))
    return summary


def _baseline_in_child(url: str, cases: int) -> float:
    """Seconds per case through the services, measured in a child process (Django is set
    up once per process) on a fresh database of the same engine as `url`."""
    import subprocess

    if url.startswith("sqlite"):
        baseline_url = (
            f"sqlite:///{Path(tempfile.mkdtemp(prefix='gongzhi-baseline-')) / 'b.sqlite3'}"
        )
        cleanup = None
    else:
        import psycopg

        base, _slash, name = url.rpartition("/")
        database = f"{name}_baseline"
        admin_url = f"{base}/postgres"

        def run(sql: str) -> None:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(sql)

        run(f'DROP DATABASE IF EXISTS "{database}"')
        run(f'CREATE DATABASE "{database}"')
        baseline_url = f"{base}/{database}"

        def cleanup() -> None:
            run(f'DROP DATABASE IF EXISTS "{database}"')

    try:
        result = subprocess.run(
            [
                sys.executable,
                __file__,
                "--database-url",
                baseline_url,
                "--services-baseline",
                str(cases),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        if cleanup:
            cleanup()
    line = [x for x in result.stdout.splitlines() if "services_seconds_per_case" in x][-1]
    return float(json.loads(line)["services_seconds_per_case"])


def services_baseline(n: int) -> float:
    """Seconds per case for `n` cases taken through the real services from report to
    close (report by a resident, respond, start and complete by the lead, the resident's
    online follow-up), in a one-community city made by `generate`."""
    from gongzhi.accounts.models import Residency
    from gongzhi.cases.models import Category
    from gongzhi.cases.services import (
        case_complete,
        case_follow_up,
        case_report,
        case_respond,
        case_start,
    )

    generate(communities=1, cases=0, workers=0)
    category = Category.objects.get(code="litter")
    homes = list(Residency.objects.select_related("user", "place").order_by("pk")[: max(1, n)])
    started = time.perf_counter()
    for i in range(n):
        home = homes[i % len(homes)]
        case = case_report(
            actor=home.user,
            place=home.place,
            category=category,
            text="楼下垃圾堆放没人清理",
            channel="resident_page",
        )
        case = case_respond(actor=case.lead, case=case)
        case = case_start(actor=case.lead, case=case)
        case = case_complete(actor=case.lead, case=case, note="已清理。")
        case_follow_up(actor=home.user, case=case, resolved=True, satisfaction="satisfied")
    return (time.perf_counter() - started) / max(1, n)


def setup_django(database_url: str) -> None:
    """Configure Django for `database_url` (dev settings unless the environment says
    otherwise) and migrate. Refused if Django is already set up for another database."""
    import django
    from django.conf import settings

    if settings.configured:
        raise RuntimeError("Django is already set up; call generate() instead")
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.config.settings.dev")
    if str(ROOT / "src") not in sys.path:
        sys.path.insert(0, str(ROOT / "src"))
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(
    database_url: str,
    *,
    communities: int = 1000,
    cases: int = 1_000_000,
    seed: int = DEFAULT_SEED,
    progress: bool = True,
    workers: int = 3,
) -> dict[str, Any]:
    """Set Django up on `database_url`, migrate, and generate the data set there."""
    started = time.perf_counter()
    setup_django(database_url)
    summary = generate(
        communities=communities, cases=cases, seed=seed, progress=progress, workers=workers
    )
    summary["seconds_with_migrate"] = round(time.perf_counter() - started, 1)
    return summary


def generate(
    *,
    communities: int = 1000,
    cases: int = 1_000_000,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
    now: datetime | None = None,
    workers: int = 3,
) -> dict[str, Any]:
    """Write the data set into the default database (migrated, with no places or cases
    yet) and return a summary: counts, states, open cases with pending alarms, logins."""
    from django.db import connection

    from gongzhi.cases.models import Case
    from gongzhi.places.models import Place

    if Place.objects.exists() or Case.objects.exists():
        raise RuntimeError("the database already holds places or cases; use a fresh one")
    started = time.perf_counter()
    generator = _Generator(
        communities=communities,
        cases=cases,
        seed=seed,
        progress=progress,
        now=now or datetime.now(UTC),
        writer=_writer_for(connection),
        workers=workers,
    )
    summary = generator.run()
    summary["seconds"] = round(time.perf_counter() - started, 1)
    return summary


# --- writers ----------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)


_DAYS: dict[int, str] = {}


def _day_text(days: int) -> str:
    text = _DAYS.get(days)
    if text is None:
        text = _DAYS[days] = (_EPOCH_NAIVE + timedelta(days=days)).strftime("%Y-%m-%d")
    return text


_HOURS: dict[int, str] = {}


def _hour_text(hours: int) -> str:
    days, hour = divmod(hours, 24)
    text = _HOURS[hours] = f"{_day_text(days)} {hour:02d}"
    return text


def _utc_text(us: int) -> str:
    """`str()` of the naive UTC datetime, without building one (it is the hot path)."""
    hours, rest = divmod(us, HOUR)
    seconds, micro = divmod(rest, US)
    prefix = _HOURS.get(hours) or _hour_text(hours)
    if micro:
        return f"{prefix}:{seconds // 60:02d}:{seconds % 60:02d}.{micro:06d}"
    return f"{prefix}:{seconds // 60:02d}:{seconds % 60:02d}"


def to_us(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * US + delta.microseconds


def from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


class _Writer:
    """Bulk rows into tables, in the value forms the backend's column types take."""

    engine = ""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def dt(self, us: int | None) -> Any:
        raise NotImplementedError

    def dur(self, us: int) -> Any:
        raise NotImplementedError

    def flag(self, value: bool | None) -> Any:
        return value

    def write(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        raise NotImplementedError

    def begin_load(self) -> None: ...

    def end_load(self) -> None: ...

    def abort(self) -> None: ...

    def drop_indexes(self, tables: Iterable[str]) -> list[str]:
        """Drop the secondary indexes of `tables` that nothing depends on; return the SQL
        that creates them again. Built once over the loaded rows, an index costs a sort
        instead of millions of random page writes into a B-tree larger than the cache."""
        return []

    def execute(self, sql: str) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(sql)


class _SqliteWriter(_Writer):
    engine = "sqlite"

    def dt(self, us: int | None) -> Any:
        # As Django's SQLite backend stores an aware datetime: UTC, naive, str().
        return None if us is None else _utc_text(us)

    def dur(self, us: int) -> Any:
        return us

    def flag(self, value: bool | None) -> Any:
        return None if value is None else int(value)

    def write(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" * len(columns))
        sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
        self.raw.executemany(sql, rows)

    def begin_load(self) -> None:
        # journal_mode and foreign_keys cannot change inside a transaction. Foreign keys
        # are not checked row by row during the load (the test checks them afterwards).
        self.connection.ensure_connection()
        self.raw = self.connection.connection
        for pragma in (
            "foreign_keys=OFF",
            "journal_mode=OFF",
            "synchronous=OFF",
            "cache_size=-400000",
        ):
            self.raw.execute(f"PRAGMA {pragma}")
        self.connection.set_autocommit(False)

    def end_load(self) -> None:
        self.connection.commit()
        self.connection.set_autocommit(True)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            self.raw.execute(f"PRAGMA {pragma}")
        self.raw.execute("ANALYZE")

    def abort(self) -> None:
        self.connection.rollback()
        self.connection.set_autocommit(True)
        self.raw.execute("PRAGMA journal_mode=WAL")
        self.raw.execute("PRAGMA foreign_keys=ON")

    def drop_indexes(self, tables: Iterable[str]) -> list[str]:
        # Indexes written out in the schema (sql not null); UNIQUE columns' automatic
        # indexes stay, as they must.
        created = []
        for table in tables:
            for name, sql in self.raw.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND sql IS NOT NULL",
                (table,),
            ).fetchall():
                self.raw.execute(f'DROP INDEX "{name}"')
                created.append(sql)
        return created

    def execute(self, sql: str) -> None:
        self.raw.execute(sql)


class _PostgresWriter(_Writer):
    engine = "postgresql"

    def dt(self, us: int | None) -> Any:
        return None if us is None else _utc_text(us) + "+00"

    def dur(self, us: int) -> Any:
        return f"{us} microseconds"

    def write(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        names = ", ".join(f'"{c}"' for c in columns)
        with self.cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)

    def begin_load(self) -> None:
        # One transaction; foreign-key triggers off for it (`replica`), since deferred
        # checks of millions of rows at commit would take longer than the load itself.
        self.connection.ensure_connection()
        self.connection.set_autocommit(False)
        self.raw = self.connection.connection
        self.cursor = self.raw.cursor()
        self.cursor.execute("SET LOCAL session_replication_role = replica")

    def end_load(self) -> None:
        self.cursor.close()
        self.connection.commit()
        self.connection.set_autocommit(True)
        with self.connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    def abort(self) -> None:
        self.connection.rollback()
        self.connection.set_autocommit(True)

    def drop_indexes(self, tables: Iterable[str]) -> list[str]:
        # Not the indexes behind constraints (primary keys, unique columns).
        created = []
        for table in tables:
            self.cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = "
                "(quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)",
                (table,),
            )
            for name, definition in self.cursor.fetchall():
                self.cursor.execute(f'DROP INDEX "{name}"')
                created.append(definition)
        return created

    def execute(self, sql: str) -> None:
        self.cursor.execute(sql)


def _writer_for(connection: Any) -> _Writer:
    if connection.vendor == "sqlite":
        return _SqliteWriter(connection)
    if connection.vendor == "postgresql":
        return _PostgresWriter(connection)
    raise RuntimeError(f"unsupported database {connection.vendor}")


# --- clocks -----------------------------------------------------------------------------


class _ClockMap:
    """One clock's windows over the data set's span, for `deadline_after` in microseconds.

    Clock time is counted cumulatively from the first window, so a deadline is one
    forward lookup and one inverse lookup (two bisections) instead of a walk over days.
    Agrees with `core.clocks.deadline_after` to the microsecond (the test checks it).
    """

    def __init__(self, kind: str, ctx: Any, first_day: Any, last_day: Any) -> None:
        from gongzhi.core.clocks import ClockKind

        self.kind = kind
        self.calendar = kind == ClockKind.CALENDAR
        if self.calendar:
            return
        if kind == ClockKind.SERVICE_HOURS:
            opens_at, closes_at = ctx.service_start, ctx.service_end
        else:
            opens_at, closes_at = ctx.working_start, ctx.working_end
        self.opens: list[int] = []
        self.closes: list[int] = []
        self.cum: list[int] = []
        self.cum_end: list[int] = []
        # The first local day from which the working calendar is a Monday–Friday guess.
        self.unknown_from: int | None = None
        total = 0
        day = first_day
        while day <= last_day:
            info = ctx.day_info(day)
            if kind == ClockKind.WORKING and not info.known and self.unknown_from is None:
                self.unknown_from = to_us(datetime.combine(day, datetime.min.time(), tzinfo=ctx.tz))
            if kind != ClockKind.WORKING or info.is_workday:
                o = to_us(datetime.combine(day, opens_at, tzinfo=ctx.tz))
                c = to_us(datetime.combine(day, closes_at, tzinfo=ctx.tz))
                self.opens.append(o)
                self.closes.append(c)
                self.cum.append(total)
                total += c - o
                self.cum_end.append(total)
            day += timedelta(days=1)

    def deadline(self, start: int, duration: int) -> tuple[int, bool]:
        if self.calendar:
            return start + duration, False
        i = bisect.bisect_right(self.opens, start) - 1
        if i >= 0 and start < self.closes[i]:
            c = self.cum[i] + start - self.opens[i]
        else:
            c = self.cum[i + 1]
        c += duration
        j = bisect.bisect_left(self.cum_end, c)
        due = self.opens[j] + c - self.cum[j]
        estimated = self.unknown_from is not None and due >= self.unknown_from
        return due, estimated


# --- the generator ----------------------------------------------------------------------


@dataclass
class _Community:
    index: int
    pk: int
    segment: str
    code: str
    subdistrict_pk: int
    secretary: int = 0
    workers: list[int] = field(default_factory=list)
    mediator: int = 0
    volunteers: list[int] = field(default_factory=list)
    # per estate: (property manager, owners' committee member, estate pk)
    estates: list[tuple[int, int, int]] = field(default_factory=list)
    # residents: (user pk, dwelling pk, building pk, estate index, name, phone)
    residents: list[tuple[int, int, int, int, str, str]] = field(default_factory=list)
    # per building pk: (label, estate index, grid index or None)
    buildings: dict[int, tuple[str, int, int | None]] = field(default_factory=dict)
    public_areas: list[list[int]] = field(default_factory=list)  # per estate
    shops: list[list[tuple[int, int | None]]] = field(default_factory=list)  # (pk, grid)
    grids: list[tuple[int, int, list[int]]] = field(default_factory=list)  # leader, workers
    weight: float = 1.0


@dataclass
class _Category:
    pk: int
    code: str
    name: str
    group: str
    lead_role: str
    co_roles: list[str]
    single: bool
    response_clock: str
    completion_clock: str
    response_target: int
    completion_target: int
    alarm_offsets: dict[tuple[str, str], int]
    completion_hint: int
    texts: list[str]


class _Ids:
    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def take(self, table: str) -> int:
        value = self.next.get(table, 1)
        self.next[table] = value + 1
        return value


class _Generator:
    def __init__(
        self,
        *,
        communities: int,
        cases: int,
        seed: int,
        progress: bool,
        now: datetime,
        writer: _Writer,
        workers: int = 3,
    ) -> None:
        self.n_communities = communities
        self.n_cases = cases
        self.seed = seed
        self.progress = progress
        self.now_dt = now.astimezone(UTC)
        self.now = to_us(self.now_dt)
        self.w = writer
        self.rng = random.Random(seed)
        self.ids = _Ids()
        self.counts: dict[str, int] = {}
        self.workers = workers
        self.next_event = itertools.count(1).__next__
        self.next_alarm = itertools.count(1).__next__
        self.timings: dict[str, float] = {}

    # -- orchestration --

    def run(self) -> dict[str, Any]:
        from django.conf import settings

        if settings.TIME_ZONE != "Asia/Shanghai":
            raise RuntimeError("the generator computes local dates for Asia/Shanghai (UTC+8)")
        self._columns_check()
        self.w.begin_load()
        try:
            self._timed("places_and_people", self._places_and_people)
            self._timed("categories", self._categories)
            indexes = self.w.drop_indexes(BIG_TABLES)
            self._timed("cases", self._cases)
            self._timed("sequences", self._sequences)
            self._timed("indexes", lambda: self._indexes(indexes))
            self.w.end_load()
        except BaseException:
            self.w.abort()
            raise
        self._timed("finish", self._finish)
        return self._summary()

    def _timed(self, name: str, step: Callable[[], None]) -> None:
        started = time.perf_counter()
        step()
        self.timings[name] = round(time.perf_counter() - started, 1)

    def _indexes(self, statements: list[str]) -> None:
        bar = _bar(self.progress, len(statements), "indexes")
        for sql in statements:
            self.w.execute(sql)
            bar.update(1)
        bar.close()

    def _say(self, message: str) -> None:
        if self.progress:
            print(message, file=sys.stderr, flush=True)

    def _write(self, model: Any, rows: list[tuple]) -> None:
        table = model._meta.db_table
        self.w.write(table, COLUMNS[table], rows)
        self.counts[table] = self.counts.get(table, 0) + len(rows)

    def _columns_check(self) -> None:
        from django.apps import apps

        for table, columns in COLUMNS.items():
            model = next(
                m for m in apps.get_models(include_auto_created=True) if m._meta.db_table == table
            )
            actual = {f.column for f in model._meta.concrete_fields}
            if set(columns) != actual:
                raise RuntimeError(
                    f"{table}: generator columns differ from the model: "
                    f"missing {sorted(actual - set(columns))}, "
                    f"extra {sorted(set(columns) - actual)}"
                )

    # -- places and people --

    def _name(self) -> str:
        rng = self.rng
        return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))

    def _places_and_people(self) -> None:
        from django.contrib.auth.hashers import make_password

        from gongzhi.accounts.models import Residency, Role, RoleAssignment, User
        from gongzhi.core.text import normalise
        from gongzhi.places.models import CommunitySettings, Grid, Place

        w, now = self.w, self.now
        created = w.dt(now - HISTORY_DAYS * DAY - 30 * DAY)
        self.password = make_password(PASSWORD)
        places: list[tuple] = []
        search_cache: dict[str, str] = {}

        def place(kind, name, code, parent, depth, community, sort_key, ctype="", area=None):
            pk = self.ids.take("place")
            search = search_cache.get(name)
            if search is None:
                search = search_cache[name] = normalise(name)[:100]
            places.append(
                (
                    pk,
                    created,
                    created,
                    kind,
                    name,
                    search,
                    parent,
                    code,
                    depth,
                    community if community is not None else (pk if kind == "community" else None),
                    ctype,
                    "",
                    None,
                    None,
                    area,
                    sort_key,
                    True,
                )
            )
            return pk

        users: list[tuple] = []
        roles: list[tuple] = []
        residencies: list[tuple] = []
        phone_serial = [0]

        def user(
            username: str, name: str, *, staff_phone: bool = True, is_staff: bool = False
        ) -> int:
            pk = self.ids.take("user")
            phone_serial[0] += 1
            phone = f"{'15' if staff_phone else '13'}{phone_serial[0]:09d}"
            users.append(
                (
                    pk,
                    self.password,
                    None,
                    False,
                    username,
                    "",
                    "",
                    "",
                    is_staff,
                    True,
                    created,
                    name,
                    phone,
                    created,
                    created,
                    "zh-hans",
                )
            )
            return pk

        def role(user_pk: int, role_name: str, place_pk=None, grid_pk=None, org=""):
            roles.append(
                (
                    self.ids.take("role"),
                    created,
                    created,
                    user_pk,
                    role_name,
                    place_pk,
                    grid_pk,
                    org,
                    True,
                    None,
                )
            )

        # `user_staff_sync` lets an administrator into Django's admin.
        admin = user(ADMIN_USERNAME, "基准管理员", is_staff=True)
        role(admin, Role.ADMINISTRATOR)
        self.logins: dict[str, str] = {"administrator": ADMIN_USERNAME}
        self.communities: list[_Community] = []
        settings_rows: list[tuple] = []
        grid_rows: list[tuple] = []
        grid_buildings: list[tuple] = []
        n_subdistricts = max(1, (self.n_communities + 9) // 10)
        n_districts = max(1, (n_subdistricts + 9) // 10)
        heads = NAME_HEADS
        community_index = 0
        bar = _bar(self.progress, self.n_communities, "places and people")
        for d in range(n_districts):
            d_code, d_name = (
                DISTRICTS[d] if d < len(DISTRICTS) else (f"3102{d:02d}", f"第{d + 1}区")
            )
            d_pk = place("district", d_name, d_code, None, 0, None, d + 1)
            district_user = user(f"{d_code}-district", self._name())
            role(district_user, Role.DISTRICT_SUPERVISOR, d_pk)
            for s in range(10):
                if d * 10 + s >= n_subdistricts:
                    break
                s_seg = f"S{s + 1:02d}"
                s_code = f"{d_code}-{s_seg}"
                s_name = f"{heads[(d * 10 + s) % len(heads)]}{'街道' if s < 7 else '镇'}"
                s_pk = place("subdistrict", s_name, s_code, d_pk, 1, None, s + 1)
                supervisor = user(f"{s_code.lower()}-supervisor", self._name())
                role(supervisor, Role.SUBDISTRICT_SUPERVISOR, s_pk)
                if "subdistrict_supervisor" not in self.logins:
                    self.logins["subdistrict_supervisor"] = f"{s_code.lower()}-supervisor"
                    self.logins["district_supervisor"] = f"{d_code}-district"
                for _c in range(10):
                    if community_index >= self.n_communities:
                        break
                    community_index += 1
                    self._community(
                        community_index,
                        s_pk,
                        s_code,
                        place,
                        user,
                        role,
                        residencies,
                        settings_rows,
                        grid_rows,
                        grid_buildings,
                        created,
                    )
                    bar.update(1)
                    if len(places) > 50_000:
                        self._write(Place, places)
                        places.clear()
        bar.close()
        self._write(Place, places)
        self._write(CommunitySettings, settings_rows)
        self._write(Grid, grid_rows)
        self._write(Grid.buildings.through, grid_buildings)
        self._write(User, users)
        self._write(RoleAssignment, roles)
        self._write(Residency, residencies)

    def _community(
        self,
        index,
        s_pk,
        s_code,
        place,
        user,
        role,
        residencies,
        settings_rows,
        grid_rows,
        grid_buildings,
        created,
    ) -> None:
        from gongzhi.accounts.models import Role

        rng = self.rng
        seg = f"C{index:04d}"
        code = f"{s_code}-{seg}"
        name = f"{rng.choice(NAME_HEADS)}{rng.choice(NAME_TAILS)}居民区"
        ctype = rng.choice(["commercial"] * 5 + ["resettlement"] * 3 + ["rental", "mixed"])
        c_pk = place("community", name, code, s_pk, 2, None, index, ctype)
        settings_rows.append(
            (
                self.ids.take("settings"),
                created,
                created,
                c_pk,
                "08:00:00",
                "20:00:00",
                code.lower(),
            )
        )
        community = _Community(index=index, pk=c_pk, segment=seg, code=code, subdistrict_pk=s_pk)
        # Some communities are much busier than others; the first is the busiest.
        community.weight = 3.0 if index == 1 else rng.lognormvariate(0, 0.45)
        key = seg.lower()
        building_order: list[int] = []
        estate_buildings: list[list[int]] = []
        for e in range(1, rng.choice((1, 2, 2, 2, 3)) + 1):
            e_code = f"{code}-E{e}"
            e_pk = place(
                "estate",
                f"{rng.choice(NAME_HEADS)}{rng.choice(NAME_TAILS)}",
                e_code,
                c_pk,
                3,
                c_pk,
                e,
            )
            buildings: list[int] = []
            for b in range(1, rng.randint(3, 6) + 1):
                b_code = f"{e_code}-B{b}"
                b_pk = place("building", f"{b}号楼", b_code, e_pk, 4, c_pk, b)
                buildings.append(b_pk)
                community.buildings[b_pk] = (f"{b}号楼", e - 1, None)
                dwellings_here = []
                for u in range(1, rng.choice((1, 2)) + 1):
                    u_code = f"{b_code}-U{u}"
                    u_pk = place("entrance", f"{u}单元", u_code, b_pk, 5, c_pk, u)
                    for floor in range(1, 7):
                        for flat in (1, 2):
                            segd = f"{floor}{flat:02d}"
                            pk = place(
                                "dwelling",
                                f"{segd}室",
                                f"{u_code}-{segd}",
                                u_pk,
                                6,
                                c_pk,
                                floor * 100 + flat,
                                area=f"{rng.uniform(45, 120):.2f}",
                            )
                            dwellings_here.append(pk)
                # Four residents in ten households have an account.
                for pk in dwellings_here:
                    if rng.random() < 0.4:
                        rname = self._name()
                        r_pk = user(f"{key}-r{pk}", rname, staff_phone=False)
                        community.residents.append((r_pk, pk, b_pk, e - 1, rname, ""))
            estate_buildings.append(buildings)
            building_order.extend(buildings)
            shops = [
                place(
                    "street_shop",
                    f"沿街{n}号",
                    f"{e_code}-S{n:02d}",
                    e_pk,
                    4,
                    c_pk,
                    n,
                    area="60.00",
                )
                for n in (1, 2)
            ]
            areas = [
                place("public_area", label, f"{e_code}-PA{n}", e_pk, 4, c_pk, n)
                for n, label in enumerate(("小区正门", "中心绿地"), start=1)
            ]
            community.public_areas.append(areas)
            community.shops.append([(s, None) for s in shops])
            company = rng.choice(PROPERTY_COMPANIES)
            manager = user(f"{key}-e{e}-property", self._name())
            role(manager, Role.PROPERTY_MANAGER, e_pk, None, company)
            member = user(f"{key}-e{e}-oc1", self._name())
            role(member, Role.OWNERS_COMMITTEE, e_pk, None, "业主委员会")
            community.estates.append((manager, member, e_pk))
        community.secretary = user(f"{key}-secretary", self._name())
        role(community.secretary, Role.SECRETARY, c_pk)
        role(user(f"{key}-director", self._name()), Role.DIRECTOR, c_pk)
        for n in (1, 2):
            worker = user(f"{key}-worker{n}", self._name())
            role(worker, Role.COMMUNITY_WORKER, c_pk)
            community.workers.append(worker)
        community.mediator = user(f"{key}-mediator", self._name())
        role(community.mediator, Role.MEDIATOR, c_pk)
        for n in (1, 2):
            volunteer = user(f"{key}-volunteer{n}", self._name())
            role(volunteer, Role.VOLUNTEER, c_pk)
            community.volunteers.append(volunteer)
        # Grids: the buildings in order, cut into nearly equal runs (as `gongzhi demo`).
        n_grids = min(rng.choice((2, 3, 3, 4)), len(building_order))
        grid_of: dict[int, int] = {}
        for i, b_pk in enumerate(building_order):
            grid_of[b_pk] = i * n_grids // len(building_order)
        numerals = "一二三四五六七八九十"
        for g in range(n_grids):
            g_pk = self.ids.take("grid")
            grid_rows.append(
                (g_pk, created, created, c_pk, f"{code}-G{g + 1}", f"第{numerals[g]}网格")
            )
            leader = user(f"{key}-g{g + 1}-leader", self._name())
            role(leader, Role.GRID_LEADER, None, g_pk)
            workers = []
            for n in (1, 2):
                worker = user(f"{key}-g{g + 1}-worker{n}", self._name())
                role(worker, Role.GRID_WORKER, None, g_pk)
                workers.append(worker)
            community.grids.append((g_pk, leader, workers))
        for b_pk, g in grid_of.items():
            grid_buildings.append(
                (self.ids.take("grid_building"), self.grids_pk(community, g), b_pk)
            )
            label, estate, _g = community.buildings[b_pk]
            community.buildings[b_pk] = (label, estate, g)
        # An estate's street shops belong to the grid of its first building.
        for e, buildings in enumerate(estate_buildings):
            g = grid_of[buildings[0]]
            community.shops[e] = [(s, g) for s, _none in community.shops[e]]
            for s, _g in community.shops[e]:
                grid_buildings.append(
                    (self.ids.take("grid_building"), self.grids_pk(community, g), s)
                )
        # Residents' residencies: verified, from the roster, by the first community worker.
        for r_pk, d_pk, _b, _e, _n, _p in community.residents:
            residencies.append(
                (
                    self.ids.take("residency"),
                    created,
                    created,
                    r_pk,
                    d_pk,
                    c_pk,
                    "owner",
                    "owner",
                    "verified",
                    "roster",
                    community.workers[0],
                    created,
                    "",
                )
            )
        if index == 1:
            self.logins["secretary"] = f"{key}-secretary"
            self.logins["community_worker"] = f"{key}-worker1"
            self.logins["grid_worker"] = f"{key}-g1-worker1"
            self.logins["property_manager"] = f"{key}-e1-property"
            self.logins["resident"] = (
                f"{key}-r{community.residents[0][1]}" if community.residents else ""
            )
        self.communities.append(community)

    @staticmethod
    def grids_pk(community: _Community, g: int) -> int:
        return community.grids[g][0]

    # -- categories and their clocks --

    def _categories(self) -> None:
        from gongzhi.cases.models import ALARM_FRACTIONS, Category, Policy
        from gongzhi.core.clocks import target_duration
        from gongzhi.core.workdays import clock_context_for

        ctx = clock_context_for(None)
        self.ctx = ctx
        tz = ctx.tz
        first = (self.now_dt - timedelta(days=HISTORY_DAYS + 60)).astimezone(tz).date()
        last = (self.now_dt + timedelta(days=400)).astimezone(tz).date()
        self.clocks = {
            kind: _ClockMap(kind, ctx, first, last)
            for kind in ("calendar", "service_hours", "working")
        }
        self.categories: list[_Category] = []
        weights: list[float] = []
        policies = {p.category_id: p for p in Policy.objects.filter(community__isnull=True)}
        for category in Category.objects.filter(is_active=True).order_by("sort", "code"):
            policy = policies.get(category.pk)
            if policy is None:
                continue
            rt = target_duration(
                policy.response_amount, policy.response_unit, policy.response_clock, ctx
            )
            ct = target_duration(
                policy.completion_amount, policy.completion_unit, policy.completion_clock, ctx
            )
            offsets = {}
            for clock_name, target in (("response", rt), ("completion", ct)):
                for level, fraction in ALARM_FRACTIONS.items():
                    offsets[(clock_name, str(level))] = _td_us(target * fraction)
            ct_us = _td_us(ct)
            probe = self.now - 30 * DAY
            hint = self.clocks[policy.completion_clock].deadline(probe, ct_us)[0] - probe
            self.categories.append(
                _Category(
                    pk=category.pk,
                    code=category.code,
                    name=category.name,
                    group=category.group,
                    lead_role=category.lead_role,
                    co_roles=list(category.co_handler_roles),
                    single=category.single_handler,
                    response_clock=policy.response_clock,
                    completion_clock=policy.completion_clock,
                    response_target=_td_us(rt),
                    completion_target=ct_us,
                    alarm_offsets=offsets,
                    completion_hint=hint,
                    texts=TEXTS.get(category.code, ["{b}有问题需要处理"]),
                )
            )
            weights.append(CATEGORY_WEIGHTS.get(category.code, 1.0))
        self.category_weights = weights

    # -- cases --

    def _plan(self) -> list[tuple[int, int, int, str, int]]:
        """Pass one: per case its report time, community, category, final state and a
        second time (the completion of a case awaiting its follow-up); sorted by report."""
        rng, now = self.rng, self.now
        cats = self.categories
        cat_cum = _cumulative(self.category_weights)
        com_cum = _cumulative([c.weight for c in self.communities])
        state_cum: list[tuple[float, str]] = []
        total = 0.0
        for state, share in STATE_SHARES:
            total += share
            state_cum.append((total, state))
        consultation = {i for i, c in enumerate(cats) if c.group == "consultation"}
        plans = []
        for _n in range(self.n_cases):
            com = _pick(com_cum, rng.random())
            cat = _pick(cat_cum, rng.random())
            roll = rng.random()
            state = "closed"
            for edge, name in state_cum:
                if roll < edge:
                    state = name
                    break
            if state == "to_topic" and cat not in consultation:
                state = "in_progress"
            category = cats[cat]
            extra = 0
            if state == "reported":
                age = (
                    rng.uniform(0, 3 * HOUR)
                    if rng.random() < 0.85
                    else rng.uniform(3 * HOUR, 5 * DAY)
                )
                rep = now - int(age)
            elif state in ("responded", "in_progress", "paused", "to_topic"):
                hint = category.completion_hint
                roll = rng.random()
                if state == "responded":
                    age = (
                        rng.uniform(20 * MINUTE, 2 * DAY)
                        if roll < 0.85
                        else rng.uniform(2 * DAY, 20 * DAY)
                    )
                elif roll < 0.6:
                    age = rng.uniform(HOUR, max(2 * HOUR, hint))
                elif roll < 0.9:
                    age = rng.uniform(hint, 3 * hint)
                else:
                    age = rng.uniform(3 * hint, max(4 * hint, 120 * DAY))
                rep = now - int(age)
            elif state == "completed":
                extra = now - int(rng.uniform(10 * MINUTE, 3 * DAY - 10 * MINUTE))
                rep = extra - int(rng.uniform(0.1, 1.2) * category.completion_hint) - 20 * MINUTE
            else:
                rep = self._historic_time(rng)
            plans.append((rep, com, cat, state, extra))
        plans.sort()
        return plans

    def _historic_time(self, rng: random.Random) -> int:
        # Reports grow over the two years (density rising linearly from 0.4 to 1.6), fall
        # mostly by day; the last two days are left to the open states.
        x = (-0.4 + (0.16 + 2.4 * rng.random()) ** 0.5) / 1.2
        day_start = self.now - HISTORY_DAYS * DAY + int(x * (HISTORY_DAYS - 2) * DAY)
        local_midnight = day_start - (day_start + 8 * HOUR) % DAY
        hour = _pick(self.hour_cum, rng.random())
        return local_midnight + hour * HOUR + rng.randrange(HOUR)

    def _cases(self) -> None:
        """Cases in chunks. With `parallel`, a forked child generates while this process
        writes (the generator needs no database, only what is already in memory)."""
        from gongzhi.cases.models import Case, CaseEvent, CaseHandler, ClockAlarm, FollowUp

        tables = (
            ("case", Case),
            ("handler", CaseHandler),
            ("event", CaseEvent),
            ("alarm", ClockAlarm),
            ("follow_up", FollowUp),
        )
        bar = _bar(self.progress, self.n_cases, "cases")

        def write(rows: dict[str, list[tuple]], n: int) -> None:
            for key, model in tables:
                self._write(model, rows[key])
            bar.update(n)

        self.hour_cum = _cumulative(HOUR_WEIGHTS)
        self.channel_cum = _cumulative([c[1] for c in CHANNELS])
        self._say("planning cases…")
        self.plans = self._plan()
        self._warm_texts()
        if not self.workers:
            for rows, n in self._chunks(0, 1):
                write(rows, n)
            bar.close()
            self._merge_state([self._case_state()])
            return
        import multiprocessing

        context = multiprocessing.get_context("fork")
        queue = context.Queue(maxsize=2 * self.workers)
        children = [
            context.Process(target=self._produce, args=(queue, k, self.workers), daemon=True)
            for k in range(self.workers)
        ]
        for child in children:
            child.start()
        waited = wrote = 0.0
        states = []
        try:
            while len(states) < len(children):
                started = time.perf_counter()
                item = queue.get()
                waited += time.perf_counter() - started
                if item[0] == "rows":
                    started = time.perf_counter()
                    write(item[1], item[2])
                    wrote += time.perf_counter() - started
                elif item[0] == "done":
                    states.append(item[1])
                else:
                    raise RuntimeError(f"the case generator failed:\n{item[1]}")
        finally:
            for child in children:
                child.join(timeout=30)
            bar.close()
            # Which side is the bottleneck: waiting for the generators, or writing; and
            # the CPU each side used, which the machine's load does not inflate.
            self.timings["cases_waiting_for_generators"] = round(waited, 1)
            self.timings["cases_writing"] = round(wrote, 1)
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            self.timings["cpu_generators"] = round(children.ru_utime + children.ru_stime, 1)
        self._merge_state(states)

    def _produce(self, queue: Any, k: int, n: int) -> None:
        import traceback

        try:
            for rows, count in self._chunks(k, n):
                queue.put(("rows", rows, count))
            queue.put(("done", self._case_state()))
        except BaseException:
            queue.put(("error", traceback.format_exc()))

    def _case_state(self) -> dict[str, Any]:
        return {
            "sequences": self.sequences,
            "state_counts": self.state_counts,
            "open_with_pending": self.open_with_pending,
            "pending_alarms": self.pending_alarms,
            "overdue_open": self.overdue_open,
            "lead_open": self.lead_open,
            "alarms_pending_total": self.counts.get("alarms_pending", 0),
        }

    def _merge_state(self, states: list[dict[str, Any]]) -> None:
        self.sequences = {}
        self.state_counts = {}
        self.lead_open = {}
        self.open_with_pending = self.pending_alarms = self.overdue_open = 0
        self.counts["alarms_pending"] = 0
        for state in states:
            self.sequences.update(state["sequences"])
            for key, value in state["state_counts"].items():
                self.state_counts[key] = self.state_counts.get(key, 0) + value
            for key, value in state["lead_open"].items():
                self.lead_open[key] = self.lead_open.get(key, 0) + value
            self.open_with_pending += state["open_with_pending"]
            self.pending_alarms += state["pending_alarms"]
            self.overdue_open += state["overdue_open"]
            self.counts["alarms_pending"] += state["alarms_pending_total"]

    def _warm_texts(self) -> None:
        """Normalise and tokenise every case text once, before the generators fork (jieba
        loads its dictionary once, not once per process)."""
        self.text_cache: dict[str, tuple[str, str]] = {}
        labels = {"小区", "沿街商铺"}
        for community in self.communities:
            labels.update(label for label, _e, _g in community.buildings.values())
        for category in self.categories:
            for template in category.texts:
                for label in labels:
                    self._texts(template.format(b=label))

    def _chunks(self, k: int, n: int) -> Iterator[tuple[dict[str, list[tuple]], int]]:
        """Generator `k` of `n`: the cases of communities k, k + n, k + 2n, … (a case
        depends on earlier cases of its own community only), with its own random stream
        and ids k + 1, k + 1 + n, … for the rows below a case."""
        self.rng = random.Random(f"{self.seed}-cases-{k}-{n}")
        self.next_event = itertools.count(k + 1, n).__next__
        self.next_alarm = itertools.count(k + 1, n).__next__
        self.next_handler = itertools.count(k + 1, n).__next__
        self.next_follow_up = itertools.count(k + 1, n).__next__
        self.sequences = {}
        self.state_counts = {}
        self.open_with_pending = 0
        self.pending_alarms = 0
        self.overdue_open = 0
        self.recent: dict[int, list[tuple[int, int, str, int]]] = {}
        self.lead_open = {}
        self.counts["alarms_pending"] = 0
        rows = self._new_rows()
        done = 0
        for index, plan in enumerate(self.plans):
            if plan[1] % n != k:
                continue
            self._case(index + 1, *plan)
            done += 1
            if done == CHUNK:
                yield rows, done
                rows = self._new_rows()
                done = 0
        if done:
            yield rows, done

    def _new_rows(self) -> dict[str, list[tuple]]:
        self.rows = {k: [] for k in ("case", "handler", "event", "alarm", "follow_up")}
        return self.rows

    def _texts(self, text: str) -> tuple[str, str]:
        cached = self.text_cache.get(text)
        if cached is None:
            from gongzhi.core.text import normalise, search_tokens

            cached = self.text_cache[text] = (
                normalise(text),
                " ".join(sorted(set(search_tokens(text)))),
            )
        return cached

    def _route(
        self, com: _Community, cat: _Category, place_grid: int | None, estate: int, rep: int
    ):
        """`routing.route` for this tree: (lead, lead role, [(co-handler, role)])."""

        def holder(role: str, exclude: set[int]) -> tuple[int, str] | None:
            if role in ("grid_worker", "grid_leader"):
                if place_grid is None:
                    return None
                _g, leader, workers = com.grids[place_grid]
                if role == "grid_worker":
                    free = [u for u in workers if u not in exclude]
                    if free:
                        return min(free), "grid_worker"
                return (leader, "grid_leader") if leader not in exclude else None
            if role == "property_manager":
                u = com.estates[estate][0]
            elif role == "owners_committee":
                u = com.estates[estate][1]
            elif role == "mediator":
                u = com.mediator
            elif role == "community_worker":
                u = min(com.workers)
            else:
                return None
            return None if u in exclude else (u, role)

        lead = holder(cat.lead_role, set())
        fallback = False
        if lead is None:
            fallback = True
            ordinal = datetime.fromtimestamp((rep + 8 * HOUR) / US, UTC).date().toordinal()
            workers = sorted(com.workers)
            lead = (workers[ordinal % len(workers)], "community_worker")
        co: list[tuple[int, str]] = []
        if not cat.single:
            taken = {lead[0]}
            for role in cat.co_roles:
                match = holder(role, taken)
                if match is not None:
                    taken.add(match[0])
                    co.append(match)
        return lead, co, fallback

    def _case(self, case_id: int, rep: int, com_i: int, cat_i: int, state: str, extra: int) -> None:
        rng, now, w = self.rng, self.now, self.w
        com = self.communities[com_i]
        cat = self.categories[cat_i]
        # Who reports, where.
        channel, _weight, how = CHANNELS[_pick(self.channel_cum, rng.random())]
        resident = rng.choice(com.residents) if com.residents else None
        reporter = entered = None
        contact_name = contact_phone = ""
        anonymous = False
        if how == "self" and resident is not None:
            reporter = entered = resident[0]
            anonymous = rng.random() < 0.05
        elif how == "patrol":
            reporter = entered = rng.choice(com.volunteers + [g[2][0] for g in com.grids])
        elif how == "task":
            reporter = entered = rng.choice(com.workers)
        else:
            entered = rng.choice(com.workers + [g[2][0] for g in com.grids])
            if resident is not None and rng.random() < 0.7:
                reporter = resident[0]
                contact_name, contact_phone = resident[4], ""
            else:
                contact_name = self._name()
                contact_phone = f"139{rng.randrange(10**8):08d}"
        if resident is None:
            estate = rng.randrange(len(com.estates))
            b_pk = rng.choice([b for b, v in com.buildings.items() if v[1] == estate])
            place_pk, place_grid = b_pk, com.buildings[b_pk][2]
            label = com.buildings[b_pk][0]
        else:
            estate = resident[3]
            label, _e, b_grid = com.buildings[resident[2]]
            roll = rng.random()
            if how in ("patrol", "task"):
                roll = 0.6 + roll * 0.4
            if roll < 0.55:
                place_pk, place_grid = resident[1], b_grid
            elif roll < 0.75:
                place_pk, place_grid = resident[2], b_grid
            elif roll < 0.92:
                place_pk, place_grid = rng.choice(com.public_areas[estate]), None
                label = "小区"
            else:
                place_pk, place_grid = rng.choice(com.shops[estate])
                label = "沿街商铺"
        text = rng.choice(cat.texts).format(b=label)
        normalised, tokens = self._texts(text)
        answers = "{}"
        if cat.code == "lift_trapped":
            answers = json.dumps({"trapped_count": rng.choice((1, 1, 2, 3))})
        elif cat.code == "noise" and rng.random() < 0.6:
            answers = json.dumps({"noise_time": rng.choice(("day", "night", "night"))})

        lead_info, co, fallback = self._route(com, cat, place_grid, estate, rep)
        lead, lead_role = lead_info
        clocks = self.clocks
        resp_due, resp_est = clocks[cat.response_clock].deadline(rep, cat.response_target)
        comp_due, comp_est = clocks[cat.completion_clock].deadline(rep, cat.completion_target)

        local_day = _day_text((rep + 8 * HOUR) // DAY).replace("-", "")
        prefix = f"{com.segment}-{local_day}"
        seq = self.sequences.get(prefix, 0) + 1
        self.sequences[prefix] = seq
        number = f"{prefix}-{seq:04d}"

        events: list[tuple[int, int, Any, str, str, str, str, bool, str]] = []

        def event(at, actor, kind, from_state="", to_state="", note="", public=False, data=None):
            events.append(
                (at, len(events), actor, kind, from_state, to_state, note, public, data or "{}")
            )

        event(
            rep,
            entered,
            "reported",
            "",
            "reported",
            f"通过“{CHANNEL_LABELS[channel]}”上报，类别“{cat.name}”。",
            True,
            f'{{"response_due_at": "{w_iso(resp_due)}", "completion_due_at": "{w_iso(comp_due)}"}}',
        )
        event(
            rep,
            None,
            "routed",
            note=(
                "按网格分派。"
                if place_grid is not None and lead_role.startswith("grid")
                else "今日无值班安排，由社区工作者轮值负责。"
                if fallback
                else f"按类别分派：“{cat.name}”主办。"
            ),
            data=f'{{"lead": {lead}, "co_handlers": [{", ".join(str(u) for u, _r in co)}], '
            f'"fallback": {"true" if fallback else "false"}}}',
        )

        # The case's life, as far as it has gone by now.
        f = {
            "responded_at": None,
            "started_at": None,
            "completed_at": None,
            "followed_up_at": None,
            "closed_at": None,
            "declined_at": None,
            "merged_at": None,
            "topic_at": None,
            "paused_at": None,
        }
        reopen_count = 0
        version = 1
        completed_by = None
        completion_note = ""
        pause_reason = paused_from = ""
        decline_reason = referral = topic_note = ""
        merged_into = None
        next_due = None
        follow_ups: list[tuple] = []
        # alarm rows: (clock, level, round, due, fired, cancelled, suspended)
        alarms: list[list[Any]] = []
        for clock_name, start in (("response", rep), ("completion", rep)):
            for level in ("warning", "overdue", "supervision"):
                due = clocks[
                    cat.response_clock if clock_name == "response" else cat.completion_clock
                ].deadline(start, cat.alarm_offsets[(clock_name, level)])[0]
                alarms.append([clock_name, level, 0, due, None, None, None])

        def respond_time(latest: int) -> int:
            roll = rng.random()
            frac = (
                rng.uniform(0.1, 0.8)
                if roll < 0.82
                else rng.uniform(0.8, 1.3)
                if roll < 0.95
                else rng.uniform(1.3, 4)
            )
            t = clocks[cat.response_clock].deadline(rep, int(cat.response_target * frac))[0]
            if t >= latest:
                t = rep + int((latest - rep) * rng.uniform(0.05, 0.5))
            return max(t, rep + US)

        def complete_time(after: int, latest: int) -> int:
            roll = rng.random()
            frac = (
                rng.uniform(0.1, 0.8)
                if roll < 0.75
                else rng.uniform(0.8, 1.0)
                if roll < 0.87
                else rng.uniform(1.0, 2.5)
                if roll < 0.97
                else rng.uniform(2.5, 6)
            )
            t = clocks[cat.completion_clock].deadline(rep, int(cat.completion_target * frac))[0]
            return max(t, after + rng.randint(5 * MINUTE, 2 * HOUR))

        def settle(clock_name: str | None, until: int, cancel: bool, round_: int = 0) -> None:
            """Fire the alarms of `clock_name` (all with None) due before `until`; cancel the
            rest (if `cancel`), as the checker and the service ending the clock would."""
            for a in alarms:
                if (
                    (clock_name is None or a[0] == clock_name)
                    and a[2] == round_
                    and a[4] is None
                    and a[5] is None
                    and a[6] is None
                ):
                    fire_at = a[3] + rng.randrange(60 * US)
                    if fire_at < until:
                        a[4] = fire_at
                    elif cancel:
                        a[5] = until

        lead_status = "pending"
        lead_started = lead_done = None
        end_state = state
        lead_name_note = "已接单，负责办理。"
        staff_follow = rng.choice(com.workers) if rng.random() < 0.8 else com.secretary

        if state == "reported":
            settle(None, now, False)
            next_due = resp_due
        elif state == "merged":
            target = self._merge_target(com, rep)
            merged_at = min(rep + rng.randint(10 * MINUTE, 6 * HOUR), now - MINUTE)
            if target is None or target[1] >= merged_at:
                end_state = state = "declined"
            else:
                from_state = "reported"
                if rng.random() < 0.3:
                    f["responded_at"] = respond_time(merged_at)
                    settle("response", f["responded_at"], True)
                    event(
                        f["responded_at"],
                        lead,
                        "responded",
                        "reported",
                        "responded",
                        lead_name_note,
                        True,
                    )
                    from_state = "responded"
                    version += 1
                settle(None, merged_at, True)
                f["merged_at"] = merged_at
                merged_into = target[0]
                event(
                    merged_at,
                    com.secretary,
                    "merged",
                    from_state,
                    "merged",
                    f"与诉求 {target[2]} 为同一问题，已合并，进展请看该诉求。",
                    True,
                    {"into": target[2]},
                )
                self.rows["event"].append(
                    (
                        self.next_event(),
                        target[0],
                        w.dt(merged_at),
                        com.secretary,
                        "merged_in",
                        "",
                        "",
                        f"诉求 {number} 反映的是同一问题，已并入本诉求。",
                        w.flag(True),
                        json.dumps({"merged": number}, ensure_ascii=False),
                    )
                )
                version += 1
        if state == "declined":
            declined_at = min(rep + rng.randint(5 * MINUTE, 8 * HOUR), now - MINUTE)
            from_state = "reported"
            if rng.random() < 0.4:
                f["responded_at"] = respond_time(declined_at)
                settle("response", f["responded_at"], True)
                event(
                    f["responded_at"],
                    lead,
                    "responded",
                    "reported",
                    "responded",
                    lead_name_note,
                    True,
                )
                from_state = "responded"
                version += 1
            else:
                f["responded_at"] = declined_at
            settle(None, declined_at, True)
            f["declined_at"] = declined_at
            decline_reason = rng.choice(
                ["不属于居民区职责范围", "属于市政管理范围", "私人合同纠纷，建议走司法途径"]
            )
            referral = rng.choice(["12345市民服务热线", "街道城运中心", ""])
            note = f"不予受理：{decline_reason}" + (f"；已转介：{referral}" if referral else "")
            event(
                declined_at,
                lead,
                "declined",
                from_state,
                "declined",
                note,
                True,
                {"referral": referral},
            )
            version += 1
        elif state in ("responded", "in_progress", "paused", "to_topic", "completed", "closed"):
            latest = extra if state == "completed" else now
            f["responded_at"] = respond_time(latest)
            settle("response", f["responded_at"], True)
            event(
                f["responded_at"], lead, "responded", "reported", "responded", lead_name_note, True
            )
            version += 1
            next_due = comp_due
            if state != "responded" and not (
                state in ("paused", "to_topic") and rng.random() < 0.3
            ):
                gap = (
                    rng.randint(MINUTE, 40 * MINUTE)
                    if rng.random() < 0.8
                    else rng.randint(40 * MINUTE, 6 * HOUR)
                )
                started = f["responded_at"] + gap
                if started >= latest:
                    started = f["responded_at"] + (latest - f["responded_at"]) // 2
                f["started_at"] = started
                lead_status, lead_started = "in_progress", started
                event(started, lead, "started", "responded", "in_progress", "开始办理。", True)
                version += 1
            current = "in_progress" if f["started_at"] else "responded"
            if state == "paused":
                after = f["started_at"] or f["responded_at"]
                paused_at = after + int((now - after) * rng.uniform(0.2, 0.95))
                f["paused_at"] = paused_at
                paused_from = current
                pause_reason = rng.choice(
                    [
                        "等待居民在家时上门",
                        "等待物业维修材料",
                        "等待第三方报价",
                        "居民外出暂时联系不上",
                    ]
                )
                for a in alarms:
                    if a[0] == "completion" and a[4] is None and a[3] > paused_at:
                        a[6] = paused_at
                settle("completion", now, False)
                event(paused_at, lead, "paused", current, "paused", f"挂起：{pause_reason}", True)
                version += 1
                next_due = None
            elif state == "to_topic":
                after = f["started_at"] or f["responded_at"]
                topic_at = after + int((now - after) * rng.uniform(0.1, 0.9))
                settle(None, topic_at, True)
                f["topic_at"] = topic_at
                topic_note = "涉及多方利益，需居民协商"
                event(
                    topic_at,
                    com.workers[0],
                    "to_topic",
                    current,
                    "to_topic",
                    f"转为议题，由各方共同商议：{topic_note}",
                    True,
                    '{"topic_ref": ""}',
                )
                version += 1
                next_due = None
            elif state in ("responded", "in_progress"):
                settle("completion", now, False)
            elif state == "closed" and (t_plan := complete_time(f["started_at"], now)) >= now:
                # Still being worked on: a slow case reported a few days ago.
                settle("completion", now, False)
                end_state = "in_progress"
            else:  # completed, closed
                t_comp = max(extra, f["started_at"] + MINUTE) if state == "completed" else t_plan
                settle("completion", t_comp, True)
                f["completed_at"] = t_comp
                completed_by = lead
                completion_note = "已处理完毕，现场已恢复。"
                lead_status, lead_done = "done", t_comp
                event(
                    t_comp,
                    lead,
                    "completed",
                    "in_progress",
                    "completed",
                    completion_note,
                    True,
                    '{"photos": 0}',
                )
                version += 1
                next_due = t_comp + 24 * HOUR
                if state == "closed":
                    # A negative follow-up reopens it once in a while, before it closes.
                    if rng.random() < REOPEN_SHARE and t_comp + 40 * DAY < now:
                        t_fu = t_comp + rng.randint(HOUR, 20 * HOUR)
                        follow_ups.append(
                            (
                                t_fu,
                                staff_follow,
                                "phone",
                                "answered",
                                True,
                                "unsatisfied",
                                "",
                                reopen_count,
                            )
                        )
                        event(
                            t_fu,
                            staff_follow,
                            "followed_up",
                            note="电话回访：已解决，不满意。",
                            public=True,
                            data={"follow_up": len(follow_ups) - 1},
                        )
                        reopen_count += 1
                        new_due, new_est = clocks[cat.completion_clock].deadline(
                            t_fu, cat.completion_target
                        )
                        comp_due, comp_est = new_due, new_est
                        event(
                            t_fu,
                            staff_follow,
                            "reopened",
                            "completed",
                            "in_progress",
                            f"回访结果为不满意，重新办理。 第 {reopen_count} 次重新办理。",
                            True,
                            {"reopen_count": reopen_count},
                        )
                        for level in ("warning", "overdue", "supervision"):
                            due = clocks[cat.completion_clock].deadline(
                                t_fu, cat.alarm_offsets[("completion", level)]
                            )[0]
                            alarms.append(
                                ["completion", level, reopen_count, due, None, None, None]
                            )
                        version += 1
                        t_comp = clocks[cat.completion_clock].deadline(
                            t_fu, int(cat.completion_target * rng.uniform(0.1, 0.9))
                        )[0]
                        t_comp = max(t_comp, t_fu + 10 * MINUTE)
                        settle("completion", t_comp, True, reopen_count)
                        f["completed_at"] = t_comp
                        lead_done = t_comp
                        event(
                            t_comp,
                            lead,
                            "completed",
                            "in_progress",
                            "completed",
                            "已再次处理。",
                            True,
                            '{"photos": 0}',
                        )
                        version += 1
                    if t_comp + 3 * DAY > now:
                        # Too recent to have closed: it waits for its follow-up (after
                        # 3 days without an answer `cases_close_unanswered` closes it).
                        end_state = "completed"
                    elif rng.random() < NO_ANSWER_SHARE:
                        t_close = t_comp + 3 * DAY + rng.randrange(5 * MINUTE)
                        follow_ups.append(
                            (t_close, None, "system", "no_answer", None, "", "", reopen_count)
                        )
                        f["closed_at"] = t_close
                        event(
                            t_close,
                            None,
                            "no_answer",
                            "completed",
                            "closed",
                            "办结 3 天内未能回访到居民，记为无应答并关闭（不计为已解决或满意）。",
                            True,
                        )
                        version += 1
                        next_due = None
                        end_state = "closed"
                    else:
                        t_fu = t_comp + rng.randint(30 * MINUTE, 30 * HOUR)
                        online = how == "self" and rng.random() < 0.4
                        recorder = reporter if online else staff_follow
                        satisfaction = (
                            "satisfied"
                            if rng.random() < SATISFACTION[0][1]
                            else "basically_satisfied"
                        )
                        follow_ups.append(
                            (
                                t_fu,
                                recorder,
                                "online" if online else "phone",
                                "answered",
                                True,
                                satisfaction,
                                "",
                                reopen_count,
                            )
                        )
                        label = "满意" if satisfaction == "satisfied" else "基本满意"
                        event(
                            t_fu,
                            recorder,
                            "followed_up",
                            "completed",
                            "followed_up",
                            f"{'居民在线评价' if online else '电话回访'}：已解决，{label}。",
                            True,
                            {"follow_up": len(follow_ups) - 1},
                        )
                        event(
                            t_fu, recorder, "closed", "followed_up", "closed", "诉求已关闭。", True
                        )
                        f["followed_up_at"] = f["closed_at"] = t_fu
                        version += 1
                        next_due = None
                        end_state = "closed"
        state = end_state

        # Alarms fired on the way become timeline events, and mark the case.
        overdue_at = supervised_at = None
        pending = 0
        for a in alarms:
            if a[4] is not None:
                kind = {"warning": "warning", "overdue": "overdue", "supervision": "supervised"}[
                    a[1]
                ]
                event(
                    a[4],
                    None,
                    kind,
                    note=f"诉求 {number} 的{'响应' if a[0] == 'response' else '办结'}时限提醒",
                    data=f'{{"clock": "{a[0]}", "level": "{a[1]}", "round": {a[2]}}}',
                )
                if a[1] == "overdue" and (overdue_at is None or a[4] < overdue_at):
                    overdue_at = a[4]
                if a[1] == "supervision" and (supervised_at is None or a[4] < supervised_at):
                    supervised_at = a[4]
            elif a[5] is None:
                pending += 1
        if state in ("reported", "responded", "in_progress", "paused"):
            self.pending_alarms += pending
            if pending:
                self.open_with_pending += 1
            if overdue_at is not None:
                self.overdue_open += 1
            self.lead_open[lead] = self.lead_open.get(lead, 0) + 1
        self.state_counts[state] = self.state_counts.get(state, 0) + 1
        self.counts["alarms_pending"] = self.counts.get("alarms_pending", 0) + pending

        # Rows.
        dt = w.dt
        last_change = max(e[0] for e in events)
        end = (
            f["closed_at"]
            or f["declined_at"]
            or f["merged_at"]
            or f["topic_at"]
            or f["completed_at"]
        )
        self.recent.setdefault(com_i, []).append(
            (
                case_id,
                end if state not in ("reported", "responded", "in_progress", "paused") else None,
                number,
                rep,
            )
        )
        if len(self.recent[com_i]) > 30:
            del self.recent[com_i][0]
        self.rows["case"].append(
            (
                case_id,
                dt(rep),
                dt(last_change),
                number,
                channel,
                com.pk,
                place_pk,
                cat.pk,
                text,
                normalised,
                tokens,
                answers,
                reporter,
                entered,
                contact_name,
                contact_phone,
                w.flag(anonymous),
                state,
                paused_from,
                lead,
                dt(rep),
                dt(f["responded_at"]),
                dt(f["started_at"]),
                dt(f["completed_at"]),
                completed_by if f["completed_at"] else None,
                completion_note if f["completed_at"] else "",
                dt(f["followed_up_at"]),
                dt(f["closed_at"]),
                dt(f["declined_at"]),
                dt(f["merged_at"]),
                dt(f["topic_at"]),
                cat.response_clock,
                w.dur(cat.response_target),
                dt(resp_due),
                w.flag(resp_est),
                cat.completion_clock,
                w.dur(cat.completion_target),
                dt(comp_due),
                w.flag(comp_est),
                dt(next_due),
                dt(overdue_at),
                dt(supervised_at),
                dt(f["paused_at"]),
                pause_reason,
                w.dur(0),
                reopen_count,
                merged_into,
                decline_reason,
                referral,
                "",
                topic_note,
                None,
                "",
                None,
                version,
                "",
                "",
            )
        )
        if state == "completed" and f["completed_at"] is None:
            raise AssertionError("completed without completion")
        h = self.rows["handler"]
        h.append(
            (
                self.next_handler(),
                dt(rep),
                dt(lead_done or lead_started or rep),
                case_id,
                lead,
                "lead",
                lead_role,
                "",
                lead_status,
                "",
                dt(lead_started),
                dt(lead_done),
                True,
            )
        )
        for u, role_name in co:
            done = lead_done is not None and rng.random() < 0.7
            h.append(
                (
                    self.next_handler(),
                    dt(rep),
                    dt(lead_done if done else rep),
                    case_id,
                    u,
                    "co_handler",
                    role_name,
                    f"协助办理：{cat.name}",
                    "done" if done else "pending",
                    "",
                    None,
                    dt(lead_done) if done else None,
                    True,
                )
            )
        fu_ids = []
        for t, by, method, outcome, resolved, satisfaction, note, round_ in follow_ups:
            fu_id = self.next_follow_up()
            fu_ids.append(fu_id)
            self.rows["follow_up"].append(
                (
                    fu_id,
                    case_id,
                    dt(t),
                    by,
                    method,
                    outcome,
                    w.flag(resolved),
                    satisfaction,
                    note,
                    round_,
                )
            )
        ev = self.rows["event"]
        next_event = self.next_event
        yes, no = w.flag(True), w.flag(False)
        events.sort()
        for at, _i, actor, kind, from_state, to_state, note, public, data in events:
            if type(data) is not str:
                if "follow_up" in data:
                    data = f'{{"follow_up": {fu_ids[data["follow_up"]]}}}'
                else:
                    data = json.dumps(data, ensure_ascii=False)
            ev.append(
                (
                    next_event(),
                    case_id,
                    dt(at),
                    actor,
                    kind,
                    from_state,
                    to_state,
                    note,
                    yes if public else no,
                    data,
                )
            )
        al = self.rows["alarm"]
        next_alarm = self.next_alarm
        for clock_name, level, round_, due, fired, cancelled, suspended in alarms:
            al.append(
                (
                    next_alarm(),
                    case_id,
                    clock_name,
                    level,
                    round_,
                    dt(due),
                    None if fired is None else dt(fired),
                    None if cancelled is None else dt(cancelled),
                    None if suspended is None else dt(suspended),
                )
            )

    def _merge_target(self, com: _Community, at: int) -> tuple[int, int, str] | None:
        """An earlier case of the community still open at `at`: (id, its report, number)."""
        for case_id, end, number, rep in reversed(self.recent.get(com.index - 1, [])):
            if rep < at and (end is None or end > at + 10 * MINUTE):
                return case_id, rep, number
        return None

    # -- after the cases --

    def _sequences(self) -> None:
        from gongzhi.cases.models import CaseNumberSequence

        rows = [
            (self.ids.take("sequence"), prefix, last)
            for prefix, last in sorted(self.sequences.items())
        ]
        self._write(CaseNumberSequence, rows)

    def _finish(self) -> None:
        from django.core.management.color import no_style
        from django.db import connection, transaction

        from gongzhi.accounts.models import Residency, RoleAssignment, User
        from gongzhi.cases.models import (
            Case,
            CaseEvent,
            CaseHandler,
            CaseNumberSequence,
            ClockAlarm,
            FollowUp,
        )
        from gongzhi.core.audit import audit_record
        from gongzhi.places.models import CommunitySettings, Grid, Place

        models = [
            Place,
            CommunitySettings,
            Grid,
            Grid.buildings.through,
            User,
            RoleAssignment,
            Residency,
            Case,
            CaseHandler,
            CaseEvent,
            ClockAlarm,
            FollowUp,
            CaseNumberSequence,
        ]
        with transaction.atomic():
            statements = connection.ops.sequence_reset_sql(no_style(), models)
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
            audit_record(
                actor=None,
                verb="bench.dataset",
                obj=Place.objects.get(pk=1),
                after={
                    "communities": self.n_communities,
                    "cases": self.n_cases,
                    "seed": self.seed,
                    "now": self.now_dt.isoformat(),
                    "source": "bench/dataset.py",
                },
            )

    def _summary(self) -> dict[str, Any]:
        own = resource.getrusage(resource.RUSAGE_SELF)
        self.timings["cpu_main_process"] = round(own.ru_utime + own.ru_stime, 1)
        busiest = max(self.lead_open.items(), key=lambda kv: kv[1]) if self.lead_open else (None, 0)
        from gongzhi.accounts.models import User

        busiest_name = User.objects.filter(pk=busiest[0]).values_list("username", flat=True).first()
        open_states = ("reported", "responded", "in_progress", "paused")
        return {
            "engine": self.w.engine,
            "communities": self.n_communities,
            "cases": self.n_cases,
            "seed": self.seed,
            "now": self.now_dt.isoformat(),
            "rows": {k: v for k, v in sorted(self.counts.items())},
            "states": dict(sorted(self.state_counts.items())),
            "open": sum(self.state_counts.get(s, 0) for s in open_states),
            "open_with_pending_alarms": self.open_with_pending,
            "pending_alarms_on_open_cases": self.pending_alarms,
            "open_overdue": self.overdue_open,
            "logins": {**self.logins, "busiest_lead": busiest_name or ""},
            "busiest_lead_open_cases": busiest[1],
            "password": PASSWORD,
            "step_seconds": self.timings,
        }


CHANNEL_LABELS = {
    "resident_page": "居民上报页",
    "api": "接口",
    "open311": "Open311",
    "phone": "来电",
    "walk_in": "来访",
    "reception_day": "联合接待日",
    "patrol": "巡查发现",
    "visit": "走访发现",
    "task": "协助任务",
}

# The tables of the cases, whose secondary indexes are built after the load.
BIG_TABLES = (
    "cases_case",
    "cases_caseevent",
    "cases_clockalarm",
    "cases_casehandler",
    "cases_followup",
    "cases_casenumbersequence",
)

# Column order of each table the generator writes (checked against the models at start).
COLUMNS: dict[str, tuple[str, ...]] = {
    "places_place": (
        "id",
        "created_at",
        "updated_at",
        "kind",
        "name",
        "search_name",
        "parent_id",
        "code",
        "depth",
        "community_id",
        "community_type",
        "address",
        "latitude",
        "longitude",
        "exclusive_area",
        "sort_key",
        "is_active",
    ),
    "places_communitysettings": (
        "id",
        "created_at",
        "updated_at",
        "community_id",
        "service_start",
        "service_end",
        "report_slug",
    ),
    "places_grid": ("id", "created_at", "updated_at", "community_id", "code", "name"),
    "places_grid_buildings": ("id", "grid_id", "place_id"),
    "accounts_user": (
        "id",
        "password",
        "last_login",
        "is_superuser",
        "username",
        "first_name",
        "last_name",
        "email",
        "is_staff",
        "is_active",
        "date_joined",
        "name",
        "phone",
        "phone_verified_at",
        "activated_at",
        "preferred_language",
    ),
    "accounts_roleassignment": (
        "id",
        "created_at",
        "updated_at",
        "user_id",
        "role",
        "place_id",
        "grid_id",
        "organisation",
        "is_active",
        "granted_by_id",
    ),
    "accounts_residency": (
        "id",
        "created_at",
        "updated_at",
        "user_id",
        "place_id",
        "community_id",
        "claimed_relation",
        "relation",
        "status",
        "source",
        "verified_by_id",
        "verified_at",
        "review_note",
    ),
    "cases_case": (
        "id",
        "created_at",
        "updated_at",
        "number",
        "channel",
        "community_id",
        "place_id",
        "category_id",
        "text",
        "text_normalised",
        "text_tokens",
        "answers",
        "reporter_id",
        "entered_by_id",
        "contact_name",
        "contact_phone",
        "is_anonymous",
        "state",
        "paused_from",
        "lead_id",
        "reported_at",
        "responded_at",
        "started_at",
        "completed_at",
        "completed_by_id",
        "completion_note",
        "followed_up_at",
        "closed_at",
        "declined_at",
        "merged_at",
        "topic_at",
        "response_clock",
        "response_target",
        "response_due_at",
        "response_due_estimated",
        "completion_clock",
        "completion_target",
        "completion_due_at",
        "completion_due_estimated",
        "next_due_at",
        "overdue_at",
        "supervised_at",
        "paused_at",
        "pause_reason",
        "paused_total",
        "reopen_count",
        "merged_into_id",
        "decline_reason",
        "referral",
        "topic_ref",
        "topic_note",
        "transfer_to_id",
        "transfer_reason",
        "transfer_requested_at",
        "version",
        "idempotency_scope",
        "idempotency_key",
    ),
    "cases_casehandler": (
        "id",
        "created_at",
        "updated_at",
        "case_id",
        "user_id",
        "kind",
        "party_role",
        "task",
        "status",
        "note",
        "started_at",
        "done_at",
        "is_active",
    ),
    "cases_caseevent": (
        "id",
        "case_id",
        "at",
        "actor_id",
        "kind",
        "from_state",
        "to_state",
        "note",
        "is_public",
        "data",
    ),
    "cases_clockalarm": (
        "id",
        "case_id",
        "clock",
        "level",
        "round",
        "due_at",
        "fired_at",
        "cancelled_at",
        "suspended_at",
    ),
    "cases_followup": (
        "id",
        "case_id",
        "recorded_at",
        "recorded_by_id",
        "method",
        "outcome",
        "resolved",
        "satisfaction",
        "note",
        "round",
    ),
    "cases_casenumbersequence": ("id", "prefix", "last"),
}


def w_iso(us: int) -> str:
    """An instant as the services put it into event data: ISO, in the display zone."""
    return _utc_text(us + 8 * HOUR).replace(" ", "T") + "+08:00"


class _Shanghai(__import__("datetime").tzinfo):
    def utcoffset(self, dt: Any) -> timedelta:
        return timedelta(hours=8)

    def dst(self, dt: Any) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: Any) -> str:
        return "CST"


_SHANGHAI = _Shanghai()


def _td_us(delta: timedelta) -> int:
    return (delta.days * 86400 + delta.seconds) * US + delta.microseconds


def _cumulative(weights: Iterable[float]) -> list[float]:
    total = 0.0
    out = []
    for weight in weights:
        total += weight
        out.append(total)
    return [x / total for x in out]


def _pick(cumulative: list[float], roll: float) -> int:
    return min(bisect.bisect_right(cumulative, roll), len(cumulative) - 1)


class _NoBar:
    def update(self, n: int) -> None: ...

    def close(self) -> None: ...


def _bar(enabled: bool, total: int, label: str) -> Any:
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="", unit_scale=True, file=sys.stderr)


if __name__ == "__main__":
    main()
