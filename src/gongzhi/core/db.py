"""Which database a read goes to.

One database by default. With `DATABASE_REPLICA_URL` (a PostgreSQL streaming replica),
the boards — aggregate reads over a community's or a subdistrict's history that may lag
the primary by a few seconds — read from the replica, so a supervisor's table does not
compete with residents' reports. Everything else reads and writes the primary: a worker
who has just acted must see the result of the act (read-your-writes).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

REPLICA = "replica"

_reads_from_replica: ContextVar[bool] = ContextVar("reads_from_replica", default=False)


def replica_in_use() -> bool:
    """True inside `reading_from_replica()` when a replica is configured."""
    return _reads_from_replica.get() and REPLICA in settings.DATABASES


@contextmanager
def reading_from_replica() -> Iterator[None]:
    """Reads inside go to the replica, if there is one (see the module's docstring)."""
    token = _reads_from_replica.set(True)
    try:
        yield
    finally:
        _reads_from_replica.reset(token)


def reads_from_replica(view: Callable[..., Any]) -> Callable[..., Any]:
    """A view whose reads may lag the primary by seconds: a board, never a form."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with reading_from_replica():
            return view(*args, **kwargs)

    return wrapper


class ReplicaRouter:
    """Routes reads to the replica only inside `reading_from_replica()`; every write, and
    every migration, to the primary."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        return REPLICA if replica_in_use() else DEFAULT_DB_ALIAS

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica holds the primary's rows

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS
