"""Writing many rows of one table at once without a model instance per row.

`bulk_create` builds a model instance for every row and passes every value of every row
through its field's preparation; for the clock checker, which writes an event, one or two
notices and an audit event for each of thousands of alarms, that was half of its time
(docs/performance.md, "Clocks and the task worker"). `insert_rows` takes plain tuples,
adapts only the values the database cannot take as they are (datetimes, JSON), passes a
value shared by every row once, and gives every field not named its default, as
`bulk_create` would.

The statement differs by database. SQLite: a multi-row `INSERT … VALUES`. PostgreSQL:
`INSERT … SELECT … FROM jsonb_array_elements(%s)` with all rows in one JSON parameter —
psycopg parses every placeholder of a query in Python, so a thousand-row VALUES list cost
it more than the database spent inserting the rows.
"""

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.utils import timezone

# Rows per INSERT at most (fewer where the database limits the parameters of a query).
MAX_ROWS_PER_INSERT = 1000

# Types whose Python values the drivers (sqlite3, psycopg) and JSON take unchanged.
_PLAIN = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "ForeignKey",
        "IntegerField",
        "OneToOneField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SlugField",
        "SmallIntegerField",
        "TextField",
    }
)


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    shared: Mapping[str, Any] | None = None,
    skip_conflicts: bool = False,
    using: str = DEFAULT_DB_ALIAS,
) -> list[int]:
    """Insert `rows` (one value per name in `columns`, Python values as a model holds them:
    str, int, bool, aware datetimes, JSON-able dicts) into `model`'s table; returns the
    new rows' primary keys, in no particular order.

    `shared` gives values that are the same in every row; every other field gets its
    default (`auto_now`/`auto_now_add` datetimes the current time, nullable fields NULL).
    With `skip_conflicts`, a row that would break a unique constraint is left out
    (`ON CONFLICT DO NOTHING`) and its key is not returned: what was already there stays.
    """
    if not rows:
        return []
    connection = connections[using]
    postgres = connection.vendor == "postgresql"
    adapter = _json_adapter if postgres else _driver_adapter
    meta = model._meta
    shared = dict(shared or {})
    named = set(columns) | set(shared)
    now = timezone.now()
    for field in meta.concrete_fields:
        if not field.primary_key and field.name not in named and field.attname not in named:
            shared[field.attname] = _default(field, now)
    fields = [_column(model, name) for name in columns]
    shared_fields = [_column(model, name) for name in shared]
    head = [
        adapter(field, connection)(value)
        for field, value in zip(shared_fields, shared.values(), strict=True)
    ]
    # Adapt column by column: most columns need nothing, so most values are not touched.
    values = list(zip(*rows, strict=True))
    for i, field in enumerate(fields):
        adapt = adapter(field, connection)
        if adapt is not _as_is:
            values[i] = tuple(map(adapt, values[i]))
    quote = connection.ops.quote_name
    into = (
        f"INSERT INTO {quote(str(meta.db_table))} "
        f"({', '.join(quote(str(f.column)) for f in [*shared_fields, *fields])}) "
    )
    suffix = " ON CONFLICT DO NOTHING" if skip_conflicts else ""
    suffix += f" RETURNING {quote(str(meta.pk.column))}"
    if postgres:
        statements = _from_json(into, suffix, shared_fields, head, fields, values, connection)
    else:
        statements = _from_values(into, suffix, head, values, connection)
    keys: list[int] = []
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            keys.extend(key for (key,) in cursor.fetchall())
    return keys


def _from_values(
    into: str, suffix: str, head: list[Any], values: list[tuple], connection: Any
) -> Iterator[tuple[str, list[Any]]]:
    """`INSERT … VALUES (…), (…)`, as many rows at a time as the parameters allow."""
    rows = [(*head, *row) for row in zip(*values, strict=True)]
    width = len(rows[0])
    limit = connection.features.max_query_params
    per_insert = min(MAX_ROWS_PER_INSERT, limit // width) if limit else MAX_ROWS_PER_INSERT
    group = "(" + ", ".join(["%s"] * width) + ")"
    for start in range(0, len(rows), per_insert):
        chunk = rows[start : start + per_insert]
        sql = into + "VALUES " + ", ".join([group] * len(chunk)) + suffix
        yield sql, [value for row in chunk for value in row]


def _from_json(
    into: str,
    suffix: str,
    shared_fields: list[models.Field],
    head: list[Any],
    fields: list[models.Field],
    values: list[tuple],
    connection: Any,
) -> Iterator[tuple[str, list[Any]]]:
    """PostgreSQL: `INSERT … SELECT … FROM jsonb_array_elements(%s)`, each row a JSON
    array, each value cast from its text to the column's type."""
    selected = [f"%s{_cast(field, connection)}" for field in shared_fields]
    selected += [f"(r->>{i}){_cast(field, connection)}" for i, field in enumerate(fields)]
    sql = into + f"SELECT {', '.join(selected)} FROM jsonb_array_elements(%s::jsonb) AS r" + suffix
    rows = list(zip(*values, strict=True))
    for start in range(0, len(rows), MAX_ROWS_PER_INSERT):
        chunk = rows[start : start + MAX_ROWS_PER_INSERT]
        yield sql, [*head, json.dumps(chunk, ensure_ascii=False, separators=(",", ":"))]


def _cast(field: models.Field, connection: Any) -> str:
    db_type = field.db_type(connection) or "text"
    # Text is left as text: an explicit cast to varchar(n) would cut a long value short,
    # while assigning it to the column refuses it, as any INSERT does.
    if db_type.startswith(("varchar", "char", "text")):
        return ""
    return f"::{db_type}"


def _column(model: type[models.Model], name: str) -> models.Field:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.concrete:
        raise ValueError(f"insert_rows: {model.__name__}.{name} is not a column")
    return field


def _as_is(value: Any) -> Any:
    return value


def _driver_adapter(field: models.Field, connection: Any) -> Callable[[Any], Any]:
    """A value as the driver takes it in a parameter (SQLite)."""
    kind = field.get_internal_type()
    if kind in _PLAIN:
        return _as_is
    if kind == "DateTimeField":
        return connection.ops.adapt_datetimefield_value
    return lambda value: field.get_db_prep_save(value, connection)


def _json_adapter(field: models.Field, connection: Any) -> Callable[[Any], Any]:
    """A value as text PostgreSQL casts to the column's type, inside a JSON array."""
    kind = field.get_internal_type()
    if kind in _PLAIN:
        return _as_is
    if kind == "DateTimeField":
        return lambda value: None if value is None else value.isoformat()
    if kind == "JSONField":
        encoder = getattr(field, "encoder", None)
        return lambda value: None if value is None else json.dumps(value, cls=encoder)
    return lambda value: field.get_db_prep_save(value, connection)


def _default(field: models.Field, now: datetime) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    # What a model instance would hold: the declared default, else "" or None.
    return field.get_default()
