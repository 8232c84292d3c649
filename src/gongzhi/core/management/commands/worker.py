"""`gongzhi worker`: runs background tasks, and enqueues the periodic ones on time.

The queue is the database (django-tasks-db's `db_worker`) unless TASK_BACKEND=rq, then
Redis (django-rq's `rqworker` with django-tasks-rq's job class; settings.RQ["WORKER_CLASS"]
chooses a process per job or jobs in the worker itself). Beside it, a ticker
thread enqueues each task of `gongzhi.core.periodic.PERIODIC_TASKS` at its interval, and a
watcher thread per task of `WATCHED_TASKS` runs it again and again while it finds work
(accepted reports to file), looking again after a short wait when it finds none — except
in a worker that forks a process per job, where they are enqueued on a short timer
instead (`background_plan`). These tasks look up what is due in the database, so two
workers each running them only repeat work that finds nothing left to do.
"""

import logging
import threading
import time
from collections.abc import Callable
from importlib import import_module

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connections
from django.utils.module_loading import import_string
from django_tasks.base import Task
from django_tasks.signals import task_finished, task_started

from gongzhi.core.periodic import PERIODIC_TASKS, WATCHED_TASKS

logger = logging.getLogger("gongzhi.worker")


class Ticker:
    """Decides which periodic tasks are due. Pure: the caller passes the clock readings.

    Every task is due at start, then `interval` seconds after it was last due; after a
    pause (a suspended machine, a long enqueue) a task is enqueued once, not once per
    missed interval.
    """

    def __init__(self, periodic: list[tuple[str, float]], *, start: float):
        for path, interval in periodic:
            if interval <= 0:
                raise ValueError(f"{path}: the interval must be positive, not {interval}")
        self.intervals = dict(periodic)
        self.next_due = {path: start for path in self.intervals}

    def due(self, now: float) -> list[str]:
        """The tasks due at `now`; each is then scheduled `interval` seconds later."""
        ready = [path for path, at in self.next_due.items() if at <= now]
        for path in ready:
            self.next_due[path] = now + self.intervals[path]
        return ready

    def seconds_until_next(self, now: float) -> float | None:
        """How long to sleep until a task is due; None when there are no tasks."""
        if not self.next_due:
            return None
        return max(0.0, min(self.next_due.values()) - now)


def load_periodic_tasks(periodic: list[tuple[str, float]]) -> dict[str, Task]:
    """Imports every periodic (or watched) task up front, so a typo stops the worker at
    start."""
    tasks = {}
    for path, _interval in periodic:
        try:
            task = import_string(path)
        except ImportError as exc:
            raise CommandError(f"Periodic task {path} cannot be imported: {exc}") from exc
        if not isinstance(task, Task):
            raise CommandError(f"Periodic task {path} is not a task (decorate it with @task).")
        tasks[path] = task
    return tasks


def run_ticker(
    ticker: Ticker,
    enqueue: Callable[[str], object],
    stop: threading.Event,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Enqueues due tasks until `stop` is set. A failed enqueue (the database busy, Redis
    restarting) is logged and retried at the next interval rather than ending the loop."""
    while not stop.is_set():
        for path in ticker.due(clock()):
            try:
                enqueue(path)
                logger.info("periodic task enqueued", extra={"task": path})
            except Exception:
                logger.exception("periodic task could not be enqueued", extra={"task": path})
        # This thread's own connection: close it so it is not held open between ticks.
        connections.close_all()
        stop.wait(ticker.seconds_until_next(clock()))


# How often a watched task is enqueued when it cannot be watched from a thread.
WATCHED_AS_PERIODIC_SECONDS = 2


def background_plan(
    *, forks_per_job: bool
) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """The tasks the ticker enqueues, and the tasks watched from threads of their own.

    A worker that forks a process per job (rq's Worker) must not do database work in a
    thread of its own: a fork taken while that thread holds a lock inside the database
    library (SQLite's global mutex, taken as a connection opens or closes) leaves the job
    a lock nobody will release, and the job hangs until rq kills it (seen: one job in a
    thousand, held 240 s). There the watched tasks are enqueued every
    `WATCHED_AS_PERIODIC_SECONDS` instead and run as jobs; the ticker only talks to Redis.
    """
    if not forks_per_job:
        return list(PERIODIC_TASKS), list(WATCHED_TASKS)
    return (
        [*PERIODIC_TASKS, *((path, WATCHED_AS_PERIODIC_SECONDS) for path, _ in WATCHED_TASKS)],
        [],
    )


def _forks_per_job() -> bool:
    """Whether jobs run in a process forked per job: rq's Worker (SimpleWorker and the
    database queue's worker run them in the worker's own process)."""
    if settings.TASK_BACKEND != "rq":
        return False
    from rq.worker import SimpleWorker

    return not issubclass(import_string(settings.RQ["WORKER_CLASS"]), SimpleWorker)


def run_watcher(
    work: Callable[[], int],
    idle_seconds: float,
    stop: threading.Event,
    *,
    name: str = "",
) -> None:
    """Calls `work` until `stop` is set: again at once while it did something, after
    `idle_seconds` when it did nothing. A failure is logged and tried again after the
    wait, never the end of the loop."""
    while not stop.is_set():
        try:
            done = work()
        except Exception:
            logger.exception("watched task failed", extra={"task": name})
            done = 0
        if not done:
            # Idle: give back a connection that broke or aged out, as db_worker does.
            close_old_connections()
            stop.wait(idle_seconds)


class Command(BaseCommand):
    help = "Runs background tasks and enqueues the periodic ones at their intervals."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="database queue only: seconds between polls when the queue is empty",
        )

    def handle(self, *, interval: float, verbosity: int, **options):
        periodic, watching = background_plan(forks_per_job=_forks_per_job())
        tasks = load_periodic_tasks(periodic)
        # The URLconf is imported by a process's first reverse() (1–2 s): now, not in the
        # first clock check after a restart, whose notices link to their cases.
        import_module(settings.ROOT_URLCONF)
        watched = load_periodic_tasks(watching)
        stop = threading.Event()
        for path, idle_seconds in watching:
            threading.Thread(
                target=run_watcher,
                args=(watched[path].call, idle_seconds, stop),
                kwargs={"name": path},
                name=f"watcher:{path}",
                daemon=True,
            ).start()
        if tasks:
            ticker = Ticker(periodic, start=time.monotonic())
            threading.Thread(
                target=run_ticker,
                args=(ticker, lambda path: tasks[path].enqueue(), stop),
                name="periodic-ticker",
                daemon=True,
            ).start()
        try:
            if settings.TASK_BACKEND == "rq":
                # A worker that runs jobs in its own process (SimpleWorker) keeps its
                # database connection between them: check it before and after each job, as
                # the database queue's worker does when it wakes up.
                task_started.connect(_close_old_connections, weak=False)
                task_finished.connect(_close_old_connections, weak=False)
                call_command(
                    "rqworker",
                    *settings.RQ_QUEUES,
                    job_class="django_tasks_rq.Job",
                    with_scheduler=True,
                    verbosity=verbosity,
                )
            else:
                call_command(
                    "db_worker",
                    queue_name="*",
                    interval=interval,
                    reload=False,
                    verbosity=verbosity,
                )
        finally:
            stop.set()


def _close_old_connections(**kwargs) -> None:
    close_old_connections()
