"""Governed queries: validation, bound values, caps, timeouts, caching and audit."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from reportgen.bootstrap import Services, build_services
from reportgen.domain.catalog import Catalog
from reportgen.domain.principal import Principal, Role
from reportgen.domain.query import Filter, Operator, QueryRequest, TimePreset, TimeRange
from reportgen.domain.sql import CompiledQuery, Dialect
from reportgen.errors import (
    ConfigurationError,
    InvalidInput,
    NotFound,
    QueryTimeout,
    QueryTooLarge,
    WarehouseError,
)
from reportgen.warehouse.duckdb import DuckDBWarehouse
from tests.conftest import ADMIN, ANA, VICTOR, make_settings

HOSTILE = [
    "EMEA' OR '1'='1",
    "x'); DROP TABLE orders; --",
    'EMEA"; DELETE FROM orders; --',
    "' UNION SELECT email FROM customers --",
]


def revenue_by_region(*filters: Filter) -> QueryRequest:
    return QueryRequest(
        dataset="sales", dimensions=("region",), measures=("revenue", "orders"), filters=filters
    )


def order_count(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute("SELECT count(*) FROM orders").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_filter_values_are_bound_as_data(
    services: Services, warehouse_path: Path, value: str
) -> None:
    before = order_count(warehouse_path)
    result = services.queries.run(
        ADMIN, revenue_by_region(Filter(field="region", op=Operator.EQ, value=value))
    )
    assert result.row_count == 0
    assert value not in result.query.sql
    assert value in result.query.params
    assert order_count(warehouse_path) == before


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_in_lists_and_contains_are_bound_as_data(
    services: Services, warehouse_path: Path, value: str
) -> None:
    before = order_count(warehouse_path)
    listed = services.queries.run(
        ADMIN, revenue_by_region(Filter(field="region", op=Operator.IN, value=(value, "EMEA")))
    )
    assert list(listed.frame["region"]) == ["EMEA"]  # the hostile value matched nothing
    excluded = services.queries.run(
        ADMIN, revenue_by_region(Filter(field="region", op=Operator.NOT_IN, value=(value,)))
    )
    assert list(excluded.frame["region"]) == ["APAC", "Americas", "EMEA"]
    contained = services.queries.run(
        ADMIN, revenue_by_region(Filter(field="channel", op=Operator.CONTAINS, value=value))
    )
    assert contained.row_count == 0
    for result in (listed, excluded, contained):
        assert value not in result.query.sql
        assert value in result.query.params
    assert order_count(warehouse_path) == before


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_principal_attributes_are_bound_as_data(
    services: Services, warehouse_path: Path, value: str
) -> None:
    before = order_count(warehouse_path)
    intruder = Principal(username="intruder", roles={Role.AUTHOR}, attributes={"region": [value]})
    result = services.queries.run(intruder, revenue_by_region())
    assert result.row_count == 0
    assert value not in result.query.sql and value in result.query.params
    sample = services.queries.sample(intruder, "customers")
    assert sample.row_count == 0 and value not in sample.query.sql
    assert services.queries.distinct_values(intruder, "sales", "region") == []
    assert order_count(warehouse_path) == before


def test_contains_matches_wildcards_literally(services: Services) -> None:
    hits = services.queries.run(
        ADMIN, revenue_by_region(Filter(field="channel", op=Operator.CONTAINS, value="%"))
    )
    assert hits.row_count == 0
    online = services.queries.run(
        ADMIN, revenue_by_region(Filter(field="channel", op=Operator.CONTAINS, value="LINE"))
    )
    assert online.row_count == 3


def test_every_problem_is_listed(services: Services) -> None:
    request = QueryRequest(
        dataset="sales",
        dimensions=("regio",),
        measures=("profit",),
        filters=(
            Filter(field="units", op=Operator.GT, value="many"),
            Filter(field="order_date", op=Operator.BETWEEN, value=("2024-01-01",)),
            Filter(field="colour", value="red"),
        ),
        sort=({"field": "revenue"},),  # type: ignore[arg-type]
    )
    with pytest.raises(InvalidInput) as caught:
        services.queries.run(ANA, request)
    problems = caught.value.problems
    assert problems[0].startswith("unknown dimension 'regio' in sales; choose from: category,")
    assert "unknown measure 'profit'" in problems[1] and "revenue" in problems[1]
    assert "filter on 'units': expected a whole number, got 'many'" in problems
    assert "filter on 'order_date': 'between' needs exactly two values (low, high)" in problems
    assert any(p.startswith("filter on 'colour': no such field in sales") for p in problems)
    assert any(p.startswith("cannot sort by 'revenue'") for p in problems)


def test_wrong_type_names_filter_and_type(services: Services) -> None:
    bad = Filter(field="order_date", op=Operator.GE, value="last tuesday")
    with pytest.raises(
        InvalidInput, match=r"filter on 'order_date': expected a date \(YYYY-MM-DD\)"
    ):
        services.queries.run(ANA, revenue_by_region(bad))


def test_unknown_dataset_names_the_available_ones(services: Services) -> None:
    with pytest.raises(
        NotFound,
        match=r"no dataset 'salez'; available: customers, sales, support_tickets, targets$",
    ):
        services.queries.run(ANA, QueryRequest(dataset="salez", measures=("revenue",)))


def test_unknown_dataset_names_only_what_the_principal_may_use(services: Services) -> None:
    with pytest.raises(NotFound) as caught:
        services.queries.run(VICTOR, QueryRequest(dataset="salez", measures=("revenue",)))
    assert str(caught.value).endswith("no dataset 'salez'; available: sales, support_tickets")
    assert "customers" not in str(caught.value) and "targets" not in str(caught.value)
    nobody = Principal(username="nobody", roles=set())
    with pytest.raises(NotFound, match="you may use none; ask an admin for access") as caught:
        services.queries.sample(nobody, "salez")
    assert "sales" not in str(caught.value)


def test_typed_filters_and_time_range(services: Services) -> None:
    request = QueryRequest(
        dataset="sales",
        measures=("orders", "units"),
        filters=(
            Filter(field="units", op=Operator.BETWEEN, value=("2", "3")),
            Filter(field="region", op=Operator.NOT_IN, value=("APAC",)),
        ),
        time_range=TimeRange(start=date(2025, 1, 1), end=date(2025, 2, 1)),
    )
    frame = services.queries.run(ADMIN, request).frame
    with duckdb.connect(
        str(services.settings.resolved_warehouse_url.removeprefix("duckdb:///")), read_only=True
    ) as con:
        expected = con.execute(
            "SELECT count(*), sum(units) FROM orders WHERE units BETWEEN 2 AND 3 "
            "AND region <> 'APAC' AND order_date >= DATE '2025-01-01' "
            "AND order_date < DATE '2025-02-01'"
        ).fetchone()
    assert expected is not None
    assert (int(frame["orders"].iloc[0]), int(frame["units"].iloc[0])) == expected


def test_presets_resolve_against_today(catalog: Catalog, services: Services) -> None:
    services.queries._today = lambda: date(2026, 10, 31)  # the demo data ends that day
    request = QueryRequest(
        dataset="sales",
        measures=("orders",),
        grain="month",
        time_range=TimeRange(preset=TimePreset.LAST_QUARTER),
    )
    frame = services.queries.run(ADMIN, request).frame
    assert [d.isoformat() for d in frame["order_date__month"]] == [
        "2026-07-01",
        "2026-08-01",
        "2026-09-01",
    ]


def test_row_cap_says_how_to_fix(tmp_path: Path, warehouse_path: Path, catalog: Catalog) -> None:
    svc = build_services(
        make_settings(tmp_path, warehouse_path, query_row_cap=10), catalog=catalog, upgrade=True
    )
    try:
        with pytest.raises(QueryTooLarge, match=r"more than 10 rows.*add filters"):
            svc.queries.run(
                ADMIN, QueryRequest(dataset="sales", dimensions=("product",), measures=("units",))
            )
        capped = svc.queries.run(
            ADMIN,
            QueryRequest(dataset="sales", dimensions=("product",), measures=("units",), limit=5),
        )
        assert capped.row_count == 5
    finally:
        svc.close()


def test_timeout_cancels_the_query(warehouse_path: Path) -> None:
    warehouse = DuckDBWarehouse(warehouse_path)
    endless = CompiledQuery(
        sql="SELECT count(*) FROM range(10000000000) a, range(1000) b",
        params=(),
        dialect=Dialect.DUCKDB,
        columns=("count",),
    )
    try:
        with pytest.raises(QueryTimeout, match=r"longer than 0.2 s"):
            warehouse.fetch(endless, timeout_s=0.2)
    finally:
        warehouse.close()


def test_results_are_cached_by_sql_params_version_and_freshness(services: Services) -> None:
    first = services.queries.run(ANA, revenue_by_region())
    second = services.queries.run(ANA, revenue_by_region())
    assert (first.cached, second.cached) == (False, True)
    assert second.table.equals(first.table)
    assert services.queries.run(VICTOR, revenue_by_region()).cached is False  # other policy
    services.queries._freshness.clear()
    services.queries._latest = lambda dataset, plan: date(2099, 1, 1)  # type: ignore[method-assign]
    assert services.queries.run(ANA, revenue_by_region()).cached is False  # new data


def test_queries_and_denials_are_audited(services: Services) -> None:
    result = services.queries.run(ANA, revenue_by_region())
    (event,) = services.audit.recent(actor="ana", action="dataset.query")
    assert event.target == "sales" and event.outcome == "allowed"
    assert event.details["query_hash"] == result.query_hash
    assert event.details["dataset_version"] == result.dataset_version
    assert services.audit.verify().ok


def test_missing_warehouse_file_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="reportgen seed-demo"):
        DuckDBWarehouse(tmp_path / "absent.duckdb")


def test_warehouse_errors_are_wrapped(warehouse_path: Path) -> None:
    warehouse = DuckDBWarehouse(warehouse_path)
    broken = CompiledQuery(
        sql="SELECT no_such_column FROM orders", params=(), dialect=Dialect.DUCKDB, columns=()
    )
    try:
        with pytest.raises(WarehouseError, match="DuckDB failed"):
            warehouse.fetch(broken, timeout_s=5)
    finally:
        warehouse.close()


def test_freshness_readings_are_cached_per_access_plan(
    services: Services, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    sales = catalog.get("sales")
    assert sales is not None
    warehouse = services.queries.warehouse
    fetched: list[tuple[object, ...]] = []

    def counting(query: CompiledQuery, *, timeout_s: float) -> object:
        fetched.append(query.params)
        return DuckDBWarehouse.fetch(warehouse, query, timeout_s=timeout_s)  # type: ignore[arg-type]

    monkeypatch.setattr(warehouse, "fetch", counting)
    colleague = Principal(username="vera", roles={Role.VIEWER}, attributes={"region": ["Americas"]})
    first = services.queries.freshness(VICTOR, sales)
    assert services.queries.freshness(VICTOR, sales) == first
    assert services.queries.freshness(colleague, sales) == first  # same rows, same reading
    assert fetched == [("Americas",)]
    services.queries.freshness(ANA, sales)
    assert fetched == [("Americas",), ("EMEA",)]
    services.queries.clear_cache()
    services.queries.freshness(VICTOR, sales)
    assert len(fetched) == 3


def test_hashed_masks_need_the_warehouse_to_hold_a_mask_key(
    services: Services, warehouse_path: Path
) -> None:
    query = services.queries.sample(ANA, "customers", rows=1).query
    assert query.uses_mask_key
    keyless = DuckDBWarehouse(warehouse_path)
    try:
        with pytest.raises(ConfigurationError, match="no mask key; set REPORTGEN_MASK_KEY"):
            keyless.fetch(query, timeout_s=5)
        clear = services.queries.sample(ADMIN, "customers", rows=1).query
        assert not clear.uses_mask_key and keyless.fetch(clear, timeout_s=5).num_rows == 1
    finally:
        keyless.close()


def test_duckdb_memory_is_bounded(warehouse_path: Path) -> None:
    warehouse = DuckDBWarehouse(warehouse_path, memory_limit="256MB")
    try:
        row = warehouse._connection.execute("SELECT current_setting('memory_limit')").fetchone()
        assert row is not None and row[0].replace(" ", "") in {"256.0MB", "244.1MiB"}
    finally:
        warehouse.close()
    with pytest.raises(ConfigurationError, match="is not a size"):
        DuckDBWarehouse(warehouse_path, memory_limit="lots")
