"""Chart blocks become plotly figures: every kind, catalog labels, formats, no data, stability."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from reportgen.catalog.loader import load_catalog
from reportgen.domain.catalog import Dataset, MeasureFormat
from reportgen.domain.spec import ChartBlock, ChartKind
from reportgen.rendering import theme
from reportgen.rendering.charts import (
    MAX_FACETS,
    MAX_SERIES,
    NO_DATA_TEXT,
    OTHER_LABEL,
    ChartDataError,
    build_figure,
    currency_symbol,
    print_size,
    value_format,
)

CATALOG_DIR = Path(__file__).resolve().parents[2] / "catalog"
MONTHS = pd.date_range("2026-01-01", periods=6, freq="MS")
REGIONS = ["EMEA", "Americas", "APAC"]


@pytest.fixture(scope="module")
def sales() -> Dataset:
    dataset = load_catalog(CATALOG_DIR).get("sales")
    assert dataset is not None
    return dataset


def monthly(*measures: str, by: str | None = None) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for i, month in enumerate(MONTHS):
        for j, region in enumerate(REGIONS if by else [None]):
            row: dict[str, Any] = {"order_date__month": month}
            if by:
                row[by] = region
            for k, measure in enumerate(measures):
                row[measure] = 1000.0 * (i + 1) + 100 * j + k
            rows.append(row)
    return pd.DataFrame(rows)


def by_region(*measures: str) -> pd.DataFrame:
    return pd.DataFrame(
        {"region": REGIONS, **{m: [300.0 + k, 200.0, 100.0] for k, m in enumerate(measures)}}
    )


def grid() -> pd.DataFrame:
    return pd.DataFrame(
        [(m, r, 0.1 * (i + j)) for i, m in enumerate(MONTHS) for j, r in enumerate(REGIONS)],
        columns=["order_date__month", "region", "margin_pct"],
    )


def scatter_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "revenue": [100.0, 250.0, 400.0, 80.0],
            "margin_pct": [0.1, 0.2, 0.35, 0.05],
            "product": ["A", "B", "C", "D"],
        }
    )


# One small, valid case per chart kind: (block, frame, x_column).
CASES: dict[ChartKind, tuple[ChartBlock, pd.DataFrame, str]] = {
    ChartKind.LINE: (
        ChartBlock(title="Revenue", chart=ChartKind.LINE, x="order_date", y=("revenue",)),
        monthly("revenue"),
        "order_date__month",
    ),
    ChartKind.BAR: (
        ChartBlock(title="By region", chart=ChartKind.BAR, x="region", y=("revenue",)),
        by_region("revenue"),
        "region",
    ),
    ChartKind.STACKED_BAR: (
        ChartBlock(
            title="Stacked",
            chart=ChartKind.STACKED_BAR,
            x="order_date",
            y=("units",),
            color="region",
        ),
        monthly("units", by="region"),
        "order_date__month",
    ),
    ChartKind.AREA: (
        ChartBlock(
            title="Area", chart=ChartKind.AREA, x="order_date", y=("revenue",), color="region"
        ),
        monthly("revenue", by="region"),
        "order_date__month",
    ),
    ChartKind.SCATTER: (
        ChartBlock(
            title="Scatter",
            chart=ChartKind.SCATTER,
            x="revenue",
            y=("margin_pct",),
            detail="product",
        ),
        scatter_frame(),
        "revenue",
    ),
    ChartKind.PIE: (
        ChartBlock(title="Share", chart=ChartKind.PIE, x="region", y=("revenue",)),
        by_region("revenue"),
        "region",
    ),
    ChartKind.DONUT: (
        ChartBlock(title="Share", chart=ChartKind.DONUT, x="region", y=("orders",)),
        by_region("orders"),
        "region",
    ),
    ChartKind.HEATMAP: (
        ChartBlock(
            title="Margin",
            chart=ChartKind.HEATMAP,
            x="order_date",
            y=("margin_pct",),
            color="region",
        ),
        grid(),
        "order_date__month",
    ),
}


def test_every_chart_kind_has_a_case() -> None:
    assert set(CASES) == set(ChartKind)


@pytest.mark.parametrize("kind", list(ChartKind))
def test_every_kind_builds_a_themed_figure(kind: ChartKind, sales: Dataset) -> None:
    block, frame, x = CASES[kind]
    fig = build_figure(block, frame, x_column=x, dataset=sales)
    assert len(fig.data) >= 1
    assert list(fig.layout.template.layout.colorway) == list(theme.OKABE_ITO)
    assert fig.layout.template.layout.font.family == theme.FONT_FAMILY
    assert not fig.layout.annotations or fig.layout.annotations[0].text != NO_DATA_TEXT


@pytest.mark.parametrize("kind", list(ChartKind))
def test_equal_input_gives_identical_json(kind: ChartKind, sales: Dataset) -> None:
    block, frame, x = CASES[kind]
    first = build_figure(block, frame, x_column=x, dataset=sales).to_json()
    shuffled = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    second = build_figure(block, shuffled, x_column=x, dataset=sales).to_json()
    assert first == second, "row order from the warehouse must not change the figure"
    assert '"uid"' not in first


def test_time_axis_title_names_the_grain_and_measure_labels_title_y(sales: Dataset) -> None:
    block, frame, x = CASES[ChartKind.LINE]
    fig = build_figure(block, frame, x_column=x, dataset=sales)
    assert fig.layout.xaxis.title.text == "Order date (month)"
    assert fig.layout.xaxis.type == "date"
    assert fig.layout.xaxis.tickformat == "%b %Y"
    assert fig.layout.yaxis.title.text == "Revenue"
    assert list(fig.data[0].x) == [d.strftime("%Y-%m-%d") for d in MONTHS]


def test_dimension_axis_uses_the_catalog_label(sales: Dataset) -> None:
    block, frame, x = CASES[ChartKind.BAR]
    fig = build_figure(block, frame, x_column=x, dataset=sales)
    assert fig.layout.xaxis.title.text == "Region"
    assert fig.layout.xaxis.type == "category"
    assert list(fig.layout.xaxis.categoryarray) == ["EMEA", "Americas", "APAC"]  # largest first


def test_currency_ticks_carry_the_symbol(sales: Dataset) -> None:
    block, frame, x = CASES[ChartKind.LINE]
    usd = build_figure(block, frame, x_column=x, dataset=sales)
    eur = build_figure(block, frame, x_column=x, dataset=sales, currency="EUR")
    assert usd.layout.yaxis.tickprefix == "$"
    assert eur.layout.yaxis.tickprefix == "€"
    assert "€%{y:,.2f}" in eur.data[0].hovertemplate
    assert currency_symbol("CHF") == "CHF\u00a0"


def test_percent_and_integer_formats(sales: Dataset) -> None:
    block, frame, x = CASES[ChartKind.SCATTER]
    fig = build_figure(block, frame, x_column=x, dataset=sales)
    assert fig.layout.yaxis.tickformat == ".1~%"
    assert fig.layout.yaxis.title.text == "Margin %"
    assert fig.layout.xaxis.tickprefix == "$"
    assert fig.layout.xaxis.title.text == "Revenue"
    assert "%{text}" in fig.data[0].hovertemplate  # the detail dimension names each point
    integer = value_format(MeasureFormat.INTEGER)
    assert integer.hover == ",d"
    assert theme.house_template().layout.yaxis.separatethousands is True


def test_stacked_bar_stacks_and_orders_series_by_name(sales: Dataset) -> None:
    block, frame, x = CASES[ChartKind.STACKED_BAR]
    fig = build_figure(block, frame, x_column=x, dataset=sales)
    assert fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == ["APAC", "Americas", "EMEA"]
    assert fig.layout.showlegend is True


def test_series_follow_natural_order_not_size(sales: Dataset) -> None:
    sizes = {"P3": 50.0, "P10": 40.0, "P1": 5.0, "P2": 20.0}
    frame = pd.DataFrame(
        [(m, p, size) for m in MONTHS for p, size in sizes.items()],
        columns=["order_date__month", "priority", "orders"],
    )
    block = ChartBlock(
        title="By priority",
        chart=ChartKind.STACKED_BAR,
        x="order_date",
        y=("orders",),
        color="priority",
    )
    fig = build_figure(block, frame, x_column="order_date__month", dataset=sales)
    assert [t.name for t in fig.data] == ["P1", "P2", "P3", "P10"]


def many_countries(measure: str, count: int) -> pd.DataFrame:
    names = [f"Country {i}" for i in range(count)]
    return pd.DataFrame(
        [(m, name, 10.0 * (i + 1)) for m in MONTHS for i, name in enumerate(names)],
        columns=["order_date__month", "country", measure],
    )


def test_series_beyond_the_palette_fold_into_other(sales: Dataset) -> None:
    count = MAX_SERIES + 3
    block = ChartBlock(
        title="By country", chart=ChartKind.LINE, x="order_date", y=("revenue",), color="country"
    )
    frame = many_countries("revenue", count)
    fig = build_figure(block, frame, x_column="order_date__month", dataset=sales)
    names = [t.name for t in fig.data]
    assert len(names) == MAX_SERIES
    assert names[-1] == OTHER_LABEL
    assert "Country 0" not in names, "the smallest countries fold into Other"
    colours = [t.line.color for t in fig.data]
    assert len(set(colours)) == len(colours), "no two series share a colour"
    other = fig.data[-1]
    folded = count - (MAX_SERIES - 1)
    assert list(other.y) == [10.0 * sum(range(1, folded + 1))] * len(MONTHS)
    assert sum(sum(t.y) for t in fig.data) == pytest.approx(frame["revenue"].sum())


def test_non_additive_series_beyond_the_palette_are_dropped_with_a_note(
    sales: Dataset,
) -> None:
    block = ChartBlock(
        title="Margin", chart=ChartKind.LINE, x="order_date", y=("margin_pct",), color="country"
    )
    frame = many_countries("margin_pct", MAX_SERIES + 2)
    fig = build_figure(block, frame, x_column="order_date__month", dataset=sales)
    names = [t.name for t in fig.data]
    assert len(names) == MAX_SERIES
    assert OTHER_LABEL not in names, "percentages cannot be added up"
    assert f"{MAX_SERIES} largest of {MAX_SERIES + 2}" in fig.layout.legend.title.text


def test_a_second_axis_gets_round_ticks_on_the_same_grid(sales: Dataset) -> None:
    block = ChartBlock(title="Both", chart=ChartKind.BAR, x="category", y=("revenue", "units"))
    frame = pd.DataFrame(
        {
            "category": ["Software", "Hardware", "Services"],
            "revenue": [5_940_036.69, 4_663_679.99, 1_079_930.59],
            "units": [22_712.0, 4_023.0, 13_060.0],
        }
    )
    fig = build_figure(block, frame, x_column="category", dataset=sales)
    left, right = fig.layout.yaxis, fig.layout.yaxis2
    assert (left.tickmode, right.tickmode) == ("linear", "linear")
    assert left.range[1] / left.dtick == pytest.approx(right.range[1] / right.dtick)
    assert left.range[1] >= 5_940_036.69 and right.range[1] >= 22_712
    for step in (left.dtick, right.dtick):
        mantissa = step / 10 ** math.floor(math.log10(step))
        assert round(mantissa, 6) in {1.0, 2.0, 2.5, 5.0}
    assert right.dtick == 5000


def test_donut_has_a_hole_and_pie_none(sales: Dataset) -> None:
    pie = build_figure(*CASES[ChartKind.PIE][:2], x_column="region", dataset=sales)
    donut = build_figure(*CASES[ChartKind.DONUT][:2], x_column="region", dataset=sales)
    assert pie.data[0].hole == 0
    assert donut.data[0].hole > 0.3


def test_heatmap_is_a_grid_of_the_first_measure(sales: Dataset) -> None:
    block, frame, x = CASES[ChartKind.HEATMAP]
    fig = build_figure(block, frame, x_column=x, dataset=sales)
    heat = fig.data[0]
    assert len(heat.z) == len(REGIONS)
    assert all(len(row) == len(MONTHS) for row in heat.z)
    assert list(heat.y) == sorted(REGIONS)
    assert heat.z[list(heat.y).index("EMEA")][0] == pytest.approx(0.0)
    assert fig.layout.coloraxis.colorbar.tickformat == ".1~%"
    assert fig.layout.yaxis.title.text == "Region"


def test_facets_wrap_into_a_grid_with_titles(sales: Dataset) -> None:
    countries = ["DE", "FR", "IT", "ES", "NL"]
    frame = pd.DataFrame(
        [(m, c, 10.0 * i) for i, m in enumerate(MONTHS) for c in countries],
        columns=["order_date__month", "country", "revenue"],
    )
    block = ChartBlock(
        title="By country", chart=ChartKind.LINE, x="order_date", y=("revenue",), facet="country"
    )
    fig = build_figure(block, frame, x_column="order_date__month", dataset=sales)
    assert len(fig.data) == len(countries)
    assert [a.text for a in fig.layout.annotations] == sorted(countries)
    axes = {t.xaxis for t in fig.data}
    assert len(axes) == len(countries)
    rows = {round(a.y, 3) for a in fig.layout.annotations}
    assert len(rows) == 2, "five facets wrap into two rows of three"
    width, height = print_size(fig)
    assert width == theme.PRINT_WIDTH_PX
    assert height > theme.PRINT_HEIGHT_PX


def test_too_many_facets_keeps_the_largest_with_a_note(sales: Dataset) -> None:
    names = [f"C{i:02d}" for i in range(MAX_FACETS + 3)]
    frame = pd.DataFrame(
        {"region": ["EMEA"] * len(names), "country": names, "revenue": range(len(names))}
    )
    block = ChartBlock(
        title="Many", chart=ChartKind.BAR, x="region", y=("revenue",), facet="country"
    )
    fig = build_figure(block, frame, x_column="region", dataset=sales)
    assert len(fig.data) == MAX_FACETS
    assert "C00" not in {a.text for a in fig.layout.annotations}
    assert any("Showing the 12 largest of 15" in (a.text or "") for a in fig.layout.annotations)


def test_mixed_formats_use_a_second_axis(sales: Dataset) -> None:
    block = ChartBlock(title="Both", chart=ChartKind.BAR, x="region", y=("revenue", "margin_pct"))
    fig = build_figure(block, by_region("revenue", "margin_pct"), x_column="region", dataset=sales)
    assert [t.yaxis for t in fig.data] == ["y", "y2"]
    assert fig.layout.yaxis2.tickformat == ".1~%"
    assert fig.layout.yaxis.tickprefix == "$"


@pytest.mark.parametrize("kind", list(ChartKind))
def test_empty_frame_says_no_data(kind: ChartKind, sales: Dataset) -> None:
    block, frame, x = CASES[kind]
    fig = build_figure(block, frame.iloc[0:0], x_column=x, dataset=sales)
    assert len(fig.data) == 0
    assert [a.text for a in fig.layout.annotations] == [NO_DATA_TEXT]


def test_all_null_measures_say_no_data(sales: Dataset) -> None:
    block, frame, x = CASES[ChartKind.BAR]
    fig = build_figure(block, frame.assign(revenue=None), x_column=x, dataset=sales)
    assert [a.text for a in fig.layout.annotations] == [NO_DATA_TEXT]


def test_html_in_data_is_escaped(sales: Dataset) -> None:
    block, _, x = CASES[ChartKind.BAR]
    frame = pd.DataFrame({"region": ["<b>EMEA</b>", "<script>x</script>"], "revenue": [1.0, 2.0]})
    fig = build_figure(block, frame, x_column=x, dataset=sales)
    assert fig.data[0].orientation == "h", "long labels lay bars on their side"
    assert "&lt;b&gt;EMEA&lt;/b&gt;" in list(fig.data[0].y)
    assert "<script>" not in json.dumps(fig.to_plotly_json()["data"])


def test_missing_values_and_blank_categories(sales: Dataset) -> None:
    block, _, x = CASES[ChartKind.BAR]
    frame = pd.DataFrame({"region": ["EMEA", None], "revenue": [1.0, None]})
    fig = build_figure(block, frame, x_column=x, dataset=sales)
    assert set(fig.data[0].x) == {"EMEA", "(blank)"}
    assert None in list(fig.data[0].y)


def test_a_missing_column_is_a_caller_bug(sales: Dataset) -> None:
    block, frame, x = CASES[ChartKind.BAR]
    with pytest.raises(ChartDataError, match="lacks column"):
        build_figure(block, frame.drop(columns=["revenue"]), x_column=x, dataset=sales)


@pytest.mark.parametrize("kind", [ChartKind.LINE, ChartKind.BAR, ChartKind.AREA])
def test_a_monthly_axis_has_one_tick_per_month_of_the_period(
    kind: ChartKind, sales: Dataset
) -> None:
    # A quarter of monthly points: plotly alone labels "Jun, Jul, Jul, Aug, Aug" (no September).
    months = pd.date_range("2026-07-01", periods=3, freq="MS")
    frame = pd.DataFrame({"order_date__month": months, "revenue": [1.0e8, 1.5e8, 1.2e8]})
    block = ChartBlock(title="Revenue", chart=kind, x="order_date", y=("revenue",))
    fig = build_figure(block, frame, x_column="order_date__month", dataset=sales)
    axis = fig.layout.xaxis
    assert axis.tickformat == "%b %Y"
    assert axis.tickmode == "array"
    assert axis.dtick == "M1"
    assert list(axis.tickvals) == ["2026-07-01", "2026-08-01", "2026-09-01"]
    low, high = axis.range
    assert "2026-06-01" < low < "2026-07-01"  # no June tick fits in
    assert "2026-09-01" < high < "2026-10-01"


def test_a_quarterly_and_a_yearly_axis_have_one_tick_per_bucket(sales: Dataset) -> None:
    block = ChartBlock(title="Revenue", chart=ChartKind.LINE, x="order_date", y=("revenue",))
    quarters = pd.date_range("2025-01-01", periods=4, freq="QS")
    frame = pd.DataFrame({"order_date__quarter": quarters, "revenue": [1.0, 2.0, 3.0, 4.0]})
    fig = build_figure(block, frame, x_column="order_date__quarter", dataset=sales)
    assert fig.layout.xaxis.tickformat == "Q%q %Y"
    assert fig.layout.xaxis.dtick == "M3"
    assert list(fig.layout.xaxis.tickvals) == [q.strftime("%Y-%m-%d") for q in quarters]
    years = pd.date_range("2022-01-01", periods=3, freq="YS")
    frame = pd.DataFrame({"order_date__year": years, "revenue": [1.0, 2.0, 3.0]})
    fig = build_figure(block, frame, x_column="order_date__year", dataset=sales)
    assert fig.layout.xaxis.tickformat == "%Y"
    assert fig.layout.xaxis.dtick == "M12"
    assert list(fig.layout.xaxis.tickvals) == ["2022-01-01", "2023-01-01", "2024-01-01"]


def test_a_long_monthly_axis_thins_its_ticks_to_whole_buckets(sales: Dataset) -> None:
    months = pd.date_range("2024-01-01", periods=30, freq="MS")
    frame = pd.DataFrame({"order_date__month": months, "revenue": range(30)})
    block = ChartBlock(title="Revenue", chart=ChartKind.LINE, x="order_date", y=("revenue",))
    fig = build_figure(block, frame, x_column="order_date__month", dataset=sales)
    ticks = list(fig.layout.xaxis.tickvals)
    assert len(ticks) <= 12
    assert fig.layout.xaxis.dtick == "M3"
    assert ticks[:2] == ["2024-01-01", "2024-04-01"]
