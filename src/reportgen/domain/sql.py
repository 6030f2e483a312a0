"""Compile governed queries to SQL for DuckDB or Snowflake.

Every query reads from a `governed` CTE that applies the principal's row limits and column
masks to the dataset's source, so what follows (filters, grouping, measures) only ever sees
rows and values the principal may see. Identifiers come from the catalog alone; every value
the user supplied is a numbered bind parameter (`$1` on DuckDB, `:1` on Snowflake).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache

import sqlglot
from sqlglot import exp

from reportgen.domain.catalog import Dataset, MaskKind
from reportgen.domain.governance import AccessPlan
from reportgen.domain.query import Filter, Operator, QueryRequest, Scalar

GOVERNED = "governed"
REDACTED = "[redacted]"
CATALOG_DIALECT = "duckdb"
"""Catalog expressions are written in DuckDB's SQL and transpiled for other warehouses."""


class Dialect(StrEnum):
    DUCKDB = "duckdb"
    SNOWFLAKE = "snowflake"


@dataclass(frozen=True)
class CompiledQuery:
    """SQL plus its bound values: what runs, and what lineage records."""

    sql: str
    params: tuple[Scalar, ...]
    dialect: Dialect
    columns: tuple[str, ...]

    @property
    def fingerprint(self) -> str:
        """SHA-256 over the SQL and its values: the query's identity in caches and lineage."""
        payload = json.dumps([self.dialect.value, self.sql, [str(p) for p in self.params]])
        return hashlib.sha256(payload.encode()).hexdigest()


@cache
def parse_expression(sql: str) -> exp.Expr:
    """Parse a catalog expression once. Catalog validation guarantees it parses."""
    return sqlglot.parse_one(sql, read=CATALOG_DIALECT)


class _Binder:
    """Hands out numbered placeholders and remembers the values in order."""

    def __init__(self) -> None:
        self.values: list[Scalar] = []

    def __call__(self, value: Scalar) -> exp.Placeholder:
        self.values.append(value)
        return exp.Placeholder(this=str(len(self.values)))


def _masked(column: str, kind: MaskKind) -> exp.Expr:
    text = exp.cast(exp.column(column), exp.DataType.Type.VARCHAR)
    match kind:
        case MaskKind.HASH:
            masked: exp.Expr = exp.SHA2(this=text, length=exp.Literal.number(256))
        case MaskKind.REDACT:
            masked = exp.Literal.string(REDACTED)
        case MaskKind.PARTIAL:
            masked = exp.DPipe(
                this=exp.Literal.string("***"),
                expression=exp.Right(this=text, expression=exp.Literal.number(4)),
                safe=True,
            )
    # NULL stays NULL, so counts of missing values survive masking.
    return exp.If(this=exp.column(column).is_(exp.null()), true=exp.null(), false=masked)


def _governed_cte(dataset: Dataset, plan: AccessPlan, bind: _Binder) -> exp.Select:
    projections = [
        _masked(c.name, plan.masks[c.name]).as_(c.name)
        if c.name in plan.masks
        else exp.column(c.name)
        for c in dataset.columns
    ]
    if dataset.source.table is not None:
        source: exp.Expr = exp.to_table(dataset.source.table)
    else:
        source = exp.paren(parse_expression(dataset.source.sql or "")).as_("source")
    select = exp.select(*projections).from_(source)
    for limit in plan.row_limits:
        column = exp.column(limit.policy.column)
        if limit.values:
            select = select.where(column.isin(*(bind(v) for v in limit.values)))
        else:
            select = select.where(exp.false())
    return select


def _condition(target: exp.Expr, flt: Filter, bind: _Binder) -> exp.Expr:
    values = flt.value if isinstance(flt.value, tuple) else (flt.value,)
    match flt.op:
        case Operator.EQ:
            return exp.EQ(this=target, expression=bind(values[0]))
        case Operator.NE:
            return exp.NEQ(this=target, expression=bind(values[0]))
        case Operator.GT:
            return exp.GT(this=target, expression=bind(values[0]))
        case Operator.GE:
            return exp.GTE(this=target, expression=bind(values[0]))
        case Operator.LT:
            return exp.LT(this=target, expression=bind(values[0]))
        case Operator.LE:
            return exp.LTE(this=target, expression=bind(values[0]))
        case Operator.IN:
            return target.isin(*(bind(v) for v in values))
        case Operator.NOT_IN:
            return exp.not_(target.isin(*(bind(v) for v in values)))
        case Operator.BETWEEN:
            return exp.Between(this=target, low=bind(values[0]), high=bind(values[1]))
        case Operator.CONTAINS:
            # STRPOS, not LIKE: a '%' or '_' typed by the user is matched literally.
            position = exp.StrPosition(
                this=exp.Lower(this=target), substr=exp.Lower(this=bind(values[0]))
            )
            return exp.GT(this=position, expression=exp.Literal.number(0))


def _filter_target(dataset: Dataset, field: str) -> exp.Expr:
    """A dimension filters on its expression; any other field is a column of `governed`."""
    dimension = dataset.dimension(field)
    return parse_expression(dimension.sql).copy() if dimension else exp.column(field)


def _finish(
    select: exp.Select, dialect: Dialect, bind: _Binder, columns: tuple[str, ...]
) -> CompiledQuery:
    return CompiledQuery(
        sql=select.sql(dialect=dialect.value, pretty=True),
        params=tuple(bind.values),
        dialect=dialect,
        columns=columns,
    )


def compile_query(
    dataset: Dataset,
    request: QueryRequest,
    plan: AccessPlan,
    *,
    dialect: Dialect,
    today: date,
    limit: int | None = None,
) -> CompiledQuery:
    """The SQL for a checked `request` (see `check_request`) under `plan`.

    `limit` caps the rows fetched (the row cap plus one, so overflow is detectable); the
    request's own limit applies when it is smaller.
    """
    bind = _Binder()
    governed = _governed_cte(dataset, plan, bind)
    select = exp.select().from_(GOVERNED).with_(GOVERNED, as_=governed)
    groups: list[exp.Expr] = []
    bucket = request.grain_column(dataset)
    if bucket and request.grain and dataset.time_dimension:
        # grain is an enum value and the column a catalog identifier: safe to spell out.
        truncated = parse_expression(
            f"CAST(DATE_TRUNC('{request.grain.value}', {dataset.time_dimension.column}) AS DATE)"
        ).copy()
        select = select.select(truncated.as_(bucket))
        groups.append(truncated.copy())
    for name in request.dimensions:
        dimension = dataset.dimension(name)
        assert dimension is not None  # guaranteed by check_request
        expression = parse_expression(dimension.sql).copy()
        select = select.select(expression.as_(name))
        groups.append(expression.copy())
    for name in request.measures:
        measure = dataset.measure(name)
        assert measure is not None  # guaranteed by check_request
        select = select.select(parse_expression(measure.expr).copy().as_(name))
    if request.time_range and dataset.time_dimension:
        start, end = request.time_range.resolve(today)
        column = exp.column(dataset.time_dimension.column)
        if start is not None:
            select = select.where(exp.GTE(this=column.copy(), expression=bind(start)))
        if end is not None:
            select = select.where(exp.LT(this=column.copy(), expression=bind(end)))
    for flt in request.filters:
        select = select.where(_condition(_filter_target(dataset, flt.field), flt, bind))
    if groups and request.measures:
        select = select.group_by(*groups)
    elif groups:
        select = select.distinct()
    # A stable order (explicit sort, then every grouping column) makes equal data equal bytes.
    explicit = [exp.Ordered(this=exp.column(k.field), desc=k.descending) for k in request.sort]
    sorted_fields = {k.field for k in request.sort}
    implicit = [
        exp.Ordered(this=exp.column(name), nulls_first=False)
        for name in (*((bucket,) if bucket else ()), *request.dimensions)
        if name not in sorted_fields
    ]
    if explicit or implicit:
        select = select.order_by(*explicit, *implicit)
    caps = [n for n in (request.limit, limit) if n is not None]
    if caps:
        select = select.limit(min(caps))
    return _finish(select, dialect, bind, request.output_columns(dataset))


def compile_sample(
    dataset: Dataset, plan: AccessPlan, dialect: Dialect, rows: int
) -> CompiledQuery:
    """A few governed rows of every column, in a stable order, for the catalog page."""
    bind = _Binder()
    governed = _governed_cte(dataset, plan, bind)
    columns = tuple(c.name for c in dataset.columns)
    select = (
        exp.select(*(exp.column(c) for c in columns))
        .from_(GOVERNED)
        .with_(GOVERNED, as_=governed)
        .order_by(exp.column(columns[0]))
        .limit(rows)
    )
    return _finish(select, dialect, bind, columns)


def compile_distinct(
    dataset: Dataset, plan: AccessPlan, dialect: Dialect, dimension: str, rows: int
) -> CompiledQuery:
    """The distinct values of a dimension the principal may see, for filter pickers."""
    bind = _Binder()
    governed = _governed_cte(dataset, plan, bind)
    target = dataset.dimension(dimension)
    assert target is not None
    expression = parse_expression(target.sql).copy()
    select = (
        exp.select(expression.as_(dimension))
        .distinct()
        .from_(GOVERNED)
        .with_(GOVERNED, as_=governed)
        .order_by(exp.column(dimension))
        .limit(rows)
    )
    return _finish(select, dialect, bind, (dimension,))


def compile_freshness(dataset: Dataset, dialect: Dialect) -> CompiledQuery | None:
    """The latest value of the freshness column, read from the source (no rows leave)."""
    if dataset.freshness is None:
        return None
    if dataset.source.table is not None:
        source: exp.Expr = exp.to_table(dataset.source.table)
    else:
        source = exp.paren(parse_expression(dataset.source.sql or "")).as_("source")
    select = exp.select(exp.Max(this=exp.column(dataset.freshness.column)).as_("latest")).from_(
        source
    )
    return _finish(select, dialect, _Binder(), ("latest",))
