"""What a person asks of a dataset: dimensions, measures, filters, grain, time range, sort, limit.

A `QueryRequest` is checked against its dataset with `check_request`, which reports every
problem at once and returns the request with filter values coerced to the columns' types.
A column the principal reads masked holds text (a hash, a marker, the last four characters)
whatever its declared type, so its filters are checked and bound as text.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reportgen.domain.catalog import ColumnType, Dataset, Identifier, TimeGrain
from reportgen.errors import InvalidInput

Scalar = str | int | float | Decimal | bool | date | datetime


class Operator(StrEnum):
    EQ = "="
    NE = "!="
    IN = "in"
    NOT_IN = "not in"
    BETWEEN = "between"
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    CONTAINS = "contains"

    @property
    def takes_list(self) -> bool:
        return self in {Operator.IN, Operator.NOT_IN}


class Filter(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    field: Identifier
    op: Operator = Operator.EQ
    value: Scalar | tuple[Scalar, ...]

    def describe(self) -> str:
        return f"{self.field} {self.op.value} {self.spoken_value()}"

    def spoken_value(self) -> str:
        """The value as a reader would write it: "1,000,000" rather than "1000000.0", a range
        as "10 and 2,000.5". Lists keep plain numbers: their commas separate the values."""
        if not isinstance(self.value, tuple):
            return _spoken(self.value)
        if self.op is Operator.BETWEEN and len(self.value) == 2:
            return " and ".join(_spoken(v) for v in self.value)
        return ", ".join(_spoken(v, grouped=False) for v in self.value)


def _spoken(value: Scalar, *, grouped: bool = True) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return str(value)
    number = Decimal(str(value))
    if not number.is_finite():
        return str(value)
    if number == number.to_integral_value():
        whole = int(number)  # exact, however large: no rounding to the context's precision
        return f"{whole:,}" if grouped else str(whole)
    return f"{number.normalize():,f}" if grouped else f"{number.normalize():f}"


class TimePreset(StrEnum):
    LAST_7_DAYS = "last_7_days"
    LAST_30_DAYS = "last_30_days"
    LAST_90_DAYS = "last_90_days"
    MONTH_TO_DATE = "month_to_date"
    QUARTER_TO_DATE = "quarter_to_date"
    YEAR_TO_DATE = "year_to_date"
    LAST_MONTH = "last_month"
    LAST_QUARTER = "last_quarter"
    LAST_YEAR = "last_year"


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


class TimeRange(BaseModel):
    """A half-open range of days, [start, end), either explicit or a preset relative to today."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    preset: TimePreset | None = None
    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.preset is not None and (self.start or self.end):
            raise ValueError("give either a preset or start/end dates, not both")
        if self.preset is None and self.start is None and self.end is None:
            raise ValueError("give a preset or at least one of start and end")
        if self.start and self.end and self.start >= self.end:
            raise ValueError(f"start {self.start} must be before end {self.end}")
        return self

    def resolve(self, today: date) -> tuple[date | None, date | None]:
        """The concrete [start, end) for this range, with presets counted back from `today`."""
        tomorrow = today + timedelta(days=1)
        match self.preset:
            case None:
                return self.start, self.end
            case TimePreset.LAST_7_DAYS:
                return tomorrow - timedelta(days=7), tomorrow
            case TimePreset.LAST_30_DAYS:
                return tomorrow - timedelta(days=30), tomorrow
            case TimePreset.LAST_90_DAYS:
                return tomorrow - timedelta(days=90), tomorrow
            case TimePreset.MONTH_TO_DATE:
                return today.replace(day=1), tomorrow
            case TimePreset.QUARTER_TO_DATE:
                return _quarter_start(today), tomorrow
            case TimePreset.YEAR_TO_DATE:
                return date(today.year, 1, 1), tomorrow
            case TimePreset.LAST_MONTH:
                this_month = today.replace(day=1)
                return (this_month - timedelta(days=1)).replace(day=1), this_month
            case TimePreset.LAST_QUARTER:
                this_quarter = _quarter_start(today)
                return _quarter_start(this_quarter - timedelta(days=1)), this_quarter
            case TimePreset.LAST_YEAR:
                return date(today.year - 1, 1, 1), date(today.year, 1, 1)


class SortKey(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    field: Identifier
    descending: bool = False


class QueryRequest(BaseModel):
    """An aggregate query: group by `dimensions` (and the time grain), compute `measures`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset: Identifier
    dimensions: tuple[Identifier, ...] = ()
    measures: tuple[Identifier, ...] = ()
    filters: tuple[Filter, ...] = ()
    grain: TimeGrain | None = None
    time_range: TimeRange | None = None
    sort: tuple[SortKey, ...] = ()
    limit: int | None = Field(default=None, ge=1)

    def grain_column(self, dataset: Dataset) -> str | None:
        """The output name of the time bucket, e.g. ``order_date__month``."""
        if self.grain is None or dataset.time_dimension is None:
            return None
        return f"{dataset.time_dimension.column}__{self.grain.value}"

    def output_columns(self, dataset: Dataset) -> tuple[str, ...]:
        bucket = self.grain_column(dataset)
        return (*((bucket,) if bucket else ()), *self.dimensions, *self.measures)


_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def coerce_value(value: Scalar, kind: ColumnType) -> Scalar:
    """Turn a filter value into the column's type, or raise ValueError naming the type."""
    if kind is ColumnType.STRING:
        if isinstance(value, str):
            return value
        raise ValueError("text")
    if isinstance(value, bool):
        if kind is ColumnType.BOOLEAN:
            return value
        raise ValueError(kind.value)
    try:
        match kind:
            case ColumnType.INTEGER:
                if isinstance(value, int):
                    return value
                if isinstance(value, float | Decimal) and value == int(value):
                    return int(value)
                if isinstance(value, str):
                    return int(value.strip())
            case ColumnType.DECIMAL:
                if isinstance(value, int | float | Decimal):
                    return Decimal(str(value))
                if isinstance(value, str):
                    return Decimal(value.strip())
            case ColumnType.BOOLEAN:
                if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                    return value.strip().lower() in _TRUE
            case ColumnType.DATE:
                if isinstance(value, datetime):
                    return value.date()
                if isinstance(value, date):
                    return value
                if isinstance(value, str):
                    return date.fromisoformat(value.strip())
            case ColumnType.TIMESTAMP:
                if isinstance(value, datetime):
                    return value
                if isinstance(value, date):
                    return datetime(value.year, value.month, value.day)
                if isinstance(value, str):
                    return datetime.fromisoformat(value.strip())
    except (ValueError, InvalidOperation):
        pass
    raise ValueError(
        {
            ColumnType.INTEGER: "a whole number",
            ColumnType.DECIMAL: "a number",
            ColumnType.BOOLEAN: "true or false",
            ColumnType.DATE: "a date (YYYY-MM-DD)",
            ColumnType.TIMESTAMP: "a date and time (YYYY-MM-DDTHH:MM)",
        }.get(kind, kind.value)
    )


def _check_filter(
    dataset: Dataset, flt: Filter, masked: Collection[str], problems: list[str]
) -> Filter | None:
    dimension = dataset.dimension(flt.field)
    column = dataset.column(flt.field)
    if dimension is not None:
        is_masked = dimension.sql in masked  # a dimension that is one masked column
        kind = ColumnType.STRING if is_masked else dataset.dimension_type(dimension)
    elif column is not None:
        is_masked = column.name in masked
        kind = ColumnType.STRING if is_masked else column.type
    else:
        allowed = sorted({d.name for d in dataset.dimensions} | {c.name for c in dataset.columns})
        problems.append(
            f"filter on '{flt.field}': no such field in {dataset.name}; "
            f"filter on one of: {', '.join(allowed)}"
        )
        return None
    values = flt.value if isinstance(flt.value, tuple) else (flt.value,)
    expected = {Operator.BETWEEN: 2}.get(flt.op)
    if flt.op.takes_list and not values:
        problems.append(f"filter on '{flt.field}': '{flt.op.value}' needs at least one value")
        return None
    if expected is not None and len(values) != expected:
        problems.append(f"filter on '{flt.field}': 'between' needs exactly two values (low, high)")
        return None
    if not flt.op.takes_list and expected is None and len(values) != 1:
        problems.append(f"filter on '{flt.field}': '{flt.op.value}' takes one value")
        return None
    if flt.op is Operator.CONTAINS and kind is not ColumnType.STRING:
        problems.append(f"filter on '{flt.field}': 'contains' works on text, not {kind.value}")
        return None
    if is_masked:
        # Compared with masked text: a number or a date typed by the user is that text.
        values = tuple(v if isinstance(v, str) else str(v) for v in values)
    try:
        coerced = tuple(coerce_value(v, kind) for v in values)
    except ValueError as exc:
        bad = next(v for v in values if not _coerces(v, kind))
        problems.append(f"filter on '{flt.field}': expected {exc}, got {bad!r}")
        return None
    value = coerced if (flt.op.takes_list or expected) else coerced[0]
    return flt.model_copy(update={"value": value})


def _coerces(value: Scalar, kind: ColumnType) -> bool:
    try:
        coerce_value(value, kind)
    except ValueError:
        return False
    return True


def check_request(
    dataset: Dataset, request: QueryRequest, masked: Collection[str] = ()
) -> QueryRequest:
    """Validate `request` against `dataset`; raise InvalidInput listing every problem.

    `masked` names the columns the principal reads masked: filters on them compare text.
    """
    problems: list[str] = []
    dims = {d.name for d in dataset.dimensions}
    measures = {m.name for m in dataset.measures}
    for name in request.dimensions:
        if name not in dims:
            problems.append(
                f"unknown dimension '{name}' in {dataset.name}; "
                f"choose from: {', '.join(sorted(dims))}"
            )
    for name in request.measures:
        if name not in measures:
            problems.append(
                f"unknown measure '{name}' in {dataset.name}; "
                f"choose from: {', '.join(sorted(measures))}"
            )
    for label, names in (("dimension", request.dimensions), ("measure", request.measures)):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            problems.append(f"{label} listed twice: {', '.join(duplicates)}")
    if not request.dimensions and not request.measures and request.grain is None:
        problems.append("ask for at least one dimension, measure or time grain")
    if request.grain is not None or request.time_range is not None:
        if dataset.time_dimension is None:
            problems.append(
                f"{dataset.name} has no time dimension; remove the grain and time range"
            )
        elif request.grain is not None and request.grain not in dataset.time_dimension.grains:
            grains = ", ".join(g.value for g in dataset.time_dimension.grains)
            problems.append(f"grain '{request.grain.value}' is not offered; choose from: {grains}")
    filters = tuple(
        f for f in (_check_filter(dataset, flt, masked, problems) for flt in request.filters) if f
    )
    outputs = set(request.output_columns(dataset))
    for key in request.sort:
        if key.field not in outputs:
            problems.append(
                f"cannot sort by '{key.field}': sort by a selected column "
                f"({', '.join(request.output_columns(dataset)) or 'none selected'})"
            )
    if problems:
        raise InvalidInput(problems)
    return request.model_copy(update={"filters": filters})
