"""Tasks the worker enqueues on a timer. Each must be safe to run late, twice, or at once
on two workers: they look up what is due in the database, never in memory."""

# (dotted path of a django-tasks task, interval in seconds)
PERIODIC_TASKS: list[tuple[str, int]] = [
    ("gongzhi.core.tasks.retry_notifications", 300),
    ("gongzhi.accounts.tasks.prune_sign_in_records", 3600),
    ("gongzhi.cases.tasks.check_clocks", 60),
    ("gongzhi.cases.tasks.close_unanswered_follow_ups", 600),
]
