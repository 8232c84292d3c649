"""Clocks survive downtime: the task worker is stopped — killed mid-run — while warnings,
overdue marks and supervision notices come due, then two workers start at once; every
one of them fires exactly once, with its timeline event and its notices.

The real `gongzhi worker` runs in child processes against a database of its own (a
SQLite file, or a fresh PostgreSQL database when the suite runs on PostgreSQL); cases are
reported there through `case_report` at moments in the past days, as if the worker had
been down while their deadlines passed (`downtime_scenario.py`).
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from tests.helpers import child_env

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker_env(tmp_path):
    """The environment of the worker's machine: its own database, the database queue."""
    env = child_env(tmp_path, DJANGO_SETTINGS_MODULE="gongzhi.config.settings.dev")
    env["TASK_BACKEND"] = "db"
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith("postgres"):
        yield env
        return
    name = f"gz_downtime_{uuid.uuid4().hex[:10]}"
    admin = server.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = server.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield env
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(env, *args, timeout=300) -> str:
    result = subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def scenario(env, *args) -> str:
    return run(env, "-m", "tests.reliability.downtime_scenario", *args)


def state(env) -> dict:
    return json.loads(scenario(env, "verify").strip().splitlines()[-1])


def start_worker(env, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gongzhi.cli", "worker", "--interval", "0.2"],
        cwd=REPO,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def alarms_fired(env) -> int:
    """Read straight from the database, every few milliseconds: the first worker is to be
    killed between two of its batches, not after it has finished."""
    query = "SELECT count(*) FROM cases_clockalarm WHERE fired_at IS NOT NULL"
    if env.get("DATABASE_URL", "").startswith("postgres"):
        with psycopg.connect(env["DATABASE_URL"]) as connection:
            return connection.execute(query).fetchone()[0]
    with closing(sqlite3.connect(Path(env["GONGZHI_DATA_DIR"]) / "gongzhi.sqlite3")) as db:
        return db.execute(query).fetchone()[0]


def wait_until(condition, env, timeout=120.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        now = state(env)
        if condition(now) or time.monotonic() > deadline:
            return now
        time.sleep(0.5)


def test_after_downtime_every_alarm_fires_exactly_once(worker_env, tmp_path):
    env = worker_env
    log = tmp_path / "worker.log"
    run(env, "-m", "gongzhi.cli", "migrate", "--no-input", "--verbosity", "0")
    scenario(env, "setup")
    scenario(env, "report", "150", "1")
    before = state(env)
    assert before["fired"] == 0 and before["due_pending"] > 100, before

    # A worker starts, begins working off what is due, and is killed without warning.
    first = start_worker(env, log)
    try:
        deadline = time.monotonic() + 60
        while alarms_fired(env) == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()

    # While no worker runs, more deadlines pass.
    scenario(env, "report", "150", "2")
    down = state(env)
    assert down["fired"] > 0 and down["due_pending"] > 0, down

    # Two workers come back at once; each due alarm fires once, none twice.
    workers = [start_worker(env, log), start_worker(env, log)]
    try:
        settled = wait_until(lambda s: s["due_pending"] == 0, env)
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()

    # Counted again with no worker running: `verify` reads the events, then the alarms, in
    # two statements, so a reading taken while a batch commits between them sees that
    # batch's alarms fired and their events not yet (seen at a load of 14).
    after = state(env)

    # Shown with a failure, and with -s: how much there was to do at each stage.
    print(json.dumps({"before": before, "down": down, "after": after}, ensure_ascii=False))
    assert after["cases"] == 300
    assert settled["due_pending"] == 0, (settled, log.read_text()[-3000:])
    assert after["fired"] >= before["due_pending"] + down["due_pending"] - before["due_pending"]
    assert set(after["fired_by_level"]) == {"warning", "overdue", "supervision"}, after
    assert after["fired_in_the_future"] == 0
    assert after["alarms_without_one_event"] == 0, after
    assert after["events_for_unfired_alarms"] == 0, after
    assert after["notices_sent_twice"] == 0, after
    assert after["alarms_fired_without_notice"] == 0, after
    assert after["overdue_cases"] == after["cases_with_overdue_alarm"] > 0, after
    assert after["supervised_cases"] == after["cases_with_supervision_alarm"] > 0, after
