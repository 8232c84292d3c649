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
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
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
    database_url, drop = _database(args.postgres, workdir)
    env = _environment(workdir, database_url)
    os.environ.update(env)
    sys.path.insert(0, str(REPO / "src"))

    import django

    django.setup()
    from django.db import connections

    tokens = _prepare(args.residents)
    connections.close_all()
    vendor = "postgresql" if args.postgres else "sqlite"
    _emit(phase="setup", vendor=vendor, seconds=round(time.monotonic() - started, 1))

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
    _emit(**verdict)
    connections.close_all()
    if drop and not args.keep:
        drop()
    return 0 if verdict["ok"] else 1


# --- the database and the server ----------------------------------------------------------


def _database(server_url: str, workdir: Path):
    if not server_url:
        return f"sqlite:///{workdir / 'gongzhi.sqlite3'}", None
    import psycopg

    name = f"gz_crash_{uuid.uuid4().hex[:10]}"
    parts = urlsplit(server_url)
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return parts._replace(path=f"/{name}").geturl(), drop


def _environment(workdir: Path, database_url: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "gongzhi.config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "GONGZHI_HTTPS": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "GONGZHI_DATA_DIR": str(workdir),
        "DATABASE_URL": database_url,
        # One client floods the report endpoint on purpose here; the limit itself is
        # tested in tests/reliability/test_rate_limits.py.
        "GONGZHI_REPORT_RATE_LIMIT": "1000000000,60",
        "LOG_LEVEL": "WARNING",
        # The server's children import this checkout, whatever the virtualenv points at.
        "PYTHONPATH": str(REPO / "src"),
    }


def _prepare(residents: int) -> list[str]:
    """Migrate, then a community with one dwelling and one API token per resident."""
    from django.core.management import call_command

    from gongzhi.accounts.models import Role
    from gongzhi.accounts.services import role_assign, user_create
    from gongzhi.api.services import api_token_create
    from gongzhi.places.models import PlaceKind
    from gongzhi.places.services import place_create

    call_command("migrate", verbosity=0)

    def add(kind, name, segment, parent=None):
        return place_create(actor=None, kind=kind, name=name, segment=segment, parent=parent)

    district = add(PlaceKind.DISTRICT, "长宁区", "310105")
    subdistrict = add(PlaceKind.SUBDISTRICT, "周家桥街道", "ZJQ", district)
    community = add(PlaceKind.COMMUNITY, "虹桥新城居民区", "HQXC", subdistrict)
    estate = add(PlaceKind.ESTATE, "虹桥新城小区", "E1", community)
    building = add(PlaceKind.BUILDING, "1号楼", "B1", estate)
    entrance = add(PlaceKind.ENTRANCE, "1单元", "U1", building)
    worker = user_create(actor=None, username="worker", name="网格员", phone="13800000001")
    role_assign(actor=None, user=worker, role=Role.COMMUNITY_WORKER, place=community)
    tokens = []
    for r in range(residents):
        dwelling = add(PlaceKind.DWELLING, f"{101 + r}室", str(101 + r), entrance)
        user = user_create(
            actor=None, username=f"resident{r}", name=f"居民{r}", phone=f"139{r:08d}"
        )
        role_assign(actor=None, user=user, role=Role.RESIDENT, place=dwelling)
        _token, raw = api_token_create(actor=None, user=user, name="crash bench")
        tokens.append((raw, dwelling.code))
    return tokens


class Server:
    """gunicorn with the project's settings, in a process group of its own so one SIGKILL
    takes the master and every worker at once."""

    def __init__(self, *, env: dict[str, str], workers: int, log: Path) -> None:
        self.port = _free_port()
        self.env = {**os.environ, **env}
        self.workers = workers
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> float:
        began = time.monotonic()
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:gongzhi.config.gunicorn",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "gongzhi.config.wsgi:application",
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                argv, env=self.env, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited; see {self.log}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return time.monotonic() - began
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer /healthz within 60 s; see {self.log}")

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
            _emit(phase="kill", **kills[-1])

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
            _emit(phase="backup", **line)

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
    url, drop = _database(postgres, workdir / f"restored-{number}")
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
    _emit(
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


def _emit(**line) -> None:
    print(json.dumps(line, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    sys.exit(main())
