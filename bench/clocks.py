"""The clock check at city scale: a million open cases with their pending alarms.

    .venv/bin/python bench/clocks.py [--cases 1000000] [--due 10000] [--database-url URL]
                                     [--peer] [--peer-tickets N] [--peer-results FILE]

Builds its own data (a fresh SQLite file unless --database-url names an empty PostgreSQL
database): the demo's place tree and staff (small scale), a few template cases per
community reported through `case_report` (half of them responded to and started, so
their response alarms are cancelled), then `--cases` open cases cloned from them in SQL,
each with its six alarms (response and completion × 80 / 100 / 200 %) and its handlers.
Clones are spread from two days in the past to a month ahead: alarms that fell due in the
past are stored as already fired, so the table holds millions of rows and nothing is due.

Figures (JSON lines):
  check_nothing_due   one `check_clocks` run with nothing due (median and p95 of --checks);
  scan_pending        the same question without the partial index (counting every pending
                      alarm): the baseline the index is measured against;
  work_off_due        `--due` alarms made due (a mix of warning 80 %, overdue 100 %,
                      supervision 200 %), worked off by `check_clocks` runs until none is
                      left (a run fires 1,000 at a time and keeps going while it finds full
                      runs, up to 8 s): seconds, alarms/s, SQL queries and notifications per
                      alarm, and the CPU seconds of this process and, on a local PostgreSQL,
                      of its server process (what a noisy machine does not inflate);
  helpdesk_escalate   with --peer: django-helpdesk's `escalate_tickets` measured by
                      /work/shared/peers/helpdesk_bench.sh on --peer-tickets tickets with
                      --due due (or read from an earlier run's results.jsonl with
                      --peer-results), and the ratio.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from _support import fresh_database

PEER_SCRIPT = Path("/work/shared/peers/helpdesk_bench.sh")
TEMPLATES_PER_COMMUNITY = 6
ALARM_MIX = {"warning": 0.6, "overdue": 0.3, "supervision": 0.1}


def emit(figure: str, value, unit: str, **context) -> None:
    print(
        json.dumps(
            {"bench": "clocks", "figure": figure, "value": value, "unit": unit, **context},
            ensure_ascii=False,
        ),
        flush=True,
    )


def progress(msg: str) -> None:
    sys.stderr.write(f"{time.strftime('%H:%M:%S', time.gmtime())} {msg}\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="open cases to build")
    parser.add_argument("--due", type=int, default=10_000, help="alarms made due")
    parser.add_argument("--checks", type=int, default=20, help="timed nothing-due checks")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--demo-scale", type=float, default=0.02)
    parser.add_argument("--peer", action="store_true", help="run django-helpdesk too")
    parser.add_argument("--peer-tickets", type=int, default=0, help="default: --cases")
    parser.add_argument("--peer-results", default="", help="results.jsonl of a peer run")
    parser.add_argument("--keep", action="store_true", help="keep a PostgreSQL database")
    parser.add_argument(
        "--existing",
        action="store_true",
        help="--database-url already holds this script's data (a kept or interrupted build)",
    )
    parser.add_argument("--resume", action="store_true", help="with --existing: clone the rest")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="gongzhi-bench-clocks-"))
    if args.existing:
        database_url, drop = args.database_url, None
    else:
        database_url, drop = fresh_database(args.database_url, workdir)
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "gongzhi.config.settings.test"
    os.environ.setdefault("GONGZHI_DATA_DIR", str(workdir))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

    import django

    django.setup()
    from django.db import connection

    engine = connection.vendor
    context = {"database": engine, "load": os.getloadavg()[0]}
    started = time.perf_counter()
    if args.existing:
        if args.resume:
            resume(args.cases)
        stats = finish_build()
        emit("reuse", round(time.perf_counter() - started, 1), "s", **stats, **context)
    else:
        stats = build(cases=args.cases, demo_scale=args.demo_scale)
        emit("build", round(time.perf_counter() - started, 1), "s", **stats, **context)

    try:
        measure(args, stats, context, workdir)
    finally:
        if drop and not args.keep:
            from django.db import connections

            connections.close_all()
            drop()


def measure(args, stats: dict, context: dict, workdir: Path) -> None:
    from importlib import import_module

    from django.conf import settings

    engine = context["database"]
    # As `gongzhi worker` does at start: the first reverse() would import the URLconf.
    import_module(settings.ROOT_URLCONF)
    check_nothing_due(args.checks, context)
    explain_pending(context)
    work_off_due(args.due, context)

    if args.peer or args.peer_results:
        peer = peer_figures(args, workdir)
        ours = _last_work_off
        emit(
            "helpdesk_escalate",
            peer["seconds"],
            "s",
            tickets=peer["tickets"],
            escalated=peer["escalated"],
            queries=peer["queries"],
            noop_seconds=peer.get("noop_seconds"),
            source=peer["source"],
            load=os.getloadavg()[0],
        )
        emit(
            "ratio_helpdesk_over_gongzhi",
            round(peer["seconds"] / ours["seconds"], 1),
            "x",
            helpdesk_tickets=peer["tickets"],
            helpdesk_due=peer["escalated"],
            gongzhi_open_cases=stats["open_cases"],
            gongzhi_due=ours["fired"],
            gongzhi_database=engine,
        )


# --- the data ---------------------------------------------------------------------------


def build(*, cases: int, demo_scale: float) -> dict:
    """Migrate, build the demo tree and staff, report template cases, clone them."""
    from django.core.management import call_command

    from gongzhi.accounts.models import Role, RoleAssignment
    from gongzhi.cases.models import Category, Channel
    from gongzhi.cases.services import case_report, case_respond, case_start
    from gongzhi.demo import people, places
    from gongzhi.demo.context import DemoContext
    from gongzhi.places.models import Place, PlaceKind

    progress("migrate")
    call_command("migrate", verbosity=0)
    progress("demo places and people")
    ctx = DemoContext(stdout=sys.stderr, scale=demo_scale)
    for builder in (places, people):
        builder.check(ctx)
    for builder in (places, people):
        builder.build(ctx)

    progress("template cases")
    categories = list(Category.objects.filter(is_active=True).order_by("code"))
    rng = random.Random(7)
    templates: list[int] = []
    for community in Place.objects.filter(kind=PlaceKind.COMMUNITY).order_by("code"):
        secretary = (
            RoleAssignment.objects.active()
            .filter(role=Role.SECRETARY, place=community)
            .select_related("user")
            .first()
        )
        if secretary is None:
            continue
        spots = list(
            Place.objects.filter(code__startswith=community.code, kind=PlaceKind.BUILDING)[:20]
        ) or [community]
        for i in range(TEMPLATES_PER_COMMUNITY):
            case = case_report(
                actor=secretary.user,
                place=rng.choice(spots),
                category=categories[i % len(categories)],
                text=f"基准诉求 {i}：楼道灯不亮，垃圾未清运，请尽快处理。",
                channel=Channel.PHONE,
                contact_name="王先生",
                contact_phone="13900000000",
            )
            if i % 2 and case.lead is not None:
                case = case_respond(actor=case.lead, case=case)
                case = case_start(actor=case.lead, case=case)
            templates.append(case.pk)
    if not templates:
        raise SystemExit("no template cases: the demo built no community with a secretary")

    clone(templates, cases=cases)
    return finish_build(templates=len(templates))


def resume(cases: int) -> None:
    """Clone the rest of an interrupted build: the templates are the cases whose number has
    no clone suffix, and whole rounds of clones were committed before the interruption."""
    from gongzhi.cases.models import Case

    templates = list(
        Case.objects.exclude(number__regex=r"^[^-]+-[^-]+-[^-]+-")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    last = Case.objects.order_by("-pk").values_list("pk", flat=True).first()
    done = (last - templates[-1]) // len(templates)
    clone(templates, cases=cases, start=done)


def clone(templates: list[int], *, cases: int, start: int = 0) -> None:
    """Copy the template cases, their handlers and alarms until there are `cases` clones."""
    from django.db import connection
    from django.utils import timezone

    from gongzhi.cases.models import Case, CaseHandler, ClockAlarm

    copies = -(-cases // len(templates))
    base = templates[-1] + 1
    now = timezone.now()
    t = len(templates)
    with connection.cursor() as cur:
        cur.execute("CREATE TEMPORARY TABLE bench_tpl (ti integer PRIMARY KEY, tid integer)")
        cur.executemany("INSERT INTO bench_tpl VALUES (%s, %s)", list(enumerate(templates)))
        cur.execute("CREATE TEMPORARY TABLE bench_series (n integer PRIMARY KEY)")
        cur.executemany("INSERT INTO bench_series VALUES (%s)", [(n,) for n in range(copies)])

    case_cols = [f.column for f in Case._meta.concrete_fields if f.column != "id"]
    handler_cols = [
        f.column for f in CaseHandler._meta.concrete_fields if f.column not in ("id", "case_id")
    ]
    alarm_cols = [
        f.column
        for f in ClockAlarm._meta.concrete_fields
        if f.column not in ("id", "case_id", "due_at", "fired_at")
    ]
    vendor = connection.vendor
    new_id = f"({base} + s.n * {t} + m.ti)"
    # Each clone moves by a fixed number of seconds from two days back to a month ahead.
    shift = f"((CAST({new_id} AS BIGINT) * 7919) %% 2764800 - 172800)"

    def shifted(column: str) -> str:
        if vendor == "postgresql":
            return f"({column} + {shift} * interval '1 second')"
        return f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', {column}, {shift} || ' seconds')"

    now_sql = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    now_literal = f"'{now.isoformat()}'::timestamptz" if vendor == "postgresql" else f"'{now_sql}'"
    moved = {
        "reported_at",
        "response_due_at",
        "completion_due_at",
        "next_due_at",
        "created_at",
        "updated_at",
    }
    case_select = []
    for col in case_cols:
        if col == "number":
            case_select.append("c.number || '-' || s.n")
        elif col in moved:
            case_select.append(shifted(f"c.{col}"))
        else:
            case_select.append(f"c.{col}")
    chunk = max(1, 100_000 // t)
    progress(f"cloning {t} templates × {copies} = {t * copies} clones, from round {start}")
    for lo in range(start, copies, chunk):
        hi = min(copies, lo + chunk)
        where = f"s.n >= {lo} AND s.n < {hi}"
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO cases_case (id, {', '.join(case_cols)}) "
                f"SELECT {new_id}, {', '.join(case_select)} "
                f"FROM bench_tpl m JOIN cases_case c ON c.id = m.tid, bench_series s WHERE {where}",
                [],
            )
            cur.execute(
                f"INSERT INTO cases_casehandler (case_id, {', '.join(handler_cols)}) "
                f"SELECT {new_id}, {', '.join('h.' + c for c in handler_cols)} "
                f"FROM bench_tpl m JOIN cases_casehandler h ON h.case_id = m.tid, bench_series s "
                f"WHERE {where}",
                [],
            )
            due = shifted("a.due_at")
            cur.execute(
                "INSERT INTO cases_clockalarm (case_id, due_at, fired_at, "
                f"{', '.join(alarm_cols)}) "
                f"SELECT {new_id}, {due}, CASE WHEN a.cancelled_at IS NULL AND a.suspended_at "
                f"IS NULL AND {due} <= {now_literal} THEN {due} END, "
                f"{', '.join('a.' + c for c in alarm_cols)} "
                f"FROM bench_tpl m JOIN cases_clockalarm a ON a.case_id = m.tid, bench_series s "
                f"WHERE {where}",
                [],
            )
        progress(f"  {hi * t} clones")


def finish_build(templates: int | None = None) -> dict:
    """Move the id sequences past the cloned rows, refresh the planner's statistics, count."""
    from django.db import connection

    from gongzhi.cases.models import Case, ClockAlarm

    progress("analyze")
    vendor = connection.vendor
    with connection.cursor() as cur:
        if vendor == "postgresql":
            for table in ("cases_case", "cases_casehandler", "cases_clockalarm"):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            cur.execute("ANALYZE")
        else:
            cur.execute("ANALYZE")
    return {
        "open_cases": Case.objects.filter(closed_at__isnull=True).count(),
        "cases": Case.objects.count(),
        "alarms": ClockAlarm.objects.count(),
        "pending_alarms": _pending().count(),
        "templates": templates,
    }


def _pending():
    from gongzhi.cases.models import ClockAlarm

    return ClockAlarm.objects.filter(
        fired_at__isnull=True, cancelled_at__isnull=True, suspended_at__isnull=True
    )


# --- the measurements -------------------------------------------------------------------


class QueryCounter:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


def check_nothing_due(repeat: int, context: dict) -> None:
    from django.db import connection

    from gongzhi.cases.tasks import check_clocks

    # Clones spread over a month: while a large build runs, some of their alarms fall due
    # (about a hundred a minute at 1 M cases). Work those off first.
    drained = 0
    while fired := sum(check_clocks.call().values()):
        drained += fired
    times = []
    fired_meanwhile = 0
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        for _ in range(repeat):
            started = time.perf_counter()
            fired = check_clocks.call()
            times.append(1000 * (time.perf_counter() - started))
            fired_meanwhile += sum(fired.values())
    baseline = []
    for _ in range(max(3, repeat // 4)):
        started = time.perf_counter()
        _pending().count()
        baseline.append(1000 * (time.perf_counter() - started))
    median, base = statistics.median(times), statistics.median(baseline)
    emit(
        "check_nothing_due",
        round(median, 2),
        "ms",
        p95=round(_p95(times), 2),
        queries=counter.n // repeat,
        target_ms=20,
        met=median <= 20,
        drained_before=drained,
        fired_meanwhile=fired_meanwhile,
        **context,
    )
    emit("scan_pending", round(base, 1), "ms", ratio_to_check=round(base / median, 1), **context)


def explain_pending(context: dict) -> None:
    from django.db import connection
    from django.utils import timezone

    from gongzhi.cases.models import ClockAlarm

    qs = (
        ClockAlarm.objects.filter(
            fired_at__isnull=True,
            cancelled_at__isnull=True,
            suspended_at__isnull=True,
            due_at__lte=timezone.now(),
        )
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:1000]
    )
    plan = qs.explain() if connection.vendor != "postgresql" else qs.explain(analyze=True)
    emit(
        "plan_due_alarms",
        "clock_alarm_pending" in plan,
        "uses_partial_index",
        plan=plan.splitlines(),
        **context,
    )


_last_work_off: dict = {}


def work_off_due(due: int, context: dict) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from gongzhi.cases.models import ClockAlarm
    from gongzhi.cases.tasks import check_clocks
    from gongzhi.core.models import Notification

    now = timezone.now()
    chosen: list[int] = []
    for level, share in ALARM_MIX.items():
        want = round(due * share) if level != "supervision" else due - len(chosen)
        # A spread of cases, one alarm each: every 7th case's alarm of this level.
        ids = list(
            _pending()
            .filter(level=level, clock="completion")
            .order_by("case_id")
            .values_list("pk", flat=True)[: want * 7 : 7]
        )
        chosen += ids
    rng = random.Random(11)
    with transaction.atomic():
        for pk in chosen:
            ClockAlarm.objects.filter(pk=pk).update(
                due_at=now - timedelta(seconds=rng.randrange(1, 3600))
            )
    notifications = Notification.objects.count()
    counter = QueryCounter()
    runs = 0
    fired = {"warning": 0, "overdue": 0, "supervision": 0}
    server_cpu = _server_cpu_seconds()
    with connection.execute_wrapper(counter):
        started, cpu = time.perf_counter(), time.process_time()
        while True:
            result = check_clocks.call()
            runs += 1
            if not sum(result.values()):
                break
            for level, n in result.items():
                fired[level] += n
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if server_cpu is not None:
        server_cpu = _server_cpu_seconds() - server_cpu
    total = sum(fired.values())
    made = Notification.objects.count() - notifications
    _last_work_off.update({"seconds": seconds, "fired": total})
    emit(
        "work_off_due",
        round(seconds, 2),
        "s",
        fired=fired,
        check_runs=runs,
        alarms_per_s=round(total / seconds, 1),
        ms_per_alarm=round(1000 * seconds / total, 2),
        queries_per_alarm=round(counter.n / total, 1),
        notifications=made,
        cpu_s=round(cpu, 2),
        server_cpu_s=None if server_cpu is None else round(server_cpu, 2),
        target_s=10,
        met=seconds <= 10,
        **context,
    )


def _server_cpu_seconds() -> float | None:
    """CPU seconds of this connection's PostgreSQL server process, if it runs here."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))]


# --- the peer ---------------------------------------------------------------------------


def peer_figures(args, workdir: Path) -> dict:
    """django-helpdesk's escalate_tickets: run helpdesk_bench.sh, or read its results."""
    if args.peer_results:
        results = Path(args.peer_results)
        source = str(results)
    else:
        peer_dir = workdir / "helpdesk"
        env = dict(
            os.environ,
            N=str(args.peer_tickets or args.cases),
            ESC_DUE=str(args.due),
            CREATE_N="10",
            REPEAT="1",
            API_REPEAT="0",
        )
        for key in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "GONGZHI_DATA_DIR"):
            env.pop(key, None)
        progress(f"django-helpdesk in {peer_dir} (N={env['N']}, ESC_DUE={env['ESC_DUE']})")
        subprocess.run(
            ["bash", str(PEER_SCRIPT), str(peer_dir)], env=env, check=True, stdout=sys.stderr
        )
        results = peer_dir / "results.jsonl"
        source = f"helpdesk_bench.sh N={env['N']} ESC_DUE={env['ESC_DUE']}"
    rows = [json.loads(line) for line in results.read_text().splitlines() if line.startswith("{")]
    escalations = [row for row in rows if "escalated" in row]
    backlog = next(row for row in escalations if row["due_before"])
    noop = next((row for row in escalations if not row["due_before"]), {})
    return {
        "seconds": backlog["seconds"],
        "tickets": backlog["tickets"],
        "escalated": backlog["escalated"],
        "queries": backlog["queries"],
        "noop_seconds": noop.get("seconds"),
        "source": source,
    }


if __name__ == "__main__":
    main()
