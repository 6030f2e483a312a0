"""`reportgen query`: a governed query from command-line options, as a table, CSV or JSON."""

# Typer commands take their options as parameters.

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from reportgen.cli._app import app
from reportgen.cli._boundary import err, fail, out, sentences, services
from reportgen.domain.catalog import TimeGrain
from reportgen.domain.query import Filter, Operator, QueryRequest, TimePreset, TimeRange
from reportgen.errors import InvalidInput

# Longest first, so that at one position "<=" wins over "<".
_OPERATORS = ("!=", ">=", "<=", "=", ">", "<", "~")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_OPTIONS = {
    "dataset": "--dataset",
    "dimensions": "--dimension",
    "measures": "--measure",
    "limit": "--limit",
    "grain": "--grain",
    "preset": "--preset",
    "start": "--start",
    "end": "--end",
}
_DATE_ERRORS = {"date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"}


def _describe(error: Mapping[str, Any], option: str) -> str:
    """One pydantic error about a command-line value as a sentence (no pydantic jargon)."""
    value = error.get("input")
    kind = error["type"]
    if kind == "string_pattern_mismatch":
        lower = str(value).lower()
        hint = f" (did you mean '{lower}'?)" if _NAME.match(lower) else ""
        return (
            f"{option} '{value}': names are lower-case letters, digits and underscores,"
            f" starting with a letter{hint}"
        )
    if kind == "greater_than_equal":
        return f"{option} must be at least {error['ctx']['ge']}, got {value}"
    if kind in _DATE_ERRORS or kind.startswith("date_"):
        return f"{option} '{value}' is not a date; write YYYY-MM-DD, e.g. 2025-01-31"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{option}: {message}" if option else message


def _sentences(exc: ValidationError, whole: str) -> list[str]:
    problems = []
    for error in exc.errors(include_url=False):
        location = error["loc"]
        option = _OPTIONS.get(str(location[0]), str(location[0])) if location else whole
        problems.append(_describe(error, option))
    return problems


def parse_filter(text: str) -> Filter:
    """`col=value`, `col!=value`, `col>=5`, `col=a|b` (in), `col!=a|b` (not in), `col~text`.

    The operator is the leftmost one in the text, so values may hold operator characters:
    `product~a=b` is "contains a=b". Raises `InvalidInput` with a sentence when it cannot be read.
    """
    found = [(text.find(symbol), -len(symbol), symbol) for symbol in _OPERATORS if symbol in text]
    if not found:
        raise InvalidInput(
            f"--filter '{text}': write COLUMN=VALUE (also !=, >, >=, <, <=, ~ for contains,"
            " a|b for in)"
        )
    position, _, symbol = min(found)
    field, value = text[:position].strip(), text[position + len(symbol) :]
    try:
        if symbol == "~":
            return Filter(field=field, op=Operator.CONTAINS, value=value.strip())
        values = tuple(v.strip() for v in value.split("|"))
        if len(values) > 1 and symbol in {"=", "!="}:
            op = Operator.IN if symbol == "=" else Operator.NOT_IN
            return Filter(field=field, op=op, value=values)
        return Filter(field=field, op=Operator(symbol), value=value.strip())
    except ValidationError as exc:
        raise InvalidInput(
            [_describe(error, f"--filter '{text}': the column") for error in exc.errors()]
        ) from None


def build_request(  # one parameter per command-line option
    dataset: str,
    dimensions: list[str],
    measures: list[str],
    filters: list[str],
    grain: TimeGrain | None,
    preset: TimePreset | None,
    start: str | None,
    end: str | None,
    limit: int | None,
) -> QueryRequest:
    """The query the options describe; `InvalidInput` lists every problem with them at once."""
    problems: list[str] = []
    time_range = None
    if preset or start or end:
        try:
            time_range = TimeRange.model_validate({"preset": preset, "start": start, "end": end})
        except ValidationError as exc:
            problems += _sentences(exc, "time range")
    parsed: list[Filter] = []
    for text in filters:
        try:
            parsed.append(parse_filter(text))
        except InvalidInput as exc:
            problems += exc.problems
    try:
        request = QueryRequest(
            dataset=dataset,
            dimensions=tuple(dimensions),
            measures=tuple(measures),
            filters=tuple(parsed),
            grain=grain,
            time_range=time_range,
            limit=limit,
        )
    except ValidationError as exc:
        problems += _sentences(exc, "query")
    if problems:
        raise InvalidInput(problems)
    return request


def _cell(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int) or (isinstance(value, Decimal) and value == value.to_integral()):
        return f"{value:,.0f}"
    if isinstance(value, float | Decimal):
        return f"{value:,.2f}"
    return str(value)


def _json_default(value: object) -> str | float:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


@app.command()
def query(
    as_user: Annotated[str, typer.Option("--as", help="Run with this user's permissions.")],
    dataset: Annotated[str, typer.Option(help="Dataset name.")],
    dimension: Annotated[list[str] | None, typer.Option(help="Group by (repeatable).")] = None,
    measure: Annotated[list[str] | None, typer.Option(help="Measure (repeatable).")] = None,
    filter_: Annotated[list[str] | None, typer.Option("--filter", help="COLUMN=VALUE…")] = None,
    grain: Annotated[TimeGrain | None, typer.Option(help="Time grain.")] = None,
    preset: Annotated[TimePreset | None, typer.Option(help="Relative time range.")] = None,
    start: Annotated[str | None, typer.Option(help="From this day (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="Up to, not including, this day.")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many rows.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Run a governed query as a user: their row policies and masks apply."""
    if fmt not in {"table", "csv", "json"}:
        fail(f"--format {fmt!r}: choose table, csv or json")
    with sentences():
        request = build_request(
            dataset, dimension or [], measure or [], filter_ or [], grain, preset, start, end,
            limit,
        )  # fmt: skip
    with services() as svc:
        result = svc.queries.run(svc.users.principal(as_user), request)
    frame = result.frame
    if fmt == "csv":
        sys.stdout.write(frame.to_csv(index=False))
    elif fmt == "json":
        records = frame.to_dict(orient="records")
        sys.stdout.write(json.dumps(records, default=_json_default, indent=2) + "\n")
    else:
        table = Table(*map(str, frame.columns))
        for row in frame.itertuples(index=False):
            table.add_row(*(_cell(v) for v in row))
        out.print(table)
        rows = f"{result.row_count:,} row{'' if result.row_count == 1 else 's'}"
        err.print(
            f"{rows} · query {result.query_hash[:12]} · dataset "
            f"{result.dataset} {result.dataset_version} · {result.elapsed_ms:.0f} ms",
            highlight=False,
        )
