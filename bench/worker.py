"""The task worker on both queues: two `gongzhi worker` processes work off one batch.

    .venv/bin/python bench/worker.py [--tasks 2000] [--backends db,rq,rq-simple]
                                     [--database-url URL]

For each backend — db: TASK_BACKEND=db, django-tasks-db's `db_worker`; rq: TASK_BACKEND=rq,
django-rq's `rqworker` on Redis database --redis-db with rq's Worker, a process forked per
job; rq-simple: the same with GONGZHI_RQ_WORKER_CLASS=rq.worker.SimpleWorker, jobs in the
worker process — it migrates a throwaway database (a new SQLite file unless --database-url
names PostgreSQL), creates --tasks outbound SMS notifications and enqueues one
`deliver_notifications` task per notification through the task API (timed: the enqueue
rate), then starts --workers `gongzhi worker` processes with the production settings and
waits until every notification is sent (the console SMS backend records each message in
the outbox). Figures per backend: enqueue rate, tasks per second from the first delivery
to the last (start-up is reported apart), and each worker's resident memory (VmRSS from
/proc) after the run, with its children (rq's scheduler; a work horse while a job runs).
"""

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _support import REPO, children_of, emit, fresh_database, production_environment, rss_mib

SETUP = """
import json, time
from django.utils import timezone
from gongzhi.accounts.models import User
from gongzhi.core.models import Notification
from gongzhi.core.tasks import deliver_notifications

users = [
    User.objects.create_user(username=f"bench-{n}", password=None, phone=f"139{n:08d}")
    for n in range(50)
]
rows = Notification.objects.bulk_create(
    Notification(recipient=users[n % 50], channel="sms", verb="bench", title=f"bench {n}")
    for n in range(TASKS)
)
started = time.perf_counter()
for row in rows:
    deliver_notifications.enqueue([row.pk])
print(json.dumps({"enqueue_seconds": time.perf_counter() - started}))
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument(
        "--backends",
        default="db,rq,rq-simple",
        help="db (django-tasks-db), rq (rq's Worker: a process per job), "
        "rq-simple (rq's SimpleWorker: jobs in the worker process)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-db", type=int, default=12)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args(argv)
    for backend in args.backends.split(","):
        run(backend, args)


def run(backend: str, args) -> None:
    workdir = Path(tempfile.mkdtemp(prefix=f"gongzhi-bench-worker-{backend}-"))
    database_url, drop = fresh_database(args.database_url, workdir)
    env = {**os.environ, **production_environment(workdir, database_url)}
    env["TASK_BACKEND"] = "db" if backend == "db" else "rq"
    if backend != "db":
        env["GONGZHI_RQ_WORKER_CLASS"] = (
            "rq.worker.SimpleWorker" if backend == "rq-simple" else "rq.worker.Worker"
        )
    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    if backend != "db":
        env["REDIS_URL"] = redis_url
        _clear_rq(redis_url)
    gongzhi = [sys.executable, "-m", "gongzhi.cli"]
    context = {
        "bench": "worker",
        "backend": backend,
        "database": database_url.split(":")[0],
        "tasks": args.tasks,
        "workers": args.workers,
    }
    try:
        subprocess.run([*gongzhi, "migrate", "-v0"], env=env, check=True, cwd=REPO)
        setup = subprocess.run(
            [*gongzhi, "shell", "-c", SETUP.replace("TASKS", str(args.tasks))],
            env=env,
            check=True,
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        enqueue = float(setup.stdout.strip().splitlines()[-1].split(":")[1].strip(" }"))
        emit(
            **context,
            figure="enqueue",
            value=round(args.tasks / enqueue, 1),
            unit="tasks/s",
            seconds=round(enqueue, 2),
            load=os.getloadavg()[0],
        )
        workers = []
        spawned = time.perf_counter()
        for n in range(args.workers):
            log = (workdir / f"worker{n}.log").open("w")
            workers.append(
                subprocess.Popen(
                    [*gongzhi, "worker"],
                    env=env,
                    cwd=REPO,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        first = done = None
        deadline = spawned + args.timeout
        while time.perf_counter() < deadline:
            sent = _sent(database_url)
            now = time.perf_counter()
            if sent and first is None:
                first = now
            if sent >= args.tasks:
                done = now
                break
            if any(w.poll() is not None for w in workers):
                raise SystemExit(f"a worker exited; see {workdir}/worker*.log")
            time.sleep(0.1)
        if done is None:
            raise SystemExit(f"{_sent(database_url)} of {args.tasks} sent before the timeout")
        memory = []
        for worker in workers:
            kids = children_of(worker.pid)
            memory.append(
                {
                    "pid": worker.pid,
                    "rss_mib": rss_mib(worker.pid),
                    "children_rss_mib": [_rss_or_none(pid) for pid in kids],
                }
            )
        emit(**context, figure="startup", value=round(first - spawned, 2), unit="s")
        emit(
            **context,
            figure="throughput",
            value=round(args.tasks / (done - first), 1),
            unit="tasks/s",
            seconds=round(done - first, 2),
            load=os.getloadavg()[0],
        )
        emit(
            **context,
            figure="worker_rss",
            value=max(m["rss_mib"] for m in memory),
            unit="MiB",
            per_worker=memory,
        )
    finally:
        for worker in locals().get("workers", []):
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in locals().get("workers", []):
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
        if backend != "db":
            _clear_rq(redis_url)
        if drop:
            drop()


def _rss_or_none(pid: int) -> float | None:
    """A work horse may end between listing and reading it."""
    try:
        return rss_mib(pid)
    except (OSError, RuntimeError):
        return None


def _sent(database_url: str) -> int:
    sql = "SELECT count(*) FROM core_notification WHERE channel = 'sms' AND sent_at IS NOT NULL"
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=30) as conn:
            return conn.execute(sql).fetchone()[0]
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute(sql).fetchone()[0]


def _clear_rq(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter("rq:*"):
        client.delete(key)


if __name__ == "__main__":
    main()
