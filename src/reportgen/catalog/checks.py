"""Cross-reference checks a schema cannot express: every name a dataset uses must exist.

Each problem comes with the location (path of keys) of the value at fault, so the loader can
name its line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from reportgen.domain.catalog import PRINCIPAL_ATTRIBUTES, Dataset
from reportgen.domain.sql import CATALOG_DIALECT

Finding = tuple[tuple[str | int, ...], str]


def _parse(sql: str) -> exp.Expr | str:
    try:
        return sqlglot.parse_one(sql, read=CATALOG_DIALECT)
    except ParseError as exc:
        return str(exc).splitlines()[0]


def _expression(
    dataset: Dataset, sql: str, at: tuple[str | int, ...], *, aggregate: bool
) -> Iterator[Finding]:
    parsed = _parse(sql)
    if isinstance(parsed, str):
        yield (*at, "expr"), f"expression does not parse: {parsed}"
        return
    known = {c.name for c in dataset.columns}
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


def _duplicates(kind: str, names: list[str]) -> Iterator[Finding]:
    for name, count in Counter(names).items():
        if count > 1:
            index = len(names) - 1 - names[::-1].index(name)
            yield (kind, index, "name"), f"{kind[:-1]} '{name}' is defined {count} times"


def check_dataset(dataset: Dataset) -> list[Finding]:
    """Every cross-reference problem of `dataset`, in file order."""
    findings: list[Finding] = []
    columns = {c.name: c for c in dataset.columns}
    findings += _duplicates("columns", [c.name for c in dataset.columns])
    findings += _duplicates("dimensions", [d.name for d in dataset.dimensions])
    findings += _duplicates("measures", [m.name for m in dataset.measures])
    clash = {d.name for d in dataset.dimensions} & {m.name for m in dataset.measures}
    findings += [(("measures",), f"'{n}' is both a dimension and a measure") for n in sorted(clash)]
    if dataset.source.sql is not None:
        parsed = _parse(dataset.source.sql)
        if isinstance(parsed, str):
            findings.append((("source", "sql"), f"source SQL does not parse: {parsed}"))
        elif not isinstance(parsed, exp.Query):
            findings.append((("source", "sql"), "source SQL must be a single SELECT"))
    for i, dimension in enumerate(dataset.dimensions):
        if dimension.expr is None and dimension.name not in columns:
            findings.append(
                (
                    ("dimensions", i, "name"),
                    f"dimension '{dimension.name}' is not a column; "
                    "give it an expr or name a column",
                )
            )
        else:
            findings += _expression(dataset, dimension.sql, ("dimensions", i), aggregate=False)
    for i, measure in enumerate(dataset.measures):
        findings += _expression(dataset, measure.expr, ("measures", i), aggregate=True)
    if dataset.time_dimension is not None:
        column = columns.get(dataset.time_dimension.column)
        if column is None:
            findings.append(
                (
                    ("time_dimension", "column"),
                    f"time dimension names unknown column '{dataset.time_dimension.column}'",
                )
            )
        elif not column.type.is_temporal:
            findings.append(
                (
                    ("time_dimension", "column"),
                    f"time dimension '{column.name}' must be a date "
                    f"or timestamp, not {column.type.value}",
                )
            )
    if dataset.freshness is not None and dataset.freshness.column not in columns:
        findings.append(
            (
                ("freshness", "column"),
                f"freshness names unknown column '{dataset.freshness.column}'",
            )
        )
    for i, policy in enumerate(dataset.row_policies):
        if policy.column not in columns:
            findings.append(
                (
                    ("row_policies", i, "column"),
                    f"row policy '{policy.name}' names unknown column '{policy.column}'",
                )
            )
        elif policy.column in {c.name for c in dataset.columns if c.mask is not None}:
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
