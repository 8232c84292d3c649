"""Tasks the worker runs by itself: on a timer, or watching for work. Each must be safe to
run late, twice, or at once on two workers: they look up what is due in the database,
never in memory."""

# (dotted path of a django-tasks task, interval in seconds)
PERIODIC_TASKS: list[tuple[str, int]] = [
    ("gongzhi.core.tasks.retry_notifications", 300),
    ("gongzhi.accounts.tasks.prune_sign_in_records", 3600),
    ("gongzhi.cases.tasks.check_clocks", 60),
    ("gongzhi.cases.tasks.close_unanswered_follow_ups", 600),
]

# (dotted path of a django-tasks task that works off what is waiting and returns how many
# items it did, seconds to wait before looking again when it did none). The worker calls
# each in a thread of its own, again at once while it finds work: a resident's accepted
# report should become a case within a second, and enqueueing a task for it would be a
# second write per report.
WATCHED_TASKS: list[tuple[str, float]] = [
    ("gongzhi.cases.tasks.file_report_receipts", 0.5),
]
