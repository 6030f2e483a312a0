"""Property: any valid request compiles, runs on DuckDB and agrees with pandas on the raw rows.

The pandas side is written from the catalog's meaning (what each measure counts or sums, what
each operator keeps), not from the compiled SQL, so a compiler bug shows as a disagreement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reportgen.bootstrap import Services
from reportgen.domain.catalog import Catalog, Dataset, TimeGrain
from reportgen.domain.principal import Principal
from reportgen.domain.query import (
    Filter,
    Operator,
    QueryRequest,
    SortKey,
    TimePreset,
    TimeRange,
)
from tests.conftest import ADMIN, ANA, DEMO_END, VICTOR

PERIODS = {
    TimeGrain.DAY: "D",
    TimeGrain.WEEK: "W-SUN",  # weeks start on Monday, as DuckDB's date_trunc('week')
    TimeGrain.MONTH: "M",
    TimeGrain.QUARTER: "Q",
    TimeGrain.YEAR: "Y",
}
REGIONS = ["EMEA", "Americas", "APAC"]
DECIMALS = {"revenue"}  # held as Decimal in the frames, so sums and their order are exact


@dataclass(frozen=True)
class Shape:
    """What the property test knows about one dataset, independently of the compiler."""

    dataset: str
    table: str
    time: str
    dimensions: tuple[str, ...]
    # measure name -> (column of the prepared frame, pandas aggregation)
    measures: dict[str, tuple[str, str]]
    sortable: frozenset[str]  # measures whose values are exact, so their order is too
    filters: st.SearchStrategy[Filter]


SALES = Shape(
    dataset="sales",
    table="orders",
    time="order_date",
    dimensions=("region", "country", "channel", "category"),
    measures={
        "revenue": ("revenue", "sum"),
        "units": ("units", "sum"),
        "orders": ("order_id", "count"),
        "customers": ("customer_id", "nunique"),
    },
    sortable=frozenset({"revenue", "units", "orders", "customers"}),
    filters=st.one_of(
        st.lists(st.sampled_from(REGIONS), min_size=1, max_size=3, unique=True).flatmap(
            lambda regions: st.sampled_from([Operator.IN, Operator.NOT_IN]).map(
                lambda op: Filter(field="region", op=op, value=tuple(regions))
            )
        ),
        st.tuples(
            st.sampled_from([Operator.EQ, Operator.NE]),
            st.sampled_from(["Online", "Retail", "Partner", "Direct Sales", "Carrier pigeon"]),
        ).map(lambda t: Filter(field="channel", op=t[0], value=t[1])),
        st.sampled_from(["line", "RET", "e", "Sales", "%", "_", "zz"]).map(
            lambda v: Filter(field="channel", op=Operator.CONTAINS, value=v)
        ),
        st.tuples(
            st.sampled_from([Operator.GT, Operator.GE, Operator.LT, Operator.LE, Operator.EQ]),
            st.integers(0, 12),
        ).map(lambda t: Filter(field="units", op=t[0], value=t[1])),
        st.tuples(st.integers(1, 8), st.integers(0, 20)).map(
            lambda t: Filter(field="units", op=Operator.BETWEEN, value=(t[0], t[0] + t[1]))
        ),
        st.sampled_from(["50", "500.5", "2500"]).map(
            lambda v: Filter(field="revenue", op=Operator.GE, value=v)
        ),
    ),
)
TICKETS = Shape(
    dataset="support_tickets",
    table="support_tickets",
    time="opened_at",
    dimensions=("region", "channel", "priority", "category", "status"),
    measures={
        "tickets": ("ticket_id", "count"),
        "open_tickets": ("is_open", "sum"),
        "sla_breaches": ("is_breached", "sum"),
        "avg_first_response_minutes": ("first_response_minutes", "mean"),
        "csat": ("satisfaction", "mean"),
    },
    sortable=frozenset({"tickets", "open_tickets", "sla_breaches"}),
    filters=st.one_of(
        st.lists(
            st.sampled_from(["P1", "P2", "P3", "P4"]), min_size=1, max_size=3, unique=True
        ).flatmap(
            lambda ps: st.sampled_from([Operator.IN, Operator.NOT_IN]).map(
                lambda op: Filter(field="priority", op=op, value=tuple(ps))
            )
        ),
        st.tuples(
            st.sampled_from([Operator.EQ, Operator.NE]),
            st.sampled_from(["open", "pending", "solved"]),
        ).map(lambda t: Filter(field="status", op=t[0], value=t[1])),
        st.sampled_from(["ing", "OUT", "o", "-"]).map(
            lambda v: Filter(field="category", op=Operator.CONTAINS, value=v)
        ),
        # Nullable columns: SQL drops NULLs from every comparison, including != and not in.
        st.tuples(st.sampled_from([Operator.LT, Operator.GE, Operator.NE]), st.integers(1, 5)).map(
            lambda t: Filter(field="satisfaction", op=t[0], value=t[1])
        ),
        st.lists(st.integers(1, 5), min_size=1, max_size=2, unique=True).map(
            lambda vs: Filter(field="satisfaction", op=Operator.NOT_IN, value=tuple(vs))
        ),
        st.tuples(st.integers(1, 200), st.integers(0, 400)).map(
            lambda t: Filter(
                field="first_response_minutes", op=Operator.BETWEEN, value=(t[0], t[0] + t[1])
            )
        ),
        st.booleans().map(lambda b: Filter(field="sla_breached", value=b)),
    ),
)
SHAPES = {shape.dataset: shape for shape in (SALES, TICKETS)}


@pytest.fixture(scope="module")
def frames(warehouse_path: Path) -> dict[str, pd.DataFrame]:
    """The raw tables, with the helper columns the measures' meanings need."""
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        orders = con.execute("SELECT * FROM orders").df()
        tickets = con.execute("SELECT * FROM support_tickets").df()
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    # Exact cents, as the warehouse's DECIMAL(14,2) holds them: .df() hands over floats, and
    # Decimal(125.85) would keep the float's binary error, so two equal sums could compare
    # unequal and ties sort apart from the warehouse's.
    orders["revenue"] = orders["revenue"].map(lambda value: Decimal(f"{value:.2f}"))
    tickets["opened_at"] = pd.to_datetime(tickets["opened_at"])
    tickets["is_open"] = (tickets["status"] != "solved").astype(int)
    tickets["is_breached"] = tickets["sla_breached"].astype(int)
    return {"sales": orders, "support_tickets": tickets}


def time_ranges() -> st.SearchStrategy[TimeRange | None]:
    return st.one_of(
        st.none(),
        st.dates(date(2023, 6, 1), date(2026, 10, 1)).map(
            lambda start: TimeRange(start=start, end=date(start.year + 1, start.month, 1))
        ),
        st.dates(date(2023, 6, 1), date(2026, 10, 1)).map(lambda start: TimeRange(start=start)),
        st.dates(date(2023, 6, 1), date(2026, 10, 1)).map(lambda end: TimeRange(end=end)),
        st.sampled_from(list(TimePreset)).map(lambda preset: TimeRange(preset=preset)),
    )


@st.composite
def requests(draw: st.DrawFn) -> QueryRequest:
    shape = SHAPES[draw(st.sampled_from(sorted(SHAPES)))]
    dims = draw(st.lists(st.sampled_from(shape.dimensions), max_size=2, unique=True))
    measures = draw(
        st.lists(st.sampled_from(sorted(shape.measures)), min_size=1, max_size=3, unique=True)
    )
    grain = draw(st.one_of(st.none(), st.sampled_from(list(TimeGrain))))
    outputs = [
        *((f"{shape.time}__{grain.value}",) if grain else ()),
        *dims,
        *(m for m in measures if m in shape.sortable),
    ]
    sort = draw(
        st.lists(
            st.tuples(st.sampled_from(outputs), st.booleans()), max_size=2, unique_by=lambda k: k[0]
        )
        if outputs
        else st.just([])
    )
    return QueryRequest(
        dataset=shape.dataset,
        dimensions=tuple(dims),
        measures=tuple(measures),
        grain=grain,
        filters=tuple(draw(st.lists(shape.filters, max_size=3))),
        time_range=draw(time_ranges()),
        sort=tuple(SortKey(field=f, descending=d) for f, d in sort),
        limit=draw(st.one_of(st.none(), st.integers(1, 40))),
    )


def kept(column: pd.Series, flt: Filter) -> pd.Series:
    """The rows a filter keeps, with SQL's NULL semantics: NULL never satisfies a comparison."""
    values = flt.value if isinstance(flt.value, tuple) else (flt.value,)
    known = column.notna()
    tests: dict[Operator, Callable[[], pd.Series]] = {
        Operator.EQ: lambda: column == values[0],
        Operator.NE: lambda: column != values[0],
        Operator.GT: lambda: column > values[0],
        Operator.GE: lambda: column >= values[0],
        Operator.LT: lambda: column < values[0],
        Operator.LE: lambda: column <= values[0],
        Operator.IN: lambda: column.isin(values),
        Operator.NOT_IN: lambda: ~column.isin(values),
        Operator.BETWEEN: lambda: (column >= values[0]) & (column <= values[1]),
        Operator.CONTAINS: lambda: (
            column.astype(str).str.lower().str.contains(str(values[0]).lower(), regex=False)
        ),
    }
    return known & tests[flt.op]().fillna(False).astype(bool)


def typed(value: object, field: str) -> object:
    """A filter value as the frame holds it (the service coerces to the catalog's type)."""
    return Decimal(str(value)) if field in DECIMALS else value


def expected(
    frames: dict[str, pd.DataFrame],
    dataset: Dataset,
    principal: Principal,
    request: QueryRequest,
    today: date,
) -> pd.DataFrame:
    shape = SHAPES[request.dataset]
    frame = frames[request.dataset]
    if not principal.is_admin:
        frame = frame[frame["region"].isin(principal.attributes["region"])]
    if request.time_range is not None:
        start, end = request.time_range.resolve(today)
        if start is not None:
            frame = frame[frame[shape.time] >= pd.Timestamp(start)]
        if end is not None:
            frame = frame[frame[shape.time] < pd.Timestamp(end)]
    for flt in request.filters:
        column = frame[flt.field]
        value = (
            tuple(typed(v, flt.field) for v in flt.value)
            if isinstance(flt.value, tuple)
            else typed(flt.value, flt.field)
        )
        frame = frame[kept(column, flt.model_copy(update={"value": value}))]
    keys = list(request.dimensions)
    bucket = request.grain_column(dataset)
    if request.grain is not None and bucket is not None:
        period = frame[shape.time].dt.to_period(PERIODS[request.grain])
        frame = frame.assign(**{bucket: period.dt.start_time.dt.date})
        keys = [bucket, *keys]
    aggregations = {name: shape.measures[name] for name in request.measures}
    if not keys:
        row = {name: getattr(frame[col], how)() for name, (col, how) in aggregations.items()}
        result = pd.DataFrame([row])
    else:
        result = frame.groupby(keys, dropna=False).agg(**aggregations).reset_index()
        explicit = [(k.field, not k.descending) for k in request.sort]
        implicit = [(k, True) for k in keys if k not in {f for f, _ in explicit}]
        order = explicit + implicit
        result = result.sort_values(
            [f for f, _ in order], ascending=[a for _, a in order], na_position="last"
        ).reset_index(drop=True)
    if request.limit is not None:
        result = result.head(request.limit)
    return result[list(request.output_columns(dataset))]


def as_floats(values: pd.Series) -> list[float]:
    """Numbers of any kind (int, float, Decimal) as floats; a missing value (NULL) as 0."""
    return [0.0 if pd.isna(v) else float(v) for v in values]


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(request=requests(), principal=st.sampled_from([ADMIN, ANA, VICTOR]))
@example(  # days of equal revenue: ties break by the grouping columns, on both sides
    request=QueryRequest(
        dataset="sales",
        dimensions=("region", "country"),
        measures=("customers", "revenue"),
        grain=TimeGrain.DAY,
        sort=(SortKey(field="revenue"),),
    ),
    principal=ADMIN,
)
def test_queries_agree_with_pandas(
    services: Services,
    catalog: Catalog,
    frames: dict[str, pd.DataFrame],
    request: QueryRequest,
    principal: Principal,
) -> None:
    dataset = catalog.get(request.dataset)
    assert dataset is not None
    services.queries._today = lambda: DEMO_END  # presets count back from the data's last day
    got = services.queries.run(principal, request).frame
    want = expected(frames, dataset, principal, request, DEMO_END)
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    measures = SHAPES[request.dataset].measures
    for column in got.columns:
        if column in measures:
            left, right = as_floats(got[column]), as_floats(want[column])
            assert left == pytest.approx(right, rel=1e-9, abs=1e-6), column
        else:
            assert list(got[column]) == list(want[column]), column
