"""The worker's ticker and watchers: periodic tasks are enqueued on time, once per interval;
watched tasks run again at once while they find work and after a short wait when idle; a
broken entry in PERIODIC_TASKS or WATCHED_TASKS stops the worker at start rather than
failing silently."""

import sqlite3
import threading
import time

import pytest
from django.core.management.base import CommandError
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.core.management.commands.worker import (
    WATCHED_AS_PERIODIC_SECONDS,
    Ticker,
    background_plan,
    load_periodic_tasks,
    run_ticker,
    run_watcher,
)
from gongzhi.core.periodic import PERIODIC_TASKS, WATCHED_TASKS
from tests.helpers import child_env, gongzhi, worker_running


def test_every_task_is_due_at_start_then_after_its_own_interval():
    ticker = Ticker([("a.hourly", 3600), ("a.minutely", 60)], start=1000.0)

    assert sorted(ticker.due(1000.0)) == ["a.hourly", "a.minutely"]
    assert ticker.due(1059.0) == []
    assert ticker.seconds_until_next(1059.0) == 1.0
    assert ticker.due(1060.0) == ["a.minutely"]
    assert ticker.due(4600.0) == ["a.hourly", "a.minutely"]


def test_after_a_long_pause_a_task_is_enqueued_once_not_once_per_missed_interval():
    ticker = Ticker([("a.minutely", 60)], start=0.0)
    ticker.due(0.0)

    assert ticker.due(3600.0) == ["a.minutely"]
    assert ticker.due(3601.0) == []


def test_an_interval_must_be_positive():
    with pytest.raises(ValueError, match="must be positive"):
        Ticker([("a.broken", 0)], start=0.0)


def test_without_periodic_tasks_the_ticker_has_nothing_to_wait_for():
    assert Ticker([], start=0.0).seconds_until_next(0.0) is None


@given(
    interval=st.integers(min_value=1, max_value=86_400),
    steps=st.lists(st.integers(min_value=0, max_value=200_000), max_size=60),
)
def test_a_task_never_runs_twice_within_its_interval_and_never_waits_longer(interval, steps):
    ticker = Ticker([("a.task", interval)], start=0.0)
    now, last = 0.0, None
    for step in [0.0, *steps]:
        now += step
        if ticker.due(now):
            assert last is None or now - last >= interval
            last = now
        else:
            assert last is not None and now - last < interval


def test_every_registered_periodic_task_can_be_loaded():
    tasks = load_periodic_tasks(PERIODIC_TASKS)

    assert set(tasks) == {path for path, _interval in PERIODIC_TASKS}


def test_a_periodic_entry_that_is_not_a_task_stops_the_worker():
    with pytest.raises(CommandError, match="is not a task"):
        load_periodic_tasks([("gongzhi.core.periodic.PERIODIC_TASKS", 60)])


def test_a_periodic_entry_that_does_not_import_stops_the_worker():
    with pytest.raises(CommandError, match="cannot be imported"):
        load_periodic_tasks([("gongzhi.core.no_such_module.task", 60)])


@pytest.mark.django_db
def test_a_failed_enqueue_is_logged_and_the_ticker_keeps_going(caplog):
    calls: list[str] = []
    stop = threading.Event()
    # Each reading is a minute on, so the ticker never has to sleep.
    clock = iter(range(0, 6000, 60))

    def enqueue(path: str) -> None:
        calls.append(path)
        if len(calls) == 1:
            raise ConnectionError("Redis restarting")
        stop.set()

    ticker = Ticker([("a.minutely", 60)], start=0.0)
    run_ticker(ticker, enqueue, stop, clock=lambda: float(next(clock)))

    assert calls == ["a.minutely", "a.minutely"]
    assert "periodic task could not be enqueued" in caplog.text


def test_every_watched_task_can_be_loaded():
    tasks = load_periodic_tasks(WATCHED_TASKS)

    assert set(tasks) == {path for path, _idle in WATCHED_TASKS}


class StopAfter(threading.Event):
    """A stop event that records each wait and sets itself after `waits` of them."""

    def __init__(self, waits: int):
        super().__init__()
        self.waits: list[float | None] = []
        self.limit = waits

    def wait(self, timeout=None):
        self.waits.append(timeout)
        if len(self.waits) >= self.limit:
            self.set()
        return self.is_set()


@pytest.mark.django_db
def test_a_watcher_works_on_at_once_while_it_finds_work_and_waits_when_idle():
    results = iter([100, 100, 3, 0, 7, 0])
    calls = []

    def work() -> int:
        calls.append(1)
        return next(results)

    stop = StopAfter(waits=2)
    run_watcher(work, 0.5, stop)

    assert len(calls) == 6
    assert stop.waits == [0.5, 0.5]


@pytest.mark.django_db
def test_a_failing_watched_task_is_logged_and_tried_again_after_the_wait(caplog):
    calls = []

    def work() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("the database restarting")
        return 0

    stop = StopAfter(waits=2)
    run_watcher(work, 0.5, stop, name="a.watched")

    assert len(calls) == 2
    assert stop.waits == [0.5, 0.5]
    assert "watched task failed" in caplog.text


RECEIPT_SETUP = """
from gongzhi.accounts.models import Role
from gongzhi.accounts.services import role_assign, user_create
from gongzhi.cases.models import Category, Channel
from gongzhi.cases.services import report_accept
from gongzhi.places.models import PlaceKind
from gongzhi.places.services import place_create

place = None
for kind, name, segment in [
    (PlaceKind.DISTRICT, "长宁区", "310105"),
    (PlaceKind.SUBDISTRICT, "周家桥街道", "ZJQ"),
    (PlaceKind.COMMUNITY, "虹桥新城居民区", "HQXC"),
    (PlaceKind.ESTATE, "虹桥新城小区", "E1"),
    (PlaceKind.BUILDING, "1号楼", "B1"),
    (PlaceKind.ENTRANCE, "1单元", "U1"),
    (PlaceKind.DWELLING, "101室", "101"),
]:
    place = place_create(actor=None, kind=kind, name=name, segment=segment, parent=place)
resident = user_create(actor=None, username="r1", name="居民", phone="13900000001")
role_assign(actor=None, user=resident, role=Role.RESIDENT, place=place)
report_accept(
    actor=resident,
    place=place,
    category=Category.objects.get(code="street_light"),
    text="楼道灯坏了",
    channel=Channel.API,
)
"""


def test_the_worker_files_an_accepted_report_as_a_case_within_seconds(tmp_path):
    env = child_env(tmp_path)
    assert gongzhi("migrate", "-v0", env=env).returncode == 0
    setup = gongzhi("shell", "-c", RECEIPT_SETUP, env=env)
    assert setup.returncode == 0, setup.stderr
    db = tmp_path / "gongzhi.sqlite3"

    def receipt() -> tuple[str, str | None]:
        with sqlite3.connect(db) as conn:
            return conn.execute(
                "SELECT r.state, c.number FROM cases_reportreceipt r"
                " LEFT JOIN cases_case c ON c.id = r.case_id"
            ).fetchone()

    assert receipt() == ("accepted", None)
    log = tmp_path / "worker.log"
    with worker_running(env, log):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and receipt()[0] == "accepted":
            time.sleep(0.2)

    state, number = receipt()
    assert state == "filed", log.read_text()[-3000:]
    assert number.startswith("HQXC-")


def test_a_worker_that_forks_per_job_enqueues_the_watched_tasks_instead_of_watching():
    periodic, watched = background_plan(forks_per_job=False)
    assert (periodic, watched) == (PERIODIC_TASKS, WATCHED_TASKS)

    periodic, watched = background_plan(forks_per_job=True)
    assert watched == []
    assert periodic == [
        *PERIODIC_TASKS,
        *((path, WATCHED_AS_PERIODIC_SECONDS) for path, _idle in WATCHED_TASKS),
    ]
    assert set(load_periodic_tasks(periodic)) == {path for path, _ in periodic}
