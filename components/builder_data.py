"""The builder's data choices: dataset, period, filters and the report's parameters.

Filters are typed: a dimension gets a searchable multiselect of the values the user may see
(``QueryService.distinct_values``, so row policies apply to the pickers too), a number column a
range with an optional low and high end, and the period a preset or a custom pair of dates.
Filters of a spec that these controls do not model (``contains``, ``not in``...) are kept as
they are and listed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import streamlit as st

from components.builder_problems import ProblemBoard
from components.builder_state import seed_spec, seeded, start_from
from components.builder_templates import blank_spec
from components.session import services
from components.text import plain
from reportgen.domain.catalog import ColumnType, Dataset
from reportgen.domain.principal import Principal
from reportgen.domain.query import Filter, Operator, TimePreset, TimeRange
from reportgen.domain.spec import ReportSpec
from reportgen.errors import NotAllowed, UserError

ALL_TIME = "all"
CUSTOM = "custom"
PERIODS: dict[str, str] = {
    ALL_TIME: "All time",
    TimePreset.LAST_7_DAYS: "Last 7 days",
    TimePreset.LAST_30_DAYS: "Last 30 days",
    TimePreset.LAST_90_DAYS: "Last 90 days",
    TimePreset.MONTH_TO_DATE: "Month to date",
    TimePreset.QUARTER_TO_DATE: "Quarter to date",
    TimePreset.YEAR_TO_DATE: "Year to date",
    TimePreset.LAST_MONTH: "Last month",
    TimePreset.LAST_QUARTER: "Last quarter",
    TimePreset.LAST_YEAR: "Last year",
    CUSTOM: "Custom dates",
}
_NUMBER_TYPES = (ColumnType.INTEGER, ColumnType.DECIMAL)
_PICKER_VALUES = "_builder_picker_values"


@dataclass
class DataChoice:
    """What the data controls say: the parts of the spec they own, and parameter values."""

    dataset: Dataset
    filters: tuple[Filter, ...] = ()
    time_range: TimeRange | None = None
    parameters: dict[str, tuple[str, ...]] = field(default_factory=dict)


def number_columns(dataset: Dataset) -> list[str]:
    """Columns a numeric range can filter: numbers that are not identifiers."""
    return [
        column.name
        for column in dataset.columns
        if column.type in _NUMBER_TYPES and column.name != "id" and not column.name.endswith("_id")
    ]


def picker_values(
    principal: Principal,
    dataset: Dataset,
    dimension: str,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> list[str]:
    """The values of `dimension` the principal may see, kept in the session for the freshness
    TTL: each lookup is a governed, audited query, and a rerun should not repeat it."""
    kept: dict[tuple[str, str, str], tuple[float, list[str]]] = st.session_state.setdefault(
        _PICKER_VALUES, {}
    )
    key = (principal.username, dataset.version, dimension)
    found = kept.get(key)
    if found is not None and clock() - found[0] < services().settings.freshness_ttl_s:
        return found[1]
    values = services().queries.distinct_values(principal, dataset.name, dimension)
    kept[key] = (clock(), sorted({str(v) for v in values}))
    return kept[key][1]


def _change_dataset(principal: Principal, widget: str, title: str) -> None:
    """Callback: a new dataset starts a blank report on it, keeping the title."""
    dataset = services().catalog.dataset(principal, st.session_state[widget])
    start_from(blank_spec(dataset, principal, title=title or "New report"))


def _seeded_filters(
    spec: ReportSpec, dataset: Dataset
) -> tuple[dict[str, list[str]], dict[str, tuple[Any, Any]], list[Filter]]:
    """The spec's filters split into dimension picks, numeric ranges and the rest."""
    picks: dict[str, list[str]] = {}
    ranges: dict[str, tuple[Any, Any]] = {}
    rest: list[Filter] = []
    numbers = set(number_columns(dataset))
    for flt in spec.filters:
        values = flt.value if isinstance(flt.value, tuple) else (flt.value,)
        low, high = ranges.get(flt.field, (None, None))
        if dataset.dimension(flt.field) is not None and flt.op in (Operator.IN, Operator.EQ):
            picks[flt.field] = [*picks.get(flt.field, []), *map(str, values)]
        elif flt.field in numbers and flt.op is Operator.BETWEEN:
            ranges[flt.field] = (values[0], values[1])
        elif flt.field in numbers and flt.op is Operator.GE:
            ranges[flt.field] = (values[0], high)
        elif flt.field in numbers and flt.op is Operator.LE:
            ranges[flt.field] = (low, values[0])
        else:
            rest.append(flt)
    return picks, ranges, rest


def _period(dataset: Dataset, board: ProblemBoard) -> TimeRange | None:
    time = dataset.time_dimension
    if time is None:
        return None
    spec = seed_spec()
    current = spec.time_range
    if current is None:
        period = ALL_TIME
    elif current.preset is not None:
        period = current.preset.value
    else:
        period = CUSTOM
    label = time.column.replace("_", " ").capitalize()
    choice = st.selectbox(
        f"Period ({label})",
        list(PERIODS),
        format_func=PERIODS.__getitem__,
        key=seeded("period", period),
        help="Presets are counted back from the day the report runs.",
    )
    board.slot("time_range")
    if choice == ALL_TIME:
        return None
    if choice != CUSTOM:
        return TimeRange(preset=TimePreset(choice))
    today = date.today()
    start = current.start if current is not None and current.start else today - timedelta(days=30)
    end = current.end - timedelta(days=1) if current is not None and current.end else today
    picked = st.date_input(
        "From and to (both days included)",
        key=seeded("dates", (start, end)),
        format="YYYY-MM-DD",
    )
    days = tuple(picked) if isinstance(picked, tuple | list) else (picked,)
    chosen = [day for day in days if isinstance(day, date)]
    if len(chosen) != 2:
        board.add("time_range", "pick the last day of the period too (click a second date)")
        return None
    first, last = sorted(chosen)
    return TimeRange(start=first, end=last + timedelta(days=1))


def _dimension_filters(
    principal: Principal, dataset: Dataset, picks: dict[str, list[str]], board: ProblemBoard
) -> list[Filter]:
    labels = {d.name: d.label for d in dataset.dimensions}
    chosen = st.multiselect(
        "Filter by",
        list(labels),
        format_func=labels.__getitem__,
        key=seeded("filter_dimensions", [name for name in picks if name in labels]),
        placeholder="Choose dimensions to filter on",
    )
    filters = []
    for name in chosen:
        try:
            values = picker_values(principal, dataset, name)
        except UserError as exc:
            board.slot(f"filters.{name}")
            board.add(f"filters.{name}", str(exc))
            continue
        options = sorted({*values, *picks.get(name, [])})
        selected = st.multiselect(
            labels[name],
            options,
            key=seeded(f"filter_{name}", picks.get(name, [])),
            placeholder=f"Every {labels[name].lower()} you may see (type to search)",
        )
        board.slot(f"filters.{name}")
        if selected:
            filters.append(Filter(field=name, op=Operator.IN, value=tuple(selected)))
    return filters


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _range_filters(
    dataset: Dataset, ranges: dict[str, tuple[Any, Any]], board: ProblemBoard
) -> list[Filter]:
    columns = number_columns(dataset)
    if not columns:
        return []
    chosen = st.multiselect(
        "Numeric ranges on",
        columns,
        format_func=lambda name: name.replace("_", " ").capitalize(),
        key=seeded("range_columns", [name for name in ranges if name in columns]),
        placeholder="Choose number columns to limit",
    )
    filters = []
    for name in chosen:
        low, high = ranges.get(name, (None, None))
        label = name.replace("_", " ").capitalize()
        left, right = st.columns(2)
        with left:
            minimum = st.number_input(
                f"{label}: at least", key=seeded(f"range_{name}_min", _number(low)), value=None
            )
        with right:
            maximum = st.number_input(
                f"{label}: at most", key=seeded(f"range_{name}_max", _number(high)), value=None
            )
        board.slot(f"filters.{name}")
        if minimum is not None and maximum is not None:
            if minimum > maximum:
                board.add(
                    f"filters.{name}",
                    f"{label}: the lowest value ({minimum:g}) is above the highest "
                    f"({maximum:g}); swap them",
                )
                continue
            filters.append(
                Filter(
                    field=name,
                    op=Operator.BETWEEN,
                    value=(Decimal(str(minimum)), Decimal(str(maximum))),
                )
            )
        elif minimum is not None:
            filters.append(Filter(field=name, op=Operator.GE, value=Decimal(str(minimum))))
        elif maximum is not None:
            filters.append(Filter(field=name, op=Operator.LE, value=Decimal(str(maximum))))
    return filters


def _parameters(
    principal: Principal, spec: ReportSpec, dataset: Dataset, board: ProblemBoard
) -> dict[str, tuple[str, ...]]:
    values: dict[str, tuple[str, ...]] = {}
    for parameter in spec.parameters:
        try:
            visible = picker_values(principal, dataset, parameter.field)
        except UserError as exc:
            board.slot(f"parameters.{parameter.name}")
            board.add(f"parameters.{parameter.name}", str(exc))
            continue
        options = sorted({*visible, *parameter.default})
        title = parameter.title or parameter.name.replace("_", " ").capitalize()
        # A reader who may see one value only has nothing to choose: it is theirs already.
        first = list(parameter.default) or (list(visible) if len(visible) == 1 else [])
        chosen = st.multiselect(
            f"{title} ({'required; ' if parameter.required else ''}a schedule sets it per run)",
            options,
            key=seeded(f"param_{parameter.name}", first),
            placeholder="Choose values",
            help="A report parameter: chosen here for the preview and exports, and by each "
            "schedule for its recipients.",
        )
        board.slot(f"parameters.{parameter.name}")
        if chosen:
            values[parameter.name] = tuple(chosen)
        elif parameter.required:
            board.add(f"parameters.{parameter.name}", f"choose at least one {title.lower()}")
    return values


def data_controls(principal: Principal, title: str, board: ProblemBoard) -> DataChoice:
    """Draw the dataset, period, filter and parameter controls; return what they say."""
    spec = seed_spec()
    catalog = services().catalog
    datasets = {d.name: d for d in catalog.datasets(principal)}
    if spec.dataset not in datasets:
        raise NotAllowed(
            f"you may not use the dataset '{spec.dataset}'; start from another template"
        )
    widget = seeded("dataset", spec.dataset)
    st.selectbox(
        "Dataset",
        list(datasets),
        format_func=lambda name: datasets[name].title,
        key=widget,
        on_change=_change_dataset,
        args=(principal, widget, title),
        help="Changing the dataset starts a new report on it.",
    )
    board.slot("dataset")
    dataset = datasets[spec.dataset]
    picks, ranges, rest = _seeded_filters(spec, dataset)
    choice = DataChoice(dataset=dataset)
    choice.time_range = _period(dataset, board)
    filters = _dimension_filters(principal, dataset, picks, board)
    filters += _range_filters(dataset, ranges, board)
    if rest:
        st.caption("Also filtered by: " + "; ".join(plain(flt.describe()) for flt in rest) + ".")
    board.slot("filters")
    choice.filters = (*filters, *rest)
    choice.parameters = _parameters(principal, spec, dataset, board)
    board.slot("parameters")
    return choice
