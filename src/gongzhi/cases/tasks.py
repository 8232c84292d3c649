"""Background work of the small-matter loop, run on a timer by the worker (`core.periodic`).

Both tasks read what is due from the database and claim each item before acting, so a
run that comes late, twice, at once on two workers, or after a restart does each thing
exactly once.
"""

from time import monotonic, sleep

from django.db import connection
from django_tasks import task

from .services import cases_close_unanswered, clock_alarms_fire, report_receipts_file

# Alarms one `clock_alarms_fire` call fires at most.
ALARMS_PER_RUN = 1000
# A check keeps going while it finds full runs of alarms due (a restart after downtime, a
# burst), so a backlog is worked off at once rather than a thousand a minute; after this
# long it stops until the next tick. Kept under SQLite's busy timeout (10 s): its batches
# follow each other within milliseconds, and a report waiting for the write lock between
# them must not be refused.
BACKLOG_SECONDS = 8.0


@task()
def check_clocks() -> dict[str, int]:
    """Fire the warning (80 %), overdue (100 %) and supervision (200 %) alarms now due;
    returns how many of each fired."""
    started = monotonic()
    fired = total = clock_alarms_fire(limit=ALARMS_PER_RUN)
    while sum(fired.values()) >= ALARMS_PER_RUN and monotonic() - started < BACKLOG_SECONDS:
        fired = clock_alarms_fire(limit=ALARMS_PER_RUN)
        total = {level: total[level] + fired[level] for level in total}
    return total


# Receipts one `report_receipts_file` call files at most; a run goes on while it finds full
# batches, for as long as a clock check may (a burst is worked off at once).
RECEIPTS_PER_RUN = 100
# SQLite has one writer, and its lock goes to whoever asks first once it is free. Requests
# waiting to store a receipt ask again with back-off (up to 100 ms apart), so a worker
# filing back to back would have the lock nearly always and acceptance — the point of
# receipts — would wait on the filing (the intake bench with the worker running: 41
# receipts/s, p99 2.4 s). On SQLite the worker files in spells of this many receipts
# (~50 ms) and then leaves the lock free for longer than the longest back-off (122/s, p50
# 49 ms; filing still ~40 cases/s, far above what one community reports).
SQLITE_RECEIPTS_PER_SPELL = 5
SQLITE_PAUSE_SECONDS = 0.12


@task()
def file_report_receipts() -> int:
    """File the reports accepted since the last run as cases (`report_receipts_file`);
    returns how many receipts it settled (filed or refused). The worker runs it over and
    over while it finds work (`core.periodic.WATCHED_TASKS`)."""
    one_writer = connection.vendor == "sqlite"
    limit = SQLITE_RECEIPTS_PER_SPELL if one_writer else RECEIPTS_PER_RUN
    started = monotonic()
    settled = 0
    while True:
        outcome = report_receipts_file(limit=limit)
        done = sum(outcome.values())
        settled += done
        if one_writer and done:
            sleep(SQLITE_PAUSE_SECONDS)
        if done < limit or monotonic() - started >= BACKLOG_SECONDS:
            return settled


@task()
def close_unanswered_follow_ups() -> int:
    """Close completed cases whose follow-up went unanswered for 3 days (`no_answer`)."""
    return cases_close_unanswered()
