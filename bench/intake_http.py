"""Intake over HTTP: POST /api/v1/cases through the production server against a bare-insert
floor in the same server, same database, same load generator, same run.

    .venv/bin/python bench/intake_http.py [--database-url URL] [--rounds 3] [--duration 20]
        [--threads 1] [--connections 8] [--workers N] [--residents 200]

Migrates a throwaway database (a new SQLite file in a temporary data folder, or the
PostgreSQL database `--database-url` names, created empty and dropped afterwards), builds a
staffed community (a grid and its worker, the property manager, a mediator) whose
`--residents` residents each hold an API token for their own dwelling, and starts gunicorn
exactly as `gongzhi serve` does (`gongzhi.config.gunicorn`: gthread workers, JSON request
logs at INFO) with the production settings plus one bench-only URL from
`bench/floor_settings.py`: `POST /bench/floor`, which inserts one bare row.

`wrk` (Debian's package) then drives three targets with the same Lua script, connections
and threads, in turn for `--rounds` rounds after a short warm-up of each: the floor;
intake answered with the case (201); and intake with `Prefer: respond-async`, answered with
a receipt (202) once the report is checked and stored. Every request carries a resident's
bearer token (rotating over all residents), a realistic report about that resident's home
(noise at night, a leak from the flat above, a blocked drain, clutter in the stairwell, a
broken entrance door) and an Idempotency-Key of its own. It prints one JSON line per round
and target (requests/s, p50, p99), the medians with the ratios to the floor, and the
resident memory (VmRSS) of every web worker after the run.

The receipts accepted during the run are then filed as cases by `report_receipts_file`, as
the worker's watcher does, in this process with the server stopped: how many reports per
second one worker turns into cases (`receipts_filed_per_second`), the rate a backlog
accepted at a peak is worked off. Last, one more `--duration` of receipts with
`gongzhi worker` running beside the server, as `gongzhi serve` runs them
(`intake_async_with_worker`): what is accepted while the cases are filed on the same
cores, how many were filed meanwhile, and how many still waited when the load stopped.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _support import (
    BENCH,
    REPO,
    Server,
    emit,
    fresh_database,
    prepare_community,
    production_environment,
    rss_mib,
    vendor_of,
)

INTAKE = "/api/v1/cases"
FLOOR = "/bench/floor"
# name, path, the Prefer header the requests carry ("" for none)
TARGETS = [
    ("floor", FLOOR, ""),
    ("intake", INTAKE, ""),
    ("intake_async", INTAKE, "respond-async"),
]
# What residents write about their homes: category, text, answers to the category's
# questions (the noise category asks when it happens).
REPORTS = [
    (
        "noise",
        "楼上每天夜里十一点以后还在拖椅子、跳绳，影响老人和孩子休息，已经上门沟通过两次，没有改善。",
        {"noise_time": "night"},
    ),
    (
        "leak_from_above",
        "卫生间天花板渗水，怀疑是楼上卫生间防水层坏了，墙面已经发霉，楼上住户白天不在家联系不上。",
        {},
    ),
    ("drain_blocked", "厨房下水道堵塞反水，物业上周疏通过一次，两天后又堵了，请安排彻底检修。", {}),
    (
        "corridor_clutter",
        "我家门口楼道里堆了旧家具和纸箱，挡住了通道，晚上看不清容易绊倒，也有消防隐患。",
        {},
    ),
    ("facility_damaged", "单元门禁坏了，门关不上，外人随便进出，晚上不安全，请尽快修好。", {}),
]
# every worker loads the search-token dictionary and the URL patterns on its first requests
WARM_UP_SECONDS = 8
# `gongzhi worker` imports the URLconf and the task backend before it watches
WORKER_START_SECONDS = 4
RSS_TARGET_MIB = 200
RATIO_TARGET = 0.70


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL database to create, use and drop (default: a new SQLite file)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the three targets")
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk run")
    parser.add_argument(
        "--warm-up", type=int, default=WARM_UP_SECONDS, help="seconds of warm-up per target"
    )
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument(
        "--workers", type=int, default=None, help="web workers (default: gunicorn config's)"
    )
    parser.add_argument("--residents", type=int, default=200, help="reporting accounts")
    parser.add_argument("--keep", action="store_true", help="keep the database and folder")
    args = parser.parse_args(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")

    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="gongzhi-intake-"))
    database_url, drop = fresh_database(args.database_url, workdir)
    vendor = vendor_of(database_url)
    env = production_environment(
        workdir, database_url, settings="floor_settings", log_level="INFO", extra_path=(BENCH,)
    )
    os.environ.update(env)
    sys.path[:0] = [str(REPO / "src"), str(BENCH)]

    import django

    django.setup()
    from django.db import connections

    tokens = prepare_community(args.residents, staffed=True)
    from floor_urls import floor_rows, floor_table_create

    floor_table_create()
    connections.close_all()
    script = workdir / "intake.lua"
    script.write_text(_lua(tokens))
    context = {
        "bench": "intake_http",
        "vendor": vendor,
        "wrk": f"-t{args.threads} -c{args.connections} -d{args.duration}s",
        "residents": args.residents,
    }
    emit(
        **context,
        phase="setup",
        seconds=round(time.monotonic() - started, 1),
        load_average=os.getloadavg(),
    )

    server = Server(env=env, workers=args.workers, log=workdir / "server.log")
    runs: dict[str, list[dict]] = {name: [] for name, _path, _prefer in TARGETS}
    try:
        server.start()
        workers = server.worker_pids()
        for name, target, prefer in TARGETS:
            _wrk(wrk, script, server.port, target, args, args.warm_up, f"warm{name}", prefer)
        for r in range(1, args.rounds + 1):
            for name, target, prefer in TARGETS:
                run = _wrk(
                    wrk, script, server.port, target, args, args.duration, f"r{r}{name}", prefer
                )
                run["load_average"] = os.getloadavg()
                runs[name].append(run)
                emit(**context, phase="round", round=r, target=name, **run)
        memory = {pid: rss_mib(pid) for pid in workers}
        master_rss = rss_mib(server.process.pid)
        from gongzhi.cases.models import Case, ReportReceipt

        cases, floor_inserted = Case.objects.count(), floor_rows()
        receipts = ReportReceipt.objects.count()
        filing = _file_receipts()
        connections.close_all()
        alongside = _with_worker(
            env,
            workdir,
            lambda: _wrk(
                wrk, script, server.port, INTAKE, args, args.duration, "worker", "respond-async"
            ),
        )
    finally:
        server.stop()

    summary = {name: _median(rounds) for name, rounds in runs.items()}
    for name, figures in summary.items():
        for figure, unit in (("requests_per_second", "req/s"), ("p50", "ms"), ("p99", "ms")):
            emit(
                **context,
                figure=f"{name}_{figure}",
                value=figures[figure],
                unit=unit,
                rounds=args.rounds,
            )
    errors = {name: sum(r["errors"] for r in rounds) for name, rounds in runs.items()}
    for name in ("intake", "intake_async"):
        ratio = round(
            summary[name]["requests_per_second"] / summary["floor"]["requests_per_second"], 3
        )
        emit(
            **context,
            figure=f"{name}_vs_floor_throughput",
            value=ratio,
            unit="ratio",
            target=RATIO_TARGET,
            met=ratio >= RATIO_TARGET,
            errors=errors,
            cases=cases,
            receipts=receipts,
            floor_rows=floor_inserted,
        )
    emit(**context, figure="receipts_filed_per_second", unit="cases/s", **filing)
    ratio = round(alongside["requests_per_second"] / summary["floor"]["requests_per_second"], 3)
    emit(
        **context,
        figure="intake_async_with_worker_vs_floor_throughput",
        value=ratio,
        unit="ratio",
        target=RATIO_TARGET,
        met=ratio >= RATIO_TARGET,
        **alongside,
    )
    emit(
        **context,
        figure="web_worker_rss",
        value=max(memory.values()),
        unit="MiB",
        workers=list(memory.values()),
        master=master_rss,
        target=RSS_TARGET_MIB,
        met=max(memory.values()) <= RSS_TARGET_MIB,
    )
    if drop and not args.keep:
        drop()
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _with_worker(env: dict[str, str], workdir: Path, load) -> dict:
    """`load()` (a wrk run of receipts) with `gongzhi worker` filing them meanwhile."""
    from django.db import connections

    from gongzhi.cases.models import Case, ReceiptState, ReportReceipt

    cases_before = Case.objects.count()
    connections.close_all()
    with (workdir / "worker.log").open("ab") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "gongzhi.cli", "worker"],
            env={**os.environ, **env},
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        time.sleep(WORKER_START_SECONDS)
        run = load()
        run["load_average"] = os.getloadavg()
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    run["filed_meanwhile"] = Case.objects.count() - cases_before
    run["still_waiting"] = ReportReceipt.objects.filter(state=ReceiptState.ACCEPTED).count()
    connections.close_all()
    return run


def _file_receipts() -> dict:
    """File every receipt the run accepted, as the worker's watcher would, timed."""
    from gongzhi.cases.models import Case, ReceiptState, ReportReceipt
    from gongzhi.cases.services import report_receipts_file

    waiting = ReportReceipt.objects.filter(state=ReceiptState.ACCEPTED).count()
    cases_before = Case.objects.count()
    began, cpu_began = time.perf_counter(), time.process_time()
    while sum(report_receipts_file(limit=100).values()):
        pass
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    left = ReportReceipt.objects.filter(state=ReceiptState.ACCEPTED).count()
    return {
        # requests still in the server when wrk stopped may have added a few receipts
        "value": round((Case.objects.count() - cases_before) / seconds, 1) if seconds else 0.0,
        "receipts": waiting,
        "cases_made": Case.objects.count() - cases_before,
        "left_waiting": left,
        "seconds": round(seconds, 1),
        "cpu_ms_per_case": round(cpu * 1000 / waiting, 2) if waiting else None,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _wrk(
    wrk: str, script: Path, port: int, target: str, args, duration: int, tag: str, prefer: str
) -> dict:
    """One wrk run; its Lua `done` prints the figures as one JSON line."""
    done = subprocess.run(
        [
            wrk,
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{duration}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}{target}",
            "--",
            tag,
            prefer,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("{"))
    return json.loads(line)


def _median(rounds: list[dict]) -> dict:
    return {
        key: round(statistics.median(r[key] for r in rounds), 1)
        for key in ("requests_per_second", "p50", "p99")
    }


def _lua(tokens: list[tuple[str, str]]) -> str:
    """The wrk script: each request a resident's token, a report about their dwelling and
    an Idempotency-Key no other request has (run tag, wrk thread, counter)."""
    bodies = [
        json.dumps(
            {"category": category, "place": place, "text": text, "answers": answers},
            ensure_ascii=False,
        )
        for i, (_token, place) in enumerate(tokens)
        for category, text, answers in [REPORTS[i % len(REPORTS)]]
    ]
    quoted = ",\n".join
    return f"""
local tokens = {{{quoted(json.dumps(token) for token, _place in tokens)}}}
local bodies = {{{quoted("[==[" + body + "]==]" for body in bodies)}}}
local threads = {{}}
local counter = 0
local tag = "run"
local prefer = ""

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  tag = args[1] or tag
  prefer = args[2] or ""
end

function request()
  counter = counter + 1
  local i = (counter * 7 + id * 13) % #tokens + 1
  local headers = {{
    ["Authorization"] = "Bearer " .. tokens[i],
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = tag .. "-" .. id .. "-" .. counter,
  }}
  if prefer ~= "" then
    headers["Prefer"] = prefer
  end
  return wrk.format("POST", nil, headers, bodies[i])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{{"requests": %d, "seconds": %.3f, "requests_per_second": %.1f, ' ..
    '"p50": %.1f, "p90": %.1f, "p99": %.1f, "max": %.1f, "errors": %d, ' ..
    '"status_errors": %d, "timeouts": %d}}\\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.status + e.timeout, e.status, e.timeout))
end
"""


if __name__ == "__main__":
    sys.exit(main())
