"""Compile governed queries to SQL for DuckDB or Snowflake.

Every query reads from a `governed` CTE that applies the principal's row limits and column
masks to the dataset's source, so what follows (filters, grouping, measures) only ever sees
rows and values the principal may see. Identifiers come from the catalog alone; every value
the user supplied is a numbered bind parameter (`$1` on DuckDB, `:1` on Snowflake).

Hashed masks are keyed: SHA-256 over the deployment's mask key followed by the value, so a
masked e-mail cannot be reversed by hashing guesses. The key is never part of the SQL or its
values (both go into lineage); the SQL reads it from a session variable that the warehouse
adapter sets (`getvariable('reportgen_mask_key')` on DuckDB, `$reportgen_mask_key` on
Snowflake), and `CompiledQuery.uses_mask_key` tells the adapter when it is needed.
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
MASK_KEY_VARIABLE = "reportgen_mask_key"
"""The session variable holding the deployment's mask key while a query runs."""
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
    # The SQL reads the mask key (MASK_KEY_VARIABLE): the adapter must set it first. The key
    # itself never travels in a CompiledQuery, which lineage and manifests record.
    uses_mask_key: bool = False

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


def _mask_key(dialect: Dialect) -> exp.Expr:
    """The mask key as the session variable the warehouse adapter sets for the query."""
    if dialect is Dialect.SNOWFLAKE:
        return exp.Parameter(this=exp.Var(this=MASK_KEY_VARIABLE))
    return exp.Anonymous(this="getvariable", expressions=[exp.Literal.string(MASK_KEY_VARIABLE)])


def _masked(column: str, kind: MaskKind, dialect: Dialect) -> exp.Expr:
    text = exp.cast(exp.column(column), exp.DataType.Type.VARCHAR)
    match kind:
        case MaskKind.HASH:
            keyed = exp.DPipe(this=_mask_key(dialect), expression=text, safe=True)
            masked: exp.Expr = exp.SHA2(this=keyed, length=exp.Literal.number(256))
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


def _source(dataset: Dataset) -> exp.Expr:
    """The dataset's rows as a FROM item: its table, or its reviewed SELECT as a subquery."""
    if dataset.source.table is not None:
        return exp.to_table(dataset.source.table)
    return exp.paren(parse_expression(dataset.source.sql or "").copy()).as_("source")


def _governed_cte(
    dataset: Dataset, plan: AccessPlan, bind: _Binder, dialect: Dialect
) -> exp.Select:
    projections = [
        _masked(c.name, plan.masks[c.name], dialect).as_(c.name)
        if c.name in plan.masks
        else exp.column(c.name)
        for c in dataset.columns
    ]
    select = exp.select(*projections).from_(_source(dataset))
    for limit in plan.row_limits:
        column = exp.column(limit.policy.column)
        if limit.values:
            select = select.where(column.isin(*(bind(v) for v in limit.values)))
        else:
            select = select.where(exp.false())
    return select


def _governed(dataset: Dataset, plan: AccessPlan, bind: _Binder, dialect: Dialect) -> exp.Select:
    """An empty SELECT over the `governed` CTE, ready for projections."""
    cte = _governed_cte(dataset, plan, bind, dialect)
    return exp.select().from_(GOVERNED).with_(GOVERNED, as_=cte)


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
    select: exp.Select,
    dialect: Dialect,
    bind: _Binder,
    columns: tuple[str, ...],
    plan: AccessPlan,
) -> CompiledQuery:
    return CompiledQuery(
        sql=select.sql(dialect=dialect.value),
        params=tuple(bind.values),
        dialect=dialect,
        columns=columns,
        uses_mask_key=MaskKind.HASH in plan.masks.values(),
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
    select = _governed(dataset, plan, bind, dialect)
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
    return _finish(select, dialect, bind, request.output_columns(dataset), plan)


def compile_sample(
    dataset: Dataset, plan: AccessPlan, dialect: Dialect, rows: int
) -> CompiledQuery:
    """A few governed rows of every column, in a stable order, for the catalog page."""
    bind = _Binder()
    columns = tuple(c.name for c in dataset.columns)
    select = (
        _governed(dataset, plan, bind, dialect)
        .select(*(exp.column(c) for c in columns))
        .order_by(exp.column(columns[0]))
        .limit(rows)
    )
    return _finish(select, dialect, bind, columns, plan)


def compile_distinct(
    dataset: Dataset, plan: AccessPlan, dialect: Dialect, dimension: str, rows: int
) -> CompiledQuery:
    """The distinct values of a dimension the principal may see, for filter pickers."""
    bind = _Binder()
    target = dataset.dimension(dimension)
    assert target is not None
    expression = parse_expression(target.sql).copy()
    select = (
        _governed(dataset, plan, bind, dialect)
        .select(expression.as_(dimension))
        .distinct()
        .order_by(exp.column(dimension))
        .limit(rows)
    )
    return _finish(select, dialect, bind, (dimension,), plan)


def compile_freshness(dataset: Dataset, plan: AccessPlan, dialect: Dialect) -> CompiledQuery | None:
    """The latest value of the freshness column among the rows the principal may see.

    Read under the principal's row limits, so a region-limited user learns nothing about other
    regions' latest activity. None when the dataset has no freshness column, or when the
    principal reads that column masked (its latest value would be a value they may not see).
    """
    if dataset.freshness is None or dataset.freshness.column in plan.masks:
        return None
    bind = _Binder()
    latest = exp.Max(this=exp.column(dataset.freshness.column)).as_("latest")
    select = _governed(dataset, plan, bind, dialect).select(latest)
    return _finish(select, dialect, bind, ("latest",), plan)


def reads_values_of(sql: str) -> frozenset[str]:
    """The columns whose values a catalog expression depends on.

    A column that is only counted (`count(col)`) is left out: masks keep NULL as NULL, so the
    count is the same whether the column is read masked or in clear.
    """
    return frozenset(
        column.name
        for column in parse_expression(sql).find_all(exp.Column)
        if not isinstance(column.parent, exp.Count)
    )


def is_plain_column(sql: str) -> bool:
    """Whether a catalog expression is nothing but one column."""
    return isinstance(parse_expression(sql), exp.Column)
