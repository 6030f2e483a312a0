"""Query requests: time presets, value coercion and the compiled SQL's shape."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from reportgen.domain.catalog import Catalog, ColumnType
from reportgen.domain.governance import plan_access
from reportgen.domain.query import (
    Filter,
    Operator,
    QueryRequest,
    TimePreset,
    TimeRange,
    check_request,
    coerce_value,
)
from reportgen.domain.sql import Dialect, compile_distinct, compile_freshness, compile_query
from reportgen.errors import InvalidInput, NotAllowed
from tests.conftest import ADMIN, ANA, VICTOR

TODAY = date(2026, 11, 28)


@pytest.mark.parametrize(
    ("preset", "start", "end"),
    [
        (TimePreset.LAST_7_DAYS, date(2026, 11, 22), date(2026, 11, 29)),
        (TimePreset.LAST_30_DAYS, date(2026, 10, 30), date(2026, 11, 29)),
        (TimePreset.LAST_90_DAYS, date(2026, 8, 31), date(2026, 11, 29)),
        (TimePreset.MONTH_TO_DATE, date(2026, 11, 1), date(2026, 11, 29)),
        (TimePreset.QUARTER_TO_DATE, date(2026, 10, 1), date(2026, 11, 29)),
        (TimePreset.YEAR_TO_DATE, date(2026, 1, 1), date(2026, 11, 29)),
        (TimePreset.LAST_MONTH, date(2026, 10, 1), date(2026, 11, 1)),
        (TimePreset.LAST_QUARTER, date(2026, 7, 1), date(2026, 10, 1)),
        (TimePreset.LAST_YEAR, date(2025, 1, 1), date(2026, 1, 1)),
    ],
)
def test_presets(preset: TimePreset, start: date, end: date) -> None:
    assert TimeRange(preset=preset).resolve(TODAY) == (start, end)


def test_last_quarter_in_january_reaches_back_a_year() -> None:
    assert TimeRange(preset=TimePreset.LAST_QUARTER).resolve(date(2027, 1, 15)) == (
        date(2026, 10, 1),
        date(2027, 1, 1),
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"preset": "last_7_days", "start": date(2026, 1, 1)}, "either a preset or start/end"),
        ({}, "a preset or at least one of start and end"),
        ({"start": date(2026, 2, 1), "end": date(2026, 1, 1)}, "must be before end"),
    ],
)
def test_time_range_problems(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TimeRange(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("42", ColumnType.INTEGER, 42),
        (3.0, ColumnType.INTEGER, 3),
        ("1.50", ColumnType.DECIMAL, Decimal("1.50")),
        (2, ColumnType.DECIMAL, Decimal(2)),
        ("yes", ColumnType.BOOLEAN, True),
        ("F", ColumnType.BOOLEAN, False),
        (True, ColumnType.BOOLEAN, True),
        ("2026-03-04", ColumnType.DATE, date(2026, 3, 4)),
        (datetime(2026, 3, 4, 5, 6), ColumnType.DATE, date(2026, 3, 4)),
        ("2026-03-04T05:06", ColumnType.TIMESTAMP, datetime(2026, 3, 4, 5, 6)),
        (date(2026, 3, 4), ColumnType.TIMESTAMP, datetime(2026, 3, 4)),
        ("EMEA", ColumnType.STRING, "EMEA"),
    ],
)
def test_coercion(value: object, kind: ColumnType, expected: object) -> None:
    assert coerce_value(value, kind) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "kind", "message"),
    [
        ("4.5", ColumnType.INTEGER, "a whole number"),
        (4.5, ColumnType.INTEGER, "a whole number"),
        ("x", ColumnType.DECIMAL, "a number"),
        ("maybe", ColumnType.BOOLEAN, "true or false"),
        ("31/12/2026", ColumnType.DATE, r"a date \(YYYY-MM-DD\)"),
        ("noon", ColumnType.TIMESTAMP, "a date and time"),
        (5, ColumnType.STRING, "text"),
        (True, ColumnType.INTEGER, "integer"),
    ],
)
def test_coercion_failures_name_the_type(value: object, kind: ColumnType, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        coerce_value(value, kind)  # type: ignore[arg-type]


def test_check_request_coerces_filter_values(catalog: Catalog) -> None:
    sales = catalog.get("sales")
    assert sales is not None
    checked = check_request(
        sales,
        QueryRequest(
            dataset="sales",
            measures=("revenue",),
            filters=(
                Filter(field="units", op=Operator.IN, value=("1", "2")),
                Filter(field="order_date", op=Operator.BETWEEN, value=("2025-01-01", "2025-12-31")),
                Filter(field="discount", op=Operator.LT, value="0.1"),
            ),
        ),
    )
    assert [f.value for f in checked.filters] == [
        (1, 2),
        (date(2025, 1, 1), date(2025, 12, 31)),
        Decimal("0.1"),
    ]


@pytest.mark.parametrize(
    ("request_kwargs", "message"),
    [
        ({}, "at least one dimension, measure or time grain"),
        ({"measures": ("revenue", "revenue")}, "measure listed twice: revenue"),
        (
            {
                "measures": ("revenue",),
                "filters": (Filter(field="region", op=Operator.IN, value=()),),
            },
            "needs at least one value",
        ),
        (
            {"measures": ("revenue",), "filters": (Filter(field="region", value=("a", "b")),)},
            "'=' takes one value",
        ),
        (
            {
                "measures": ("revenue",),
                "filters": (Filter(field="units", op=Operator.CONTAINS, value="1"),),
            },
            "'contains' works on text, not integer",
        ),
    ],
)
def test_check_request_problems(
    catalog: Catalog, request_kwargs: dict[str, object], message: str
) -> None:
    sales = catalog.get("sales")
    assert sales is not None
    with pytest.raises(InvalidInput, match=message):
        check_request(sales, QueryRequest(dataset="sales", **request_kwargs))  # type: ignore[arg-type]


def test_grain_not_offered(catalog: Catalog) -> None:
    targets = catalog.get("targets")
    assert targets is not None
    with pytest.raises(
        InvalidInput, match="grain 'day' is not offered; choose from: month, quarter, year"
    ):
        check_request(
            targets, QueryRequest(dataset="targets", measures=("revenue_target",), grain="day")
        )


def test_compiled_sql_binds_every_value_and_orders_stably(catalog: Catalog) -> None:
    sales = catalog.get("sales")
    assert sales is not None
    request = check_request(
        sales,
        QueryRequest(
            dataset="sales",
            dimensions=("channel",),
            measures=("revenue",),
            grain="month",
            filters=(Filter(field="product", op=Operator.CONTAINS, value="Pro"),),
            time_range=TimeRange(preset=TimePreset.YEAR_TO_DATE),
            sort=({"field": "revenue", "descending": True},),  # type: ignore[arg-type]
            limit=10,
        ),
    )
    query = compile_query(
        sales, request, plan_access(sales, ANA), dialect=Dialect.DUCKDB, today=TODAY, limit=101
    )
    assert query.params == ("EMEA", date(2026, 1, 1), date(2026, 11, 29), "Pro")
    assert [f"${i}" in query.sql for i in range(1, 5)] == [True] * 4
    assert "EMEA" not in query.sql and "Pro" not in query.sql
    assert query.sql.index("ORDER BY") < query.sql.index("revenue DESC")
    assert query.sql.rstrip().endswith("LIMIT 10")
    assert query.columns == ("order_date__month", "channel", "revenue")
    again = compile_query(
        sales, request, plan_access(sales, ANA), dialect=Dialect.DUCKDB, today=TODAY, limit=101
    )
    assert again.fingerprint == query.fingerprint
    admin = compile_query(
        sales, request, plan_access(sales, ADMIN), dialect=Dialect.DUCKDB, today=TODAY, limit=101
    )
    assert admin.fingerprint != query.fingerprint and "region IN" not in admin.sql


def test_dimension_only_request_is_distinct(catalog: Catalog) -> None:
    sales = catalog.get("sales")
    assert sales is not None
    request = check_request(sales, QueryRequest(dataset="sales", dimensions=("region",)))
    query = compile_query(
        sales, request, plan_access(sales, ADMIN), dialect=Dialect.DUCKDB, today=TODAY
    )
    assert "SELECT DISTINCT" in query.sql and "GROUP BY" not in query.sql


def test_freshness_and_distinct_queries(catalog: Catalog) -> None:
    sales = catalog.get("sales")
    assert sales is not None
    freshness = compile_freshness(sales, plan_access(sales, ADMIN), Dialect.SNOWFLAKE)
    assert freshness is not None and "MAX(order_date)" in freshness.sql and freshness.params == ()
    # Under row limits: the latest date among the rows the principal may see.
    limited = compile_freshness(sales, plan_access(sales, VICTOR), Dialect.SNOWFLAKE)
    assert limited is not None and "MAX(order_date)" in limited.sql
    assert limited.params == ("Americas",) and ":1" in limited.sql
    values = compile_distinct(sales, plan_access(sales, VICTOR), Dialect.SNOWFLAKE, "channel", 50)
    assert values.params == ("Americas",) and ":1" in values.sql and "LIMIT 50" in values.sql


def test_viewer_cannot_plan_confidential_data(catalog: Catalog) -> None:
    targets = catalog.get("targets")
    assert targets is not None
    with pytest.raises(NotAllowed, match=r"open to the roles: admin, author\. Ask an admin"):
        plan_access(targets, VICTOR)


@pytest.mark.parametrize(
    ("dialect", "reads_key"),
    [
        (Dialect.DUCKDB, "SHA256(GETVARIABLE('reportgen_mask_key') || CAST(email AS TEXT))"),
        (Dialect.SNOWFLAKE, "SHA2($reportgen_mask_key || CAST(email AS VARCHAR), 256)"),
    ],
)
def test_hash_masks_read_the_key_from_a_session_variable(
    catalog: Catalog, dialect: Dialect, reads_key: str
) -> None:
    customers = catalog.get("customers")
    assert customers is not None
    request = check_request(customers, QueryRequest(dataset="customers", dimensions=("region",)))
    masked = compile_query(
        customers, request, plan_access(customers, ANA), dialect=dialect, today=TODAY
    )
    assert reads_key in masked.sql
    assert masked.uses_mask_key and masked.params == ("EMEA",)
    clear = compile_query(
        customers, request, plan_access(customers, ADMIN), dialect=dialect, today=TODAY
    )
    assert not clear.uses_mask_key and "reportgen_mask_key" not in clear.sql


def test_masked_columns_filter_as_text(catalog: Catalog) -> None:
    sales = catalog.get("sales")
    assert sales is not None
    request = QueryRequest(
        dataset="sales",
        measures=("orders",),
        filters=(
            Filter(field="cost", op=Operator.GT, value=5),
            Filter(field="cost", op=Operator.CONTAINS, value="red"),
            Filter(field="units", op=Operator.IN, value=(1, "2")),
        ),
    )
    checked = check_request(sales, request, masked={"cost"})
    assert [f.value for f in checked.filters] == ["5", "red", (1, 2)]
    with pytest.raises(InvalidInput, match="'contains' works on text, not decimal"):
        check_request(sales, request)


@pytest.mark.parametrize(
    ("op", "value", "spoken"),
    [
        (Operator.GE, Decimal("1000000000.0"), "1,000,000,000"),
        (Operator.LE, Decimal("1234.5600"), "1,234.56"),
        (Operator.EQ, 0.5, "0.5"),
        (Operator.BETWEEN, (Decimal("10"), Decimal("2000.25")), "10 and 2,000.25"),
        (Operator.IN, (1000, 2500), "1000, 2500"),  # commas separate the values here
        (Operator.IN, ("EMEA", "APAC"), "EMEA, APAC"),
        (Operator.EQ, True, "True"),
        (Operator.GE, Decimal("1E+30"), "1,000,000,000,000,000,000,000,000,000,000"),
        (Operator.LE, -1e-7, "-0.0000001"),
    ],
)
def test_a_filter_value_is_written_as_a_reader_would(
    op: Operator, value: object, spoken: str
) -> None:
    assert Filter(field="revenue", op=op, value=value).spoken_value() == spoken
