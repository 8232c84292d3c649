"""No lost or doubled reports: N reports through the real server while it is killed.

    .venv/bin/python bench/crash_intake.py [--n 10000] [--kills 5] [--clients 8]
        [--workers 2] [--postgres postgres://postgres@127.0.0.1:5432] [--keep]

Migrates a throwaway database (a new SQLite file in a temporary data folder, or with
--postgres a new database on that server, dropped afterwards unless --keep), creates a
community with residents and an API token each, and starts gunicorn with the production
settings on 127.0.0.1. `--clients` threads then send N reports through
`POST /api/v1/cases`, each with its own `Idempotency-Key`, retrying on any failure (refused
connection, reset, timeout, 5xx) until the server answers 201 or 200. Meanwhile the server's
whole process group (master and workers) is killed with SIGKILL `--kills` times, evenly
spread over the run — requests die mid-transaction — and started again. `--backups`
times, between the kills, `gongzhi backup` copies the database while the clients write.

Afterwards it checks, in the database: exactly N cases, no (reporter, key) twice, every
case the one its client was answered with, every case's timeline intact (exactly one
`reported` event, first on the timeline), distinct case numbers, and an intact audit
chain; and each online backup restores (`gongzhi restore`) into a fresh database that
matches its own manifest, audit chain included. It prints one JSON line per phase, kill
and backup, and a final line with the verdict; the exit code is 0 only if every check
holds.
"""

import argparse
import http.client
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _support import (
    REPO,
    Server,
    emit,
    prepare_community,
    production_environment,
    throwaway_database,
)

TEXT = "压力测试 第 {i} 号 路灯不亮"
REQUEST_TIMEOUT = 15


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="reports to send")
    parser.add_argument("--kills", type=int, default=5, help="SIGKILLs during the run")
    parser.add_argument("--clients", type=int, default=8, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--residents", type=int, default=20, help="reporting accounts")
    parser.add_argument(
        "--backups", type=int, default=2, help="online backups taken during the run"
    )
    parser.add_argument("--postgres", default="", help="PostgreSQL server URL (no database)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)

    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="gongzhi-crash-"))
    database_url, drop = throwaway_database(args.postgres, workdir)
    env = production_environment(workdir, database_url)
    os.environ.update(env)
    sys.path.insert(0, str(REPO / "src"))

    import django

    django.setup()
    from django.db import connections

    tokens = prepare_community(args.residents)
    connections.close_all()
    vendor = "postgresql" if args.postgres else "sqlite"
    emit(phase="setup", vendor=vendor, seconds=round(time.monotonic() - started, 1))

    server = Server(env=env, workers=args.workers, log=workdir / "server.log")
    try:
        server.start()
        run = _send(args, server, tokens, workdir)
    finally:
        server.stop()
    verdict = _check(run, args.n)
    restored = [_restore(backup, env, workdir, args.postgres) for backup in run["backups"]]
    verdict["backups_verified"] = f"{sum(restored)}/{args.backups}"
    verdict["ok"] = verdict["ok"] and sum(restored) == args.backups
    verdict.update(
        phase="result",
        vendor=vendor,
        n=args.n,
        kills=len(run["kills"]),
        seconds=round(run["seconds"], 1),
        reports_per_second=round(args.n / run["seconds"], 1),
        attempts=run["attempts"],
        failed_attempts=run["failed"],
        answered_200=run["answered_200"],
    )
    emit(**verdict)
    connections.close_all()
    if drop and not args.keep:
        drop()
    return 0 if verdict["ok"] else 1


# --- sending ------------------------------------------------------------------------------


def _send(args, server: Server, tokens: list[tuple[str, str]], workdir: Path) -> dict:
    """Every report until answered, through `args.clients` threads, while a killer thread
    SIGKILLs the server at evenly spread points of progress and another takes backups."""
    todo: queue.Queue[int] = queue.Queue()
    for i in range(args.n):
        todo.put(i)
    answers: dict[int, str] = {}
    lock = threading.Lock()
    counters = {"attempts": 0, "failed": 0, "answered_200": 0}
    done = threading.Event()
    kills: list[dict] = []
    errors: list[str] = []

    def client() -> None:
        connection = None
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            token, place = tokens[i % len(tokens)]
            body = json.dumps(
                {"category": "street_light", "place": place, "text": TEXT.format(i=i)}
            )
            headers = {
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": f"crash-{i}",
            }
            backoff = 0.05
            while True:
                with lock:
                    counters["attempts"] += 1
                try:
                    if connection is None:
                        connection = http.client.HTTPConnection(
                            "127.0.0.1", server.port, timeout=REQUEST_TIMEOUT
                        )
                    connection.request("POST", "/api/v1/cases", body=body, headers=headers)
                    response = connection.getresponse()
                    payload = response.read()
                    if response.status in (200, 201):
                        number = json.loads(payload)["number"]
                        with lock:
                            answers[i] = number
                            counters["answered_200"] += response.status == 200
                        break
                    if response.status < 500:
                        # a refusal is final: retrying would not change it
                        with lock:
                            errors.append(f"report {i}: {response.status} {payload[:300]!r}")
                        break
                except (OSError, http.client.HTTPException):
                    # refused while the server is down, reset when it was killed, or a
                    # timeout: a new connection, and the same request again
                    if connection is not None:
                        connection.close()
                    connection = None
                with lock:
                    counters["failed"] += 1
                time.sleep(backoff)
                backoff = min(backoff * 2, 1.0)

    def killer() -> None:
        marks = [args.n * (k + 1) // (args.kills + 1) for k in range(args.kills)]
        for k, mark in enumerate(marks, start=1):
            while len(answers) < mark:
                if done.wait(0.01):
                    return
            at = len(answers)
            server.kill()
            time.sleep(0.3)
            restart = server.start()
            kills.append({"kill": k, "answered_before": at, "restart_seconds": round(restart, 2)})
            emit(phase="kill", **kills[-1])

    backups: list[dict] = []

    def backupper() -> None:
        # spread like the kills, a quarter of a kill interval after them, so each backup
        # runs while the clients write to a live server
        offset = args.n // (4 * (args.kills + 1))
        for b in range(1, args.backups + 1):
            while len(answers) < args.n * b // (args.backups + 1) + offset:
                if done.wait(0.01):
                    return
            out = workdir / f"backup-{b}.tar.gz"
            answered_at_start = len(answers)
            began = time.monotonic()
            taken = subprocess.run(
                [sys.executable, "-m", "gongzhi.cli", "backup", "--out", str(out)],
                env=server.env,
                capture_output=True,
                text=True,
                check=False,
            )
            line = {
                "backup": b,
                "answered_at_start": answered_at_start,
                "answered_at_end": len(answers),
                "seconds": round(time.monotonic() - began, 2),
                "ok": taken.returncode == 0,
            }
            if taken.returncode == 0:
                line["cases"] = backup_manifest(archive=out)["tables"]["cases_case"]
                backups.append({"archive": out, **line})
            else:
                line["error"] = taken.stderr.strip()[-500:]
            emit(phase="backup", **line)

    from gongzhi.core.backups import backup_manifest

    began = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    helpers = [threading.Thread(target=killer), threading.Thread(target=backupper)]
    for thread in helpers + threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    for thread in helpers:
        thread.join()
    return {
        "answers": answers,
        "kills": kills,
        "backups": backups,
        "errors": errors,
        "seconds": time.monotonic() - began,
        **counters,
    }


# --- checking -----------------------------------------------------------------------------


def _restore(backup: dict, env: dict[str, str], workdir: Path, postgres: str) -> bool:
    """Restore one online backup into a fresh database and let `gongzhi restore` check it
    against its manifest (every table's rows, the files, the audit chain)."""
    number = backup["backup"]
    url, drop = throwaway_database(postgres, workdir / f"restored-{number}")
    (workdir / f"restored-{number}").mkdir(exist_ok=True)
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "gongzhi.cli",
                "restore",
                str(backup["archive"]),
                "--database-url",
                url,
                "--media-root",
                str(workdir / f"restored-{number}" / "media"),
            ],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        if drop:
            drop()
    ok = done.returncode == 0 and "verified" in done.stdout
    emit(
        phase="restore",
        backup=number,
        cases=backup["cases"],
        ok=ok,
        output=(done.stdout + done.stderr).strip()[-400:] if not ok else "verified",
    )
    return ok


def _check(run: dict, n: int) -> dict:
    from django.db.models import Count, Min

    from gongzhi.cases.models import Case, CaseEvent, EventKind
    from gongzhi.core.audit import audit_chain_verify

    cases = Case.objects.filter(text__startswith="压力测试")
    by_text = dict(cases.values_list("text", "number"))
    doubled_keys = (
        cases.values("reporter", "idempotency_key").annotate(n=Count("id")).filter(n__gt=1).count()
    )
    missing = [i for i in range(n) if TEXT.format(i=i) not in by_text]
    answered_wrong = [
        i for i, number in run["answers"].items() if by_text.get(TEXT.format(i=i)) != number
    ]
    reported = (
        CaseEvent.objects.filter(case__in=cases, kind=EventKind.REPORTED)
        .values("case")
        .annotate(n=Count("id"))
    )
    once = sum(1 for row in reported if row["n"] == 1)
    # the `reported` event opens every timeline: nothing recorded before it
    first = (
        CaseEvent.objects.filter(case__in=cases)
        .values("case")
        .annotate(first=Min("id"))
        .values_list("first", flat=True)
    )
    opened_by_report = CaseEvent.objects.filter(pk__in=list(first), kind=EventKind.REPORTED).count()
    chain = audit_chain_verify()
    total = cases.count()
    checks = {
        "cases": total,
        "missing": len(missing),
        "duplicates": total - len(by_text) + doubled_keys,
        "answered_wrong_case": len(answered_wrong),
        "unanswered": n - len(run["answers"]),
        "numbers_distinct": cases.values("number").distinct().count() == total,
        "timelines_intact": once == total == opened_by_report,
        "audit_intact": chain.intact,
        "audit_events": chain.count,
        "refused": run["errors"][:5],
    }
    checks["ok"] = (
        total == n
        and not missing
        and checks["duplicates"] == 0
        and not answered_wrong
        and checks["unanswered"] == 0
        and checks["numbers_distinct"]
        and checks["timelines_intact"]
        and chain.intact
        and not run["errors"]
    )
    return checks


if __name__ == "__main__":
    sys.exit(main())
