"""How fast the pages a worker and a supervisor open are with a lot of history, and how many
SQL queries each makes: the worker inbox, a community secretary's list, a subdistrict
supervisor's list (HTML and the `/api/v1/cases` call with the same filters), the community
board and the subdistrict table of `insights`.

    .venv/bin/python bench/reads.py                                   # fresh SQLite files
    .venv/bin/python bench/reads.py --database-url sqlite:////work/benchdata/city-1m.sqlite3
    .venv/bin/python bench/reads.py --database-url postgres://postgres@127.0.0.1:5432/bench_city_1m

Each page is requested in-process through `django.test.Client`, signed in as a real holder
of the role (full request: middleware, view, template or JSON), after warm-up requests; the
pages take turns round by round, so a busy machine slows them alike. Queries are counted
with `CaptureQueriesContext` on the warm-up requests (the timed ones run without it).

The CPU time of the request in this process is reported too (`cpu_p50`): on a busy
machine it moves less than the wall clock. Baseline in the same run: the same pages on a
small data set (built with `bench/dataset.py` on the same database engine, or
`--baseline-url`) and `/healthz`, a view that does one `SELECT 1`. Without
`--database-url` the large data set is built too (`--cases`, a fresh SQLite file). A
database that already holds cases is only read (page visits write session rows, nothing
else). One JSON line per figure; `--explain DIR` writes each page's queries and their plans
(EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, EXPLAIN QUERY PLAN on SQLite) to DIR.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BENCH = "reads"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="the large data set (read only)")
    parser.add_argument("--baseline-url", default="", help="the small data set (read only)")
    parser.add_argument("--cases", type=int, default=20_000, help="built when no URL is given")
    parser.add_argument("--communities", type=int, default=40)
    parser.add_argument("--small-cases", type=int, default=1_000)
    parser.add_argument("--small-communities", type=int, default=4)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--explain", default="", help="write each page's query plans here")
    parser.add_argument("--child", choices=["small", "large"], help=argparse.SUPPRESS)
    parser.add_argument("--build", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--build-communities", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args)
    return _parent(args)


# --- the parent: which data sets, one child process each, the ratios ------------------------


def _parent(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="gongzhi-bench-reads-"))
    throwaway: list[str] = []
    large_url, large_build = args.database_url, 0
    if not large_url:
        large_url, large_build = f"sqlite:///{workdir / 'large.sqlite3'}", args.cases
    small_url, small_build = args.baseline_url, 0
    if not small_url:
        small_build = args.small_cases
        if large_url.startswith("postgres"):
            name = f"bench_reads_small_{os.getpid()}"
            _pg_admin(large_url, f"CREATE DATABASE {name}")
            throwaway.append(name)
            small_url = large_url.rsplit("/", 1)[0] + "/" + name
        else:
            small_url = f"sqlite:///{workdir / 'small.sqlite3'}"
    results: dict[str, list[dict]] = {}
    try:
        for size, url, build, communities in (
            ("small", small_url, small_build, args.small_communities),
            ("large", large_url, large_build, args.communities),
        ):
            results[size] = _run_child(args, size, url, build, communities)
    finally:
        for name in throwaway:
            _pg_admin(large_url, f"DROP DATABASE IF EXISTS {name}")
        shutil.rmtree(workdir, ignore_errors=True)
    _compare(results)
    return 0


def _run_child(
    args: argparse.Namespace, size: str, url: str, build: int, communities: int
) -> list[dict]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        size,
        "--database-url",
        url,
        "--requests",
        str(args.requests),
        "--warmup",
        str(args.warmup),
        "--build",
        str(build),
        "--build-communities",
        str(communities),
    ]
    if args.explain:
        command += ["--explain", args.explain]
    process = subprocess.run(command, stdout=subprocess.PIPE, text=True, cwd=ROOT, check=True)
    lines = []
    for line in process.stdout.splitlines():
        print(line, flush=True)
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def _compare(results: dict[str, list[dict]]) -> None:
    """Per page: p95 at the large size over the small one and over /healthz in the same
    process, and whether the query count stayed the same."""
    figures = {
        size: {(f["page"], f["figure"]): f for f in lines if "page" in f}
        for size, lines in results.items()
    }
    small, large = figures.get("small", {}), figures.get("large", {})
    pages = [page for page, figure in large if figure == "p95"]
    for page in pages:
        if page == "healthz":
            continue
        p95 = large[(page, "p95")]["value"]
        health = large[("healthz", "p95")]["value"]
        line = {
            "bench": BENCH,
            "figure": "ratio",
            "page": page,
            "p95_large_ms": p95,
            "vs_healthz": round(p95 / health, 1) if health else None,
            "target_ms": large[(page, "p95")]["target_ms"],
            "met": p95 <= large[(page, "p95")]["target_ms"],
            "cases_large": large[(page, "p95")]["cases"],
        }
        if (page, "p95") in small:
            base = small[(page, "p95")]["value"]
            line["p95_small_ms"] = base
            line["vs_small"] = round(p95 / base, 2) if base else None
            line["cases_small"] = small[(page, "p95")]["cases"]
            line["queries_small"] = small[(page, "queries")]["value"]
            line["queries_large"] = large[(page, "queries")]["value"]
            line["queries_constant"] = line["queries_small"] == line["queries_large"]
        print(json.dumps(line, ensure_ascii=False), flush=True)


def _pg_admin(url: str, statement: str) -> None:
    import psycopg

    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(statement)


# --- the child: one data set, every page -----------------------------------------------------


def _child(args: argparse.Namespace) -> int:
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "gongzhi.config.settings.test"
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from gongzhi.cases.models import Case

    if args.build:
        call_command("migrate", verbosity=0)
        if not Case.objects.exists():
            _build(args.build, args.build_communities)
    pages = _pages()
    context = {
        "bench": BENCH,
        "size": args.child,
        "vendor": connection.vendor,
        "cases": Case.objects.count(),
    }
    _measure(pages, args, context)
    return 0


def _build(cases: int, communities: int) -> None:
    from bench import dataset

    started = time.perf_counter()
    dataset.generate(cases=cases, communities=communities)
    print(
        json.dumps(
            {"bench": BENCH, "figure": "build", "value": round(time.perf_counter() - started, 1)}
            | {"unit": "s", "cases": cases, "communities": communities}
        ),
        flush=True,
    )


class Page:
    """One page as one user opens it."""

    def __init__(self, name: str, kind: str, path: str, user, target_ms: float, scope: str):
        self.name, self.kind, self.path, self.user = name, kind, path, user
        self.target_ms, self.scope = target_ms, scope
        self.client = None
        self.times: list[float] = []
        self.cpu: list[float] = []
        self.queries = 0


def _pages() -> list[Page]:
    """The pages of issue #7, each opened by a real holder of the role that opens it: the
    first grid worker (else community worker), secretary and subdistrict supervisor."""
    from gongzhi.accounts.models import Role, RoleAssignment
    from gongzhi.cases.states import OPEN_STATES

    def holder(*roles):
        for role in roles:
            found = (
                RoleAssignment.objects.active()
                .filter(role=role, user__is_active=True)
                .select_related("user", "place", "grid__community")
                .order_by("pk")
                .first()
            )
            if found is not None:
                return found
        raise SystemExit(f"no active holder of {roles} in this database")

    open_states = [("state", s) for s in sorted(OPEN_STATES)]
    worker = holder(Role.GRID_WORKER, Role.COMMUNITY_WORKER)
    secretary = holder(Role.SECRETARY)
    supervisor = holder(Role.SUBDISTRICT_SUPERVISOR)
    community, subdistrict = secretary.place, supervisor.place
    worker_scope = worker.grid.code if worker.grid_id else worker.place.code
    api = "/api/v1/cases?"
    lists, boards = 50.0, 100.0
    return [
        Page("healthz", "html", "/healthz", None, lists, ""),
        Page("worker_inbox", "html", "/work/", worker.user, lists, worker_scope),
        Page(
            "worker_inbox",
            "api",
            api + urlencode([*open_states, ("limit", 25)]),
            worker.user,
            lists,
            worker_scope,
        ),
        Page(
            "community_list",
            "html",
            "/work/?" + urlencode({"area": f"p:{community.code}"}),
            secretary.user,
            lists,
            community.code,
        ),
        Page(
            "community_list",
            "api",
            api + urlencode([*open_states, ("place", community.code), ("limit", 25)]),
            secretary.user,
            lists,
            community.code,
        ),
        Page("subdistrict_list", "html", "/work/", supervisor.user, lists, subdistrict.code),
        Page(
            "subdistrict_list",
            "api",
            api + urlencode([*open_states, ("place", subdistrict.code), ("limit", 25)]),
            supervisor.user,
            lists,
            subdistrict.code,
        ),
        # Every state, as the API answers without a state filter: the total counts the
        # subdistrict's whole history.
        Page(
            "subdistrict_all",
            "api",
            api + urlencode([("place", subdistrict.code), ("limit", 25)]),
            supervisor.user,
            lists,
            subdistrict.code,
        ),
        Page(
            "community_board",
            "html",
            f"/board/{community.code}/",
            secretary.user,
            boards,
            community.code,
        ),
        Page(
            "area_table",
            "html",
            f"/board/area/{subdistrict.code}/",
            supervisor.user,
            boards,
            subdistrict.code,
        ),
    ]


def _measure(pages: list[Page], args: argparse.Namespace, context: dict) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    for page in pages:
        page.client = Client()
        if page.user is not None:
            page.client.force_login(page.user)
    for _round in range(args.warmup):
        for page in pages:
            with CaptureQueriesContext(connection) as captured:
                response = page.client.get(page.path)
            if response.status_code != 200:
                raise SystemExit(f"{page.path}: HTTP {response.status_code}")
            page.queries = len(captured.captured_queries)
            page.sql = [q["sql"] for q in captured.captured_queries]
    for _round in range(args.requests):
        for page in pages:
            started, cpu = time.perf_counter(), time.process_time()
            page.client.get(page.path)
            page.times.append((time.perf_counter() - started) * 1000)
            page.cpu.append((time.process_time() - cpu) * 1000)
    load = os.getloadavg()[0]
    for page in pages:
        times = sorted(page.times)
        common = context | {
            "page": page.name if page.kind == "html" else f"{page.name}_api",
            "path": page.path,
            "user": page.user.username if page.user else "",
            "scope": page.scope,
            "target_ms": page.target_ms,
            "requests": len(times),
            "load1": round(load, 2),
        }
        for figure, value, unit in (
            ("p50", statistics.median(times), "ms"),
            ("p95", times[max(0, round(0.95 * len(times)) - 1)], "ms"),
            # This process's CPU time: less at the mercy of other jobs on a shared machine
            # than the wall clock (PostgreSQL's own work is in its server process).
            ("cpu_p50", statistics.median(page.cpu), "ms"),
            ("queries", page.queries, "queries"),
        ):
            print(
                json.dumps(
                    common | {"figure": figure, "value": round(value, 2), "unit": unit},
                    ensure_ascii=False,
                ),
                flush=True,
            )
    if args.explain:
        _explain(pages, Path(args.explain), context)


def _explain(pages: list[Page], directory: Path, context: dict) -> None:
    """Each page's queries with their plans, one text file per page and data set."""
    from django.db import connection

    directory.mkdir(parents=True, exist_ok=True)
    for page in pages:
        name = page.name if page.kind == "html" else f"{page.name}_api"
        out = [f"# {page.path} as {page.user.username if page.user else '-'}\n"]
        for sql in page.sql:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            if connection.vendor == "postgresql":
                prefix = "EXPLAIN (ANALYZE, BUFFERS) "
            else:
                prefix = "EXPLAIN QUERY PLAN "
            with connection.cursor() as cursor:
                try:
                    cursor.execute(prefix + sql)
                    plan = "\n".join(" | ".join(str(c) for c in row) for row in cursor.fetchall())
                except Exception as exc:  # a plan is a diagnostic: report and go on
                    plan = f"(no plan: {exc})"
            out.append(f"\n## {sql}\n\n{plan}\n")
        path = directory / f"{context['vendor']}-{context['size']}-{name}.txt"
        path.write_text("".join(out))


if __name__ == "__main__":
    sys.exit(main())
