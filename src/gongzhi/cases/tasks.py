"""Background work of the small-matter loop, run on a timer by the worker (`core.periodic`).

Both tasks read what is due from the database and claim each item before acting, so a
run that comes late, twice, at once on two workers, or after a restart does each thing
exactly once.
"""

from django_tasks import task

from .services import cases_close_unanswered, clock_alarms_fire


@task()
def check_clocks() -> dict[str, int]:
    """Fire the warning (80 %), overdue (100 %) and supervision (200 %) alarms now due;
    returns how many of each fired."""
    return clock_alarms_fire()


@task()
def close_unanswered_follow_ups() -> int:
    """Close completed cases whose follow-up went unanswered for 3 days (`no_answer`)."""
    return cases_close_unanswered()
