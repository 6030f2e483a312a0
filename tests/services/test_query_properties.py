"""Property: any valid request compiles, runs on DuckDB and agrees with pandas on the raw rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reportgen.bootstrap import Services
from reportgen.domain.catalog import TimeGrain
from reportgen.domain.principal import Principal
from reportgen.domain.query import Filter, Operator, QueryRequest, TimeRange
from tests.conftest import ADMIN, ANA, VICTOR

MEASURES = {
    "revenue": ("revenue", "sum"),
    "units": ("units", "sum"),
    "orders": ("order_id", "count"),
    "customers": ("customer_id", "nunique"),
}
DIMENSIONS = ["region", "country", "channel", "category"]
CHANNELS = ["Online", "Retail", "Partner", "Direct Sales", "Carrier pigeon"]
PERIODS = {
    TimeGrain.DAY: "D",
    TimeGrain.WEEK: "W-SUN",  # weeks start on Monday, as DuckDB's date_trunc('week')
    TimeGrain.MONTH: "M",
    TimeGrain.QUARTER: "Q",
    TimeGrain.YEAR: "Y",
}


@pytest.fixture(scope="module")
def orders(warehouse_path: Path) -> pd.DataFrame:
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        frame = con.execute("SELECT * FROM orders").df()
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    for column in ("revenue",):
        frame[column] = frame[column].astype(float)
    return frame


filters = st.one_of(
    st.lists(
        st.sampled_from(["EMEA", "Americas", "APAC"]), min_size=1, max_size=3, unique=True
    ).map(lambda regions: Filter(field="region", op=Operator.IN, value=tuple(regions))),
    st.sampled_from(CHANNELS).map(lambda c: Filter(field="channel", op=Operator.NE, value=c)),
    st.integers(0, 12).map(lambda n: Filter(field="units", op=Operator.GT, value=n)),
    st.integers(1, 6).map(lambda n: Filter(field="units", op=Operator.LE, value=n)),
)
requests = st.builds(
    lambda dims, measures, grain, flts, window: QueryRequest(
        dataset="sales",
        dimensions=tuple(dims),
        measures=tuple(measures),
        grain=grain,
        filters=tuple(flts),
        time_range=window,
    ),
    st.lists(st.sampled_from(DIMENSIONS), max_size=2, unique=True),
    st.lists(st.sampled_from(sorted(MEASURES)), min_size=1, max_size=3, unique=True),
    st.one_of(st.none(), st.sampled_from(list(TimeGrain))),
    st.lists(filters, max_size=3),
    st.one_of(
        st.none(),
        st.dates(date(2023, 6, 1), date(2026, 6, 1)).map(
            lambda start: TimeRange(start=start, end=date(start.year + 1, start.month, 1))
        ),
    ),
)


def expected(frame: pd.DataFrame, principal: Principal, request: QueryRequest) -> pd.DataFrame:
    if not principal.is_admin:
        frame = frame[frame["region"].isin(principal.attributes["region"])]
    if request.time_range is not None:
        start, end = request.time_range.start, request.time_range.end
        frame = frame[
            (frame["order_date"] >= pd.Timestamp(start)) & (frame["order_date"] < pd.Timestamp(end))
        ]
    for flt in request.filters:
        column = frame[flt.field]
        match flt.op:
            case Operator.IN:
                frame = frame[column.isin(flt.value)]  # type: ignore[arg-type]
            case Operator.NE:
                frame = frame[column != flt.value]
            case Operator.GT:
                frame = frame[column > flt.value]
            case Operator.LE:
                frame = frame[column <= flt.value]
    keys = list(request.dimensions)
    if request.grain is not None:
        frame = frame.assign(
            bucket=frame["order_date"].dt.to_period(PERIODS[request.grain]).dt.start_time.dt.date
        )
        keys = ["bucket", *keys]
    aggregations = {name: MEASURES[name] for name in request.measures}
    if not keys:
        row = {name: getattr(frame[col], how)() for name, (col, how) in aggregations.items()}
        return pd.DataFrame([row])
    grouped = frame.groupby(keys, dropna=False).agg(**aggregations).reset_index()
    return grouped.sort_values(keys).reset_index(drop=True)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(request=requests, principal=st.sampled_from([ADMIN, ANA, VICTOR]))
def test_queries_agree_with_pandas(
    services: Services, orders: pd.DataFrame, request: QueryRequest, principal: Principal
) -> None:
    got = services.queries.run(principal, request).frame
    want = expected(orders, principal, request)
    bucket = request.grain_column(services.catalog.catalog.get("sales"))  # type: ignore[arg-type]
    if bucket:
        want = want.rename(columns={"bucket": bucket})
    assert list(got.columns) == list(want.columns)
    if (
        not request.dimensions
        and request.grain is None
        and want["orders" if "orders" in want else want.columns[0]].isna().all()
    ):
        return
    assert len(got) == len(want)
    for column in got.columns:
        if column in MEASURES:
            left = pd.to_numeric(got[column]).fillna(0).astype(float).to_numpy()
            right = pd.to_numeric(want[column]).fillna(0).astype(float).to_numpy()
            assert left == pytest.approx(right, rel=1e-9, abs=1e-6), column
        else:
            assert list(got[column]) == list(want[column]), column
