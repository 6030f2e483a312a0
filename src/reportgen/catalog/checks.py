"""Cross-reference checks a schema cannot express: every name a dataset uses must exist.

They run on whatever parts of a dataset validated on their own (`DatasetParts`), so a file with
schema errors still gets its references checked, and every problem comes back at once. Each
problem comes with the location (path of keys) of the value at fault, so the loader can name
its line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from reportgen.domain.catalog import (
    PRINCIPAL_ATTRIBUTES,
    Column,
    Dimension,
    Freshness,
    Measure,
    RowPolicy,
    Source,
    TimeDimension,
)
from reportgen.domain.sql import CATALOG_DIALECT

Finding = tuple[tuple[str | int, ...], str]


@dataclass(frozen=True)
class DatasetParts:
    """The parts of a dataset that validated, each list item at its index in the file.

    An item that did not validate is ``None`` (the schema check reports why). Its name, when it
    has one, is still in the ``*_names`` lists: references to it are not reported as unknown,
    and duplicates are found among every name written.
    """

    columns: Sequence[Column | None] = ()
    dimensions: Sequence[Dimension | None] = ()
    measures: Sequence[Measure | None] = ()
    row_policies: Sequence[RowPolicy | None] = ()
    column_names: Sequence[str | None] = ()
    dimension_names: Sequence[str | None] = ()
    measure_names: Sequence[str | None] = ()
    source: Source | None = None
    time_dimension: TimeDimension | None = None
    freshness: Freshness | None = None


def _parse(sql: str) -> exp.Expr | str:
    try:
        return sqlglot.parse_one(sql, read=CATALOG_DIALECT)
    except ParseError as exc:
        return str(exc).splitlines()[0]


def _expression(
    known: set[str], sql: str, at: tuple[str | int, ...], *, aggregate: bool
) -> Iterator[Finding]:
    parsed = _parse(sql)
    if isinstance(parsed, str):
        yield (*at, "expr"), f"expression does not parse: {parsed}"
        return
    for column in parsed.find_all(exp.Column):
        if column.name not in known:
            yield (
                (*at, "expr"),
                (
                    f"expression '{sql}' names unknown column '{column.name}'; "
                    f"columns are: {', '.join(sorted(known))}"
                ),
            )
    has_aggregate = parsed.find(exp.AggFunc) is not None
    if aggregate and not has_aggregate:
        yield (*at, "expr"), f"measure expression '{sql}' must aggregate (sum, count, avg...)"
    if not aggregate and has_aggregate:
        yield (*at, "expr"), f"dimension expression '{sql}' must not aggregate"
    if parsed.find(exp.Subquery, exp.Select) is not None:
        yield (*at, "expr"), "expressions may not contain subqueries"


def _duplicates(kind: str, names: Sequence[str | None]) -> Iterator[Finding]:
    written = [name for name in names if name is not None]
    for name, count in Counter(written).items():
        if count > 1:
            index = len(names) - 1 - list(reversed(names)).index(name)
            yield (kind, index, "name"), f"{kind[:-1]} '{name}' is defined {count} times"


def check_parts(parts: DatasetParts) -> list[Finding]:
    """Every cross-reference problem among the parts that validated."""
    findings: list[Finding] = []
    known = {name for name in parts.column_names if name is not None}
    columns = {c.name: c for c in parts.columns if c is not None}
    findings += _duplicates("columns", parts.column_names)
    findings += _duplicates("dimensions", parts.dimension_names)
    findings += _duplicates("measures", parts.measure_names)
    clash = {n for n in parts.dimension_names if n} & {n for n in parts.measure_names if n}
    findings += [(("measures",), f"'{n}' is both a dimension and a measure") for n in sorted(clash)]
    if parts.source is not None and parts.source.sql is not None:
        parsed = _parse(parts.source.sql)
        if isinstance(parsed, str):
            findings.append((("source", "sql"), f"source SQL does not parse: {parsed}"))
        elif not isinstance(parsed, exp.Query):
            findings.append((("source", "sql"), "source SQL must be a single SELECT"))
    for i, dimension in enumerate(parts.dimensions):
        if dimension is None:
            continue
        if dimension.expr is None and dimension.name not in known:
            findings.append(
                (
                    ("dimensions", i, "name"),
                    f"dimension '{dimension.name}' is not a column; "
                    "give it an expr or name a column",
                )
            )
        else:
            findings += _expression(known, dimension.sql, ("dimensions", i), aggregate=False)
    for i, measure in enumerate(parts.measures):
        if measure is not None:
            findings += _expression(known, measure.expr, ("measures", i), aggregate=True)
    if parts.time_dimension is not None:
        name = parts.time_dimension.column
        column = columns.get(name)
        if name not in known:
            findings.append(
                (("time_dimension", "column"), f"time dimension names unknown column '{name}'")
            )
        elif column is not None and not column.type.is_temporal:
            findings.append(
                (
                    ("time_dimension", "column"),
                    f"time dimension '{column.name}' must be a date "
                    f"or timestamp, not {column.type.value}",
                )
            )
    if parts.freshness is not None and parts.freshness.column not in known:
        findings.append(
            (
                ("freshness", "column"),
                f"freshness names unknown column '{parts.freshness.column}'",
            )
        )
    masked = {c.name for c in columns.values() if c.mask is not None}
    for i, policy in enumerate(parts.row_policies):
        if policy is None:
            continue
        if policy.column not in known:
            findings.append(
                (
                    ("row_policies", i, "column"),
                    f"row policy '{policy.name}' names unknown column '{policy.column}'",
                )
            )
        elif policy.column in masked:
            findings.append(
                (
                    ("row_policies", i, "column"),
                    f"row policy '{policy.name}' filters on masked "
                    f"column '{policy.column}'; filter on an unmasked column",
                )
            )
        if policy.attribute not in PRINCIPAL_ATTRIBUTES:
            findings.append(
                (
                    ("row_policies", i, "attribute"),
                    f"row policy '{policy.name}' names unknown "
                    f"attribute '{policy.attribute}'; known attributes: "
                    f"{', '.join(sorted(PRINCIPAL_ATTRIBUTES))}",
                )
            )
    return findings
