"""Charts: a chart block plus its query result becomes one plotly figure.

The same figure serves the interactive preview, the standalone HTML export and the PDF (as a
static image, see `reportgen.rendering.images`). Titles and number formats come from the
catalog, colours and fonts from the house theme. Equal input gives an equal figure, down to
the JSON: categories are ordered by rules (time ascending, bars by size, series and facets in
natural order, so P2 comes before P10), never by chance, and no ids are generated. Text taken
from the data is HTML-escaped, because plotly reads a little HTML in labels. A chart shows no
more series than the palette has colours: the smaller ones fold into "Other".
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import pandas as pd
import plotly.graph_objects as go
from babel.numbers import get_currency_symbol
from plotly.subplots import make_subplots

from reportgen.domain.catalog import Dataset, MeasureFormat, TimeGrain
from reportgen.domain.spec import ChartBlock, ChartKind
from reportgen.errors import InternalError
from reportgen.rendering import theme

NO_DATA_TEXT = "No data for this selection"
BLANK_LABEL = "(blank)"
OTHER_LABEL = "Other"
MAX_FACETS = 12
"""More small multiples than this are unreadable on a page; the largest are kept, with a note."""
MAX_SERIES = len(theme.OKABE_ITO)
"""One colour per series: beyond the palette the largest are kept and the rest fold into "Other"."""
_NON_ADDITIVE = ("avg(", "/", "distinct", "min(", "max(", "median", "percentile", "stddev")
"""Expression parts that make a measure's values unsafe to add up across categories."""
_NICE_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)
_DIGITS = re.compile(r"(\d+)")
MAX_CELL_LABELS = 120
"""A heatmap with more cells than this shows its values on hover and in the colour bar only."""
HORIZONTAL_BAR_CATEGORIES = 12
HORIZONTAL_BAR_LABEL_CHARS = 14
MARKERS_UP_TO_POINTS = 24
"""Lines with this many points or fewer also mark each point (easier to read on paper)."""

_TIME_TICKS: dict[TimeGrain | None, tuple[str, str]] = {
    # grain: (tick format, hover format), d3-time-format
    TimeGrain.DAY: ("%d %b %Y", "%a %d %b %Y"),
    TimeGrain.WEEK: ("%d %b %Y", "Week of %d %b %Y"),
    TimeGrain.MONTH: ("%b %Y", "%B %Y"),
    TimeGrain.QUARTER: ("Q%q %Y", "Q%q %Y"),
    TimeGrain.YEAR: ("%Y", "%Y"),
    None: ("", "%d %b %Y"),
}

_BUCKET_MONTHS: dict[TimeGrain | None, int] = {
    TimeGrain.MONTH: 1,
    TimeGrain.QUARTER: 3,
    TimeGrain.YEAR: 12,
}
"""Calendar buckets whose axis gets one tick per bucket, by their length in months."""


class ChartDataError(InternalError):
    """The frame does not hold the columns the chart block needs: a bug in the caller."""


@dataclass(frozen=True)
class ValueFormat:
    """How the numbers of one measure read on an axis, in a hover label and in a cell."""

    prefix: str
    suffix: str
    tickformat: str  # "" leaves ticks to plotly: thousands separated, 1.5M / 2B suffixes
    hover: str  # d3-format spec for a single value
    compact: str  # d3-format spec where space is short (heatmap cells)

    def template(self, variable: str, spec: str | None = None) -> str:
        """A plotly template fragment such as ``$%{y:,.2f}``."""
        return f"{self.prefix}%{{{variable}:{spec or self.hover}}}{self.suffix}"

    def axis(self) -> dict[str, Any]:
        return {
            "tickprefix": self.prefix,
            "ticksuffix": self.suffix,
            "tickformat": self.tickformat,
            "hoverformat": self.hover,
        }


def currency_symbol(currency: str) -> str:
    """The symbol to print before amounts: "$", "€", or "CHF " for codes without one."""
    symbol = get_currency_symbol(currency, locale="en_US")
    return f"{symbol}\u00a0" if symbol.isalpha() else symbol


def value_format(fmt: MeasureFormat, currency: str = "USD") -> ValueFormat:
    """The display rules of a catalog measure format. Percent measures hold fractions (0.12)."""
    match fmt:
        case MeasureFormat.CURRENCY:
            return ValueFormat(currency_symbol(currency), "", "", ",.2f", ".3~s")
        case MeasureFormat.PERCENT:
            return ValueFormat("", "", ".1~%", ".1%", ".0%")
        case MeasureFormat.INTEGER:
            return ValueFormat("", "", "", ",d", ".3~s")
        case _:
            return ValueFormat("", "", "", ",.2~f", ".3~s")


def label_of(dataset: Dataset, name: str) -> str:
    """The catalog's label for a measure, dimension or column name."""
    if (measure := dataset.measure(name)) is not None:
        return measure.label
    if (dimension := dataset.dimension(name)) is not None:
        return dimension.label
    return name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class _X:
    column: str
    title: str
    kind: Literal["time", "category", "measure"]
    grain: TimeGrain | None = None


@dataclass(frozen=True)
class _Series:
    name: str  # legend text, already escaped
    measure: str
    color_value: str | None  # the row filter on block.color, if split by colour
    axis: Literal["y", "y2"] = "y"


def build_figure(
    block: ChartBlock,
    frame: pd.DataFrame,
    *,
    x_column: str,
    dataset: Dataset,
    currency: str = "USD",
) -> go.Figure:
    """The plotly figure of a chart block over its query result.

    `frame` holds `x_column` (a dimension, a time bucket such as ``order_date__month``, or for
    a scatter the x measure), the block's colour, facet and detail columns when set, and the
    measures in `block.y`. An empty frame gives a figure that says "No data for this selection".
    """
    needed = [x_column, *block.y]
    needed += [name for name in (block.color, block.facet) if name is not None]
    missing = [name for name in dict.fromkeys(needed) if name not in frame.columns]
    if missing:
        raise ChartDataError(
            f"chart '{block.title}': the query result lacks column(s) {', '.join(missing)}"
        )
    x = _resolve_x(block, dataset, x_column)
    data = _normalise(block, frame, x, dataset)
    if data.empty or data[list(block.y)].isna().all(axis=None):
        return empty_figure()
    return _ChartBuilder(block, data, x, dataset, currency).figure()


def empty_figure(text: str = NO_DATA_TEXT) -> go.Figure:
    """A blank chart carrying only `text`, for a query that returned no rows."""
    return go.Figure(
        layout={
            "template": theme.house_template(),
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "showlegend": False,
            "annotations": [
                {
                    "text": text,
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                    "showarrow": False,
                    "font": {"size": theme.FONT_SIZE + 2, "color": theme.MUTED_COLOR},
                }
            ],
        }
    )


def print_size(fig: go.Figure) -> tuple[int, int]:
    """The CSS-pixel size to render `fig` at for a portrait A4 text column."""
    height = fig.layout.height
    return theme.PRINT_WIDTH_PX, int(height) if height else theme.PRINT_HEIGHT_PX


def _resolve_x(block: ChartBlock, dataset: Dataset, x_column: str) -> _X:
    if block.chart is ChartKind.SCATTER:
        return _X(x_column, label_of(dataset, x_column), "measure")
    base, _, suffix = x_column.rpartition("__")
    if base and suffix in TimeGrain.__members__.values():
        grain = TimeGrain(suffix)
        return _X(x_column, f"{label_of(dataset, base)} ({grain.value})", "time", grain)
    dimension = dataset.dimension(x_column)
    temporal = dimension is not None and dataset.dimension_type(dimension).is_temporal
    time_column = dataset.time_dimension.column if dataset.time_dimension else None
    if temporal or x_column == time_column:
        return _X(x_column, label_of(dataset, x_column), "time")
    return _X(x_column, label_of(dataset, x_column), "category")


def _text(value: object) -> str:
    """A category value as safe label text."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return BLANK_LABEL
    return html.escape(str(value), quote=False)


def _normalise(block: ChartBlock, frame: pd.DataFrame, x: _X, dataset: Dataset) -> pd.DataFrame:
    """JSON-ready columns: dates as ISO text, categories as escaped text, numbers as floats."""
    out = pd.DataFrame(index=range(len(frame)))
    measures = dict.fromkeys((*block.y, x.column) if x.kind == "measure" else block.y)
    for name in measures:
        out[name] = pd.to_numeric(frame[name].to_numpy(), errors="coerce").astype("float64")
    if x.kind == "time":
        stamps = pd.to_datetime(pd.Series(frame[x.column].to_numpy()), errors="coerce")
        with_time = bool((stamps.dropna() != stamps.dropna().dt.normalize()).any())
        pattern = "%Y-%m-%d %H:%M:%S" if with_time else "%Y-%m-%d"
        out[x.column] = stamps.dt.strftime(pattern).to_numpy()
        out = out[out[x.column].notna()]
    elif x.kind == "category":
        out[x.column] = [_text(v) for v in frame[x.column].tolist()]
    splits = [n for n in (block.color, block.facet, block.detail) if n in frame.columns]
    for split in splits:
        if split not in out.columns:
            out[split] = [_text(v) for v in frame[split].tolist()]
    # A canonical row order: a warehouse returns groups in any order, the figure must not care.
    order = list(dict.fromkeys([x.column, *splits, *out.columns]))
    return out.sort_values(order, kind="stable", na_position="last").reset_index(drop=True)


def _natural_key(text: str) -> tuple[bool, tuple[tuple[int, int, str], ...], str]:
    """Sort key reading numbers inside labels as numbers (P2 < P10); blanks and "Other" last."""
    parts = tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in _DIGITS.split(text)
        if part
    )
    return text in {BLANK_LABEL, OTHER_LABEL}, parts, text


def _natural(values: Iterable[str]) -> list[str]:
    """Distinct values in natural order."""
    return sorted(set(values), key=_natural_key)


def _ranked(values: Iterable[str], weights: pd.Series | None = None) -> list[str]:
    """Distinct values, largest weight first (ties and no weights: natural order), stably."""
    distinct = _natural(values)
    if weights is None:
        return distinct
    return sorted(distinct, key=lambda v: -abs(float(weights.get(v, 0.0))))


def _nice_step(top: float, intervals: int, *, integer: bool) -> float:
    """The smallest round step (1, 2, 2.5 or 5 times a power of ten) covering `top`."""
    raw = top / intervals
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in _NICE_STEPS:
        step = power * factor
        if step >= raw * (1 - 1e-9) and not (integer and step != math.floor(step)):
            return step
    return max(power * 10.0, 1.0) if integer else power * 10.0


def _shared_ticks(
    top: float, top2: float, *, integer: tuple[bool, bool]
) -> tuple[int, float, float]:
    """Intervals and round steps for two value axes whose ticks meet the same grid lines."""
    candidates = []
    for intervals in (5, 4, 6):
        step = _nice_step(top, intervals, integer=integer[0])
        step2 = _nice_step(top2, intervals, integer=integer[1])
        waste = (1 - top / (intervals * step)) + (1 - top2 / (intervals * step2))
        candidates.append((round(waste, 9), intervals, step, step2))
    _, intervals, step, step2 = min(candidates, key=lambda c: c[0])
    return intervals, step, step2


def _facet_grid(count: int) -> tuple[int, int]:
    """Rows and columns for `count` small multiples on a portrait page."""
    cols = 1 if count == 1 else 2 if count in {2, 4} else 3
    return math.ceil(count / cols), cols


class _ChartBuilder:
    def __init__(
        self, block: ChartBlock, data: pd.DataFrame, x: _X, dataset: Dataset, currency: str
    ) -> None:
        self.block = block
        self.data = data
        self.x = x
        self.dataset = dataset
        self.currency = currency
        self.y0 = block.y[0]
        self.notes: list[str] = []
        self.legend_note = ""
        self.folded = False  # whether an "Other" series sums the smaller colour values
        self.facets = self._facets()
        self._fold_colours()
        self.rows, self.cols = _facet_grid(len(self.facets))

    # --- shape -------------------------------------------------------------------------------

    def fmt(self, measure: str) -> ValueFormat:
        found = self.dataset.measure(measure)
        return value_format(found.format if found else MeasureFormat.NUMBER, self.currency)

    def _totals(self, column: str) -> pd.Series:
        return self.data.groupby(column, sort=True)[self.y0].sum(min_count=1).fillna(0.0)

    def _facets(self) -> list[str | None]:
        facet = self.block.facet
        if facet is None:
            return [None]
        names = _natural(self.data[facet])
        if len(names) > MAX_FACETS:
            keep = set(_ranked(names, self._totals(facet))[:MAX_FACETS])
            self.notes.append(
                f"Showing the {MAX_FACETS} largest of {len(names)} "
                f"{html.escape(label_of(self.dataset, facet))} values."
            )
            names = [n for n in names if n in keep]
            self.data = self.data[self.data[facet].isin(keep)]
        return list(names)

    def additive(self, name: str) -> bool:
        """Whether values of the measure may be added up across colour categories."""
        measure = self.dataset.measure(name)
        if measure is None or measure.format is MeasureFormat.PERCENT:
            return False
        expr = measure.expr.casefold()
        return not any(part in expr for part in _NON_ADDITIVE)

    def _fold_colours(self) -> None:
        """Keep one colour per series: the largest colour values, the rest summed or dropped."""
        color = self.block.color
        if color is None or self.block.chart is ChartKind.HEATMAP:
            return
        names = set(self.data[color])
        room = max(MAX_SERIES // len(self.block.y), 2)
        if len(names) <= room:
            return
        ranked = _ranked(names - {OTHER_LABEL}, self._totals(color))
        measures = list(self.block.y)
        if self.x.kind != "measure" and all(self.additive(m) for m in measures):
            keep = set(ranked[: room - 1])
            folded = self.data[color].where(self.data[color].isin(keep), OTHER_LABEL)
            data = self.data.assign(**{color: folded})
            keys = [c for c in data.columns if c not in measures]
            data = data.groupby(keys, sort=False, dropna=False)[measures].sum(min_count=1)
            self.data = (
                data.reset_index()
                .sort_values([*keys, *measures], kind="stable", na_position="last")
                .reset_index(drop=True)
            )
            self.folded = True
            return
        keep = set(ranked[:room])
        self.data = self.data[self.data[color].isin(keep)].reset_index(drop=True)
        self.legend_note = (
            f"The {room} largest of {len(names)} "
            f"{html.escape(label_of(self.dataset, color))} values:"
        )

    @cached_property
    def series(self) -> list[_Series]:
        color = self.block.color
        if color is not None and self.block.chart is not ChartKind.HEATMAP:
            order = _natural(self.data[color])
            return [
                _Series(
                    name if len(self.block.y) == 1 else f"{name} · {self.label(measure)}",
                    measure,
                    name,
                )
                for name in order
                for measure in self.block.y
            ]
        base = self.fmt(self.y0)
        dual = self.block.facet is None and self.block.chart is not ChartKind.STACKED_BAR
        return [
            _Series(
                html.escape(self.label(m)),
                m,
                None,
                "y2" if dual and self.fmt(m) != base else "y",
            )
            for m in self.block.y
        ]

    def label(self, name: str) -> str:
        return label_of(self.dataset, name)

    def x_order(self) -> list[str]:
        values = self.data[self.x.column]
        if self.x.kind == "time":
            return sorted(set(values))
        if self.block.chart in {ChartKind.BAR, ChartKind.STACKED_BAR}:
            return _ranked(values, self._totals(self.x.column))
        return _natural(values)

    def horizontal(self) -> bool:
        if self.x.kind != "category":
            return False
        labels = set(self.data[self.x.column])
        longest = max((len(html.unescape(v)) for v in labels), default=0)
        return len(labels) > HORIZONTAL_BAR_CATEGORIES or longest > HORIZONTAL_BAR_LABEL_CHARS

    def subset(self, facet: str | None, series: _Series | None = None) -> pd.DataFrame:
        rows = self.data
        if facet is not None and self.block.facet is not None:
            rows = rows[rows[self.block.facet] == facet]
        if series is not None and series.color_value is not None and self.block.color:
            rows = rows[rows[self.block.color] == series.color_value]
        return rows

    # --- figure ------------------------------------------------------------------------------

    def figure(self) -> go.Figure:
        kind = self.block.chart
        if kind in {ChartKind.PIE, ChartKind.DONUT}:
            fig = self._pie()
        elif kind is ChartKind.HEATMAP:
            fig = self._heatmap()
        else:
            fig = self._cartesian()
        self._finish(fig)
        return fig

    def _canvas(self, *, domain: bool = False) -> go.Figure:
        titles = None
        if self.block.facet is not None:
            titles = [str(f) for f in self.facets]
        count = len(self.facets)
        cell: dict[str, Any] = {"type": "domain"} if domain else {}
        specs: list[list[dict[str, Any] | None]] = [
            [cell if r * self.cols + c < count else None for c in range(self.cols)]
            for r in range(self.rows)
        ]
        secondary = any(s.axis == "y2" for s in self.series) and not domain
        if secondary:
            specs[0][0] = {"secondary_y": True}
        fig = make_subplots(
            rows=self.rows,
            cols=self.cols,
            specs=specs,
            subplot_titles=titles,
            shared_xaxes="all" if count > 1 else False,
            shared_yaxes="all" if count > 1 else False,
            horizontal_spacing=0.08 if domain else 0.05,
            vertical_spacing=min(0.3 / self.rows, 0.12) if self.rows > 1 else 0.0,
        )
        fig.update_layout(template=theme.house_template())
        if self.block.facet is not None:
            height = self.rows * theme.FACET_ROW_HEIGHT_PX + 90
            fig.update_layout(height=max(height, theme.PRINT_HEIGHT_PX))
            fig.update_annotations(font={"size": theme.FONT_SIZE, "color": theme.TEXT_COLOR})
        return fig

    def _cell(self, index: int) -> tuple[int, int]:
        row, col = divmod(index, self.cols)
        return row + 1, col + 1

    def _cartesian(self) -> go.Figure:
        fig = self._canvas()
        kind = self.block.chart
        horizontal = kind in {ChartKind.BAR, ChartKind.STACKED_BAR} and self.horizontal()
        series = self.series
        in_legend: set[int] = set()
        for index, facet in enumerate(self.facets):
            row, col = self._cell(index)
            for number, one in enumerate(series):
                rows = self.subset(facet, one)
                # One legend entry per series, from the first small multiple that has it.
                first = number not in in_legend and not rows.empty
                if first:
                    in_legend.add(number)
                trace = self._trace(one, rows, number, horizontal, first=first)
                fig.add_trace(trace, row=row, col=col, secondary_y=one.axis == "y2" or None)
        value_axis, category_axis = ("x", "y") if horizontal else ("y", "x")
        self._value_axes(fig, value_axis, series)
        self._category_axis(fig, category_axis, horizontal)
        if kind is ChartKind.STACKED_BAR:
            fig.update_layout(barmode="stack")
        elif kind is ChartKind.BAR:
            fig.update_layout(barmode="group")
        return fig

    def _trace(
        self, one: _Series, rows: pd.DataFrame, number: int, horizontal: bool, *, first: bool
    ) -> go.BaseTraceType:
        color = theme.OKABE_ITO[number % len(theme.OKABE_ITO)]
        if one.color_value == OTHER_LABEL and self.folded:
            color = theme.OTHER_COLOR
        xs = rows[self.x.column].tolist()
        ys = [None if math.isnan(v) else v for v in rows[one.measure].tolist()]
        common: dict[str, Any] = {
            "name": one.name,
            "legendgroup": f"s{number}",
            "showlegend": first,
        }
        fmt = self.fmt(one.measure)
        kind = self.block.chart
        if kind in {ChartKind.BAR, ChartKind.STACKED_BAR}:
            value_var, category_var = ("x", "y") if horizontal else ("y", "x")
            coords = {"x": ys, "y": xs} if horizontal else {"x": xs, "y": ys}
            if kind is ChartKind.BAR:
                # Side by side even when a measure sits on the secondary axis.
                common["offsetgroup"] = str(number)
            return go.Bar(
                **coords,
                **common,
                orientation="h" if horizontal else "v",
                marker={"color": color},
                hovertemplate=self._hover(one, fmt.template(value_var), category_var),
            )
        hover = self._hover(one, fmt.template("y"), "x")
        if kind is ChartKind.SCATTER:
            detail = self.block.detail
            text = rows[detail].tolist() if detail is not None and detail in rows else None
            x_fmt = self.fmt(self.x.column)
            hover = (
                ("%{text}<br>" if text is not None else "")
                + f"{html.escape(self.x.title)}: {x_fmt.template('x')}<br>"
                + f"{html.escape(self.label(one.measure))}: {fmt.template('y')}"
                + self._extra()
            )
            return go.Scatter(
                x=xs,
                y=ys,
                **common,
                text=text,
                mode="markers",
                marker={"color": color, "size": 6, "opacity": 0.75},
                hovertemplate=hover,
            )
        points = len(xs)
        line = go.Scatter(
            x=xs,
            y=ys,
            **common,
            mode="lines+markers" if points <= MARKERS_UP_TO_POINTS else "lines",
            line={"color": color, "width": 2},
            marker={"color": color, "size": 5},
            hovertemplate=hover,
        )
        if kind is ChartKind.AREA:
            # Colour splits are parts of a whole and stack; ratios and separate measures do not.
            measure = self.dataset.measure(one.measure)
            ratio = measure is not None and measure.format is MeasureFormat.PERCENT
            if self.block.color is not None and not ratio:
                line.update(stackgroup="stack")
            else:
                line.update(fill="tozeroy")
        return line

    def _extra(self) -> str:
        return "<extra></extra>" if len(self.series) == 1 else "<extra>%{fullData.name}</extra>"

    def _category_var(self, variable: str) -> str:
        if self.x.kind == "time":
            return f"%{{{variable}|{_TIME_TICKS[self.x.grain][1]}}}"
        return f"%{{{variable}}}"

    def _hover(self, one: _Series, value: str, category_var: str) -> str:
        return (
            f"{html.escape(self.x.title)}: {self._category_var(category_var)}<br>"
            f"{html.escape(self.label(one.measure))}: {value}{self._extra()}"
        )

    def _value_axes(self, fig: go.Figure, axis: str, series: Sequence[_Series]) -> None:
        primary = [s for s in series if s.axis == "y"]
        secondary = [s for s in series if s.axis == "y2"]
        measures = list(dict.fromkeys(s.measure for s in primary))
        title = ", ".join(self.label(m) for m in measures)
        update = fig.update_xaxes if axis == "x" else fig.update_yaxes
        settings = {**self.fmt(measures[0]).axis(), "rangemode": "tozero"}
        if self.block.chart is ChartKind.SCATTER:
            settings["rangemode"] = "normal"
        update(**settings)
        self._title(fig, axis, title)
        if secondary:
            measures2 = list(dict.fromkeys(s.measure for s in secondary))
            fig.update_yaxes(
                **self.fmt(measures2[0]).axis(),
                title_text=html.escape(", ".join(self.label(m) for m in measures2)),
                showgrid=False,
                rangemode="tozero",
                secondary_y=True,
            )
            self._align_ticks(fig, measures, measures2)
        if self.block.chart is ChartKind.SCATTER:
            x_fmt = self.fmt(self.x.column)
            fig.update_xaxes(**x_fmt.axis(), showgrid=True, zeroline=False)

    def _align_ticks(self, fig: go.Figure, measures: list[str], measures2: list[str]) -> None:
        """Round ticks on both value axes, meeting the primary axis's grid lines.

        Left alone, plotly syncs the secondary ticks to the primary grid at odd values (22.94k).
        """
        values = self.data[measures].to_numpy().ravel()
        values2 = self.data[measures2].to_numpy().ravel()
        low = min(pd.Series(values).min(), pd.Series(values2).min())
        top, top2 = pd.Series(values).max(), pd.Series(values2).max()
        if not (low >= 0 and top > 0 and top2 > 0):
            # Negative or empty ranges: let plotly pick round ticks on its own.
            fig.update_yaxes(tickmode="auto", nticks=6, secondary_y=True)
            return
        integer = (
            self.fmt(measures[0]).hover == ",d",
            self.fmt(measures2[0]).hover == ",d",
        )
        intervals, step, step2 = _shared_ticks(float(top), float(top2), integer=integer)
        for on_right, size in ((False, step), (True, step2)):
            fig.update_yaxes(
                tickmode="linear",
                tick0=0,
                dtick=size,
                range=[0, intervals * size],
                secondary_y=on_right,
            )

    def _category_axis(self, fig: go.Figure, axis: str, horizontal: bool) -> None:
        update = fig.update_xaxes if axis == "x" else fig.update_yaxes
        if self.x.kind == "time":
            tick, hover = _TIME_TICKS[self.x.grain]
            update(type="date", tickformat=tick, hoverformat=hover, **self._bucket_ticks())
        elif self.x.kind == "category":
            update(
                type="category",
                categoryorder="array",
                categoryarray=self.x_order(),
                autorange="reversed" if horizontal else True,
                showgrid=False,
            )
        if horizontal:
            fig.update_xaxes(showgrid=True)
            fig.update_yaxes(showgrid=False, ticks="")
        self._title(fig, axis, self.x.title)

    def _bucket_ticks(self) -> dict[str, Any]:
        """One tick per month, quarter or year bucket, and a range over the buckets only.

        Left alone, plotly spaces date ticks by time, not by bucket: a few monthly points get
        two ticks a month (repeated labels), a skipped month or a tick before the period.
        """
        months = _BUCKET_MONTHS.get(self.x.grain)
        buckets = sorted(set(self.data[self.x.column]))
        if months is None or not buckets:
            return {}
        stamps = [pd.Timestamp(b) for b in buckets]
        # Thin the labels of a long series to a round number of buckets (at most 12 ticks).
        every = next((n for n in (1, 2, 3, 4, 6, 12) if len(stamps) <= 12 * n), 12)
        if months >= 12:
            every = max(1, math.ceil(len(stamps) / 12))
        half = pd.Timedelta(days=15 * months)
        return {
            "tickmode": "array",
            "tickvals": buckets[::every],
            "dtick": f"M{months * every}",
            "range": [
                (stamps[0] - half).strftime("%Y-%m-%d"),
                (stamps[-1] + half).strftime("%Y-%m-%d"),
            ],
        }

    def _title(self, fig: go.Figure, axis: str, title: str) -> None:
        """Title the outer axes only: the bottom of each column, the left of each row."""
        text = html.escape(title)
        count = len(self.facets)
        for index in range(count):
            row, col = self._cell(index)
            lowest = index + self.cols >= count
            if axis == "x" and lowest:
                fig.update_xaxes(title_text=text, showticklabels=True, row=row, col=col)
            if axis == "y" and col == 1:
                fig.update_yaxes(title_text=text, row=row, col=col, secondary_y=False)

    def _pie(self) -> go.Figure:
        fig = self._canvas(domain=True)
        fmt = self.fmt(self.y0)
        labels = _ranked(self.data[self.x.column], self._totals(self.x.column))
        colors = {
            label: theme.OKABE_ITO[i % len(theme.OKABE_ITO)] for i, label in enumerate(labels)
        }
        for index, facet in enumerate(self.facets):
            row, col = self._cell(index)
            rows = self.subset(facet)
            rows = rows[rows[self.y0].notna()]
            names = rows[self.x.column].tolist()
            fig.add_trace(
                go.Pie(
                    labels=names,
                    values=rows[self.y0].tolist(),
                    marker={"colors": [colors[n] for n in names]},
                    hole=0.55 if self.block.chart is ChartKind.DONUT else 0.0,
                    sort=True,
                    direction="clockwise",
                    rotation=0,
                    textinfo="percent",
                    textposition="inside",
                    insidetextorientation="horizontal",
                    hovertemplate=(
                        f"{html.escape(self.x.title)}: %{{label}}<br>"
                        f"{html.escape(self.label(self.y0))}: {fmt.template('value')}"
                        "<br>%{percent} of total<extra></extra>"
                    ),
                    name=html.escape(self.label(self.y0)),
                    showlegend=True,
                ),
                row=row,
                col=col,
            )
        fig.update_layout(
            legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"},
            uniformtext={"minsize": theme.FONT_SIZE - 2, "mode": "hide"},
        )
        return fig

    def _heatmap(self) -> go.Figure:
        fig = self._canvas()
        fmt = self.fmt(self.y0)
        row_name = self.block.color or self.x.column
        columns = self.x_order()
        row_labels = _natural(self.data[row_name])
        show_text = len(columns) * len(row_labels) <= MAX_CELL_LABELS
        for index, facet in enumerate(self.facets):
            row, col = self._cell(index)
            rows = self.subset(facet)
            cells = dict(
                zip(
                    zip(rows[row_name], rows[self.x.column], strict=True),
                    rows[self.y0],
                    strict=True,
                )
            )
            z = [
                [_cell_value(cells.get((name, column))) for column in columns]
                for name in row_labels
            ]
            fig.add_trace(
                go.Heatmap(
                    x=columns,
                    y=row_labels,
                    z=z,
                    coloraxis="coloraxis",
                    texttemplate=fmt.template("z", fmt.compact) if show_text else None,
                    textfont={"size": theme.FONT_SIZE - 2},
                    hovertemplate=(
                        f"{html.escape(self.label(row_name))}: %{{y}}<br>"
                        f"{html.escape(self.x.title)}: {self._category_var('x')}<br>"
                        f"{html.escape(self.label(self.y0))}: {fmt.template('z')}<extra></extra>"
                    ),
                    name=html.escape(self.label(self.y0)),
                ),
                row=row,
                col=col,
            )
        fig.update_layout(
            coloraxis={
                "colorbar": {
                    **{k: v for k, v in fmt.axis().items() if k != "hoverformat"},
                    "title": {"text": html.escape(self.label(self.y0)), "side": "right"},
                }
            }
        )
        fig.update_yaxes(
            type="category",
            categoryorder="array",
            categoryarray=row_labels,
            autorange="reversed",
            showgrid=False,
            showline=False,
            ticks="",
        )
        fig.update_xaxes(showline=False, ticks="", showgrid=False, zeroline=False)
        if self.x.kind == "time":
            tick, hover = _TIME_TICKS[self.x.grain]
            fig.update_xaxes(
                type="date", tickformat=tick, hoverformat=hover, **self._bucket_ticks()
            )
        else:
            fig.update_xaxes(type="category", categoryorder="array", categoryarray=columns)
        self._title(fig, "x", self.x.title)
        self._title(fig, "y", self.label(row_name))
        return fig

    def _finish(self, fig: go.Figure) -> None:
        pie = self.block.chart in {ChartKind.PIE, ChartKind.DONUT}
        legend = pie or (len(self.series) > 1 and self.block.chart is not ChartKind.HEATMAP)
        fig.update_layout(showlegend=legend)
        if self.legend_note:
            fig.update_layout(legend_title_text=self.legend_note)
        if self.block.facet is not None:
            # Above the facet titles, which sit on the top edge of the first row.
            fig.update_layout(legend_y=1 + 36 / fig.layout.height)
        elif not legend or pie:
            fig.update_layout(margin_t=12)
        if self.notes:
            # Below the bottom axis titles, in a margin kept for it.
            fig.update_layout(margin_b=72)
            fig.add_annotation(
                text="<br>".join(self.notes),
                xref="paper",
                yref="paper",
                x=0,
                xanchor="left",
                y=0,
                yanchor="top",
                yshift=-50,
                showarrow=False,
                font={"size": theme.FONT_SIZE - 1, "color": theme.MUTED_COLOR},
            )


def _cell_value(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number
