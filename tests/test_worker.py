"""The worker's ticker: periodic tasks are enqueued on time, once per interval, and a
broken entry in PERIODIC_TASKS stops the worker at start rather than failing silently."""

import threading

import pytest
from django.core.management.base import CommandError
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.core.management.commands.worker import Ticker, load_periodic_tasks, run_ticker
from gongzhi.core.periodic import PERIODIC_TASKS


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
