"""Query expressions the ORM does not offer, for conditions that must stay index lookups
at a city's scale (a million cases, hundreds of thousands of places)."""

from typing import Any, cast

from django.db.models import BooleanField, F, Func, IntegerField, QuerySet, Subquery


class InSubquery(Func):
    """`column IN (subquery)` that an index can serve inside an OR.

    The cases' visibility condition ORs several ways of seeing a case (its community, a
    handler row, a report, a transfer); the page header ORs a person's homes and boards.
    EXISTS — or a plain `IN (subquery)` on PostgreSQL, which hashes it — in one of the
    branches makes the database read the whole table; this keeps each branch an index
    lookup: SQLite
    unions them ("MULTI-INDEX OR"), and PostgreSQL, given `= ANY(ARRAY(subquery))` (the
    subquery runs once, as an InitPlan), ORs their bitmap index scans (BitmapOr).
    """

    conditional = True
    output_field = BooleanField()
    # Set on a resolved copy whose subquery does not refer to the query around it.
    _resolved_alone = False

    def __init__(self, column: str, queryset: QuerySet) -> None:
        # A model's default ordering would sort the subquery for nothing (and lead SQLite
        # to walk the index that sorts instead of the one that filters); a slice needs it.
        if not queryset.query.is_sliced:
            queryset = queryset.order_by()
        super().__init__(F(column), Subquery(queryset))

    def resolve_expression(
        self,
        query: Any = None,
        allow_joins: bool = True,
        reuse: Any = None,
        summarize: bool = False,
        for_save: bool = False,
    ) -> "InSubquery":
        # In a WHERE, a condition is wrapped in a lookup (`= True`) that resolves its left
        # side again each time the query is compiled (`Lookup.process_lhs`): for this
        # expression that cloned and resolved the whole subquery again — the count, the
        # page and the page's id subquery each did it for every way of seeing a case, a
        # third of a list's SQL compilation. A subquery that does not refer to the query
        # around it resolves to the same thing every time, so once is enough.
        if self._resolved_alone:
            return self
        resolved = super().resolve_expression(query, allow_joins, reuse, summarize, for_save)
        subquery = cast(Subquery, resolved.source_expressions[1])
        resolved._resolved_alone = not subquery.get_external_cols()
        return resolved

    def _sides(self, compiler: Any) -> tuple[str, str, tuple[Any, ...]]:
        column, column_params = compiler.compile(self.source_expressions[0])
        values, values_params = compiler.compile(self.source_expressions[1])
        return column, values, (*column_params, *values_params)

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> tuple[str, Any]:
        column, values, params = self._sides(compiler)
        return f"{column} IN {values}", params

    def as_postgresql(
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, Any]:
        column, values, params = self._sides(compiler)
        return f"{column} = ANY(ARRAY{values})", params


class Total(Subquery):
    """The number of rows of `queryset`, as a scalar subquery: a page can carry its list's
    total (`SELECT …, (SELECT COUNT(*) FROM (…)) …`) instead of a second query for it.
    It does not refer to the query around it, so the database computes it once (an
    InitPlan on PostgreSQL; SQLite evaluates it once), with the plan of a count."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) counted)"
    output_field = IntegerField()

    def __init__(self, queryset: QuerySet) -> None:
        super().__init__(queryset.order_by().values("pk"))
