"""The Snowflake adapter through fakesnow: same governed queries, same answers as DuckDB."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import fakesnow
import pandas as pd
import pyarrow as pa
import pytest
import snowflake.connector
import snowflake.connector.pandas_tools
from fakesnow.cursor import FakeSnowflakeCursor

from reportgen.bootstrap import Services, build_services
from reportgen.domain.catalog import Catalog, Column
from reportgen.domain.query import Filter, Operator, QueryRequest, TimeRange
from reportgen.domain.sql import REDACTED, Dialect
from reportgen.errors import ConfigurationError
from reportgen.warehouse.snowflake import SnowflakeWarehouse, connection_options
from tests.conftest import ADMIN, ANA, VICTOR, make_settings

URL = "snowflake://reporter@acme-test/analytics/public?warehouse=reporting&role=reportgen_ro"
MASK_KEY = "snowflake-test-mask-key-0123456789abcdef"


@pytest.fixture
def snowflake_services(
    tmp_path: Path, warehouse_path: Path, catalog: Catalog, seeded_metadata: Path
) -> Iterator[Services]:
    with fakesnow.patch(), duckdb.connect(str(warehouse_path), read_only=True) as source:
        loader = snowflake.connector.connect(**connection_options(URL, "pw"))
        for table in ("orders", "customers"):
            # The warehouse's own column types (DECIMAL(14, 2) stays a decimal), then the rows.
            columns = source.sql(f"DESCRIBE {table}").fetchall()
            ddl = ", ".join(f"{name.upper()} {kind}" for name, kind, *_ in columns)
            loader.cursor().execute(f"CREATE TABLE {table.upper()} ({ddl})")
            frame = source.sql(f"SELECT * FROM {table}").df()  # decimals as floats; cast back
            frame.columns = [c.upper() for c in frame.columns]
            # Looked up at call time: fakesnow.patch() replaces it for the duration.
            snowflake.connector.pandas_tools.write_pandas(
                loader, frame, table.upper(), use_logical_type=True
            )
        warehouse = SnowflakeWarehouse(URL, "pw", mask_key=MASK_KEY)
        (tmp_path / "meta.db").write_bytes(seeded_metadata.read_bytes())
        built = build_services(
            make_settings(tmp_path, warehouse_path, mask_key=MASK_KEY),
            catalog=catalog,
            warehouse=warehouse,
        )
        yield built
        built.close()
        loader.close()


def test_snowflake_dialect_is_used(snowflake_services: Services) -> None:
    result = snowflake_services.queries.run(
        ANA, QueryRequest(dataset="sales", dimensions=("region",), measures=("revenue",))
    )
    assert result.query.dialect is Dialect.SNOWFLAKE
    assert ":1" in result.query.sql and "$1" not in result.query.sql
    assert list(result.frame["region"]) == ["EMEA"]


@pytest.mark.parametrize("principal", [ADMIN, ANA, VICTOR], ids=lambda p: p.username)
def test_same_answers_as_duckdb(
    snowflake_services: Services, services: Services, principal: object
) -> None:
    request = QueryRequest(
        dataset="sales",
        dimensions=("region", "channel"),
        measures=("revenue", "units", "orders"),
        grain="quarter",
        filters=(
            Filter(field="units", op=Operator.GE, value=2),
            Filter(field="channel", op=Operator.NOT_IN, value=("Partner",)),
        ),
        time_range=TimeRange(start=date(2024, 1, 1), end=date(2025, 7, 1)),
    )
    got = snowflake_services.queries.run(principal, request).frame  # type: ignore[arg-type]
    want = services.queries.run(principal, request).frame  # type: ignore[arg-type]
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want) > 0
    assert list(got["region"]) == list(want["region"])
    assert [pd.Timestamp(d).date() for d in got["order_date__quarter"]] == list(
        want["order_date__quarter"]
    )
    for column in ("revenue", "units", "orders"):
        expected = want[column].astype(float).tolist()
        assert got[column].astype(float).tolist() == pytest.approx(expected)


def test_masks_apply_on_snowflake(snowflake_services: Services) -> None:
    result = snowflake_services.queries.sample(ANA, "customers", rows=10)
    frame = result.frame
    assert set(frame["region"]) == {"EMEA"}
    assert (frame["name"] == REDACTED).all()
    assert frame["email"].map(lambda v: bool(re.fullmatch(r"[0-9a-f]{64}", v))).all()
    assert frame["phone"].str.startswith("***").all()
    # Keyed with the session variable, never with anything in the SQL or its values.
    assert "$reportgen_mask_key" in result.query.sql
    assert MASK_KEY not in result.query.sql and MASK_KEY not in map(str, result.query.params)
    clear = snowflake_services.queries.sample(ADMIN, "customers", rows=100_000).frame
    emails = dict(zip(clear["customer_id"], clear["email"], strict=True))
    for customer_id, masked in zip(frame["customer_id"], frame["email"], strict=True):
        email = emails[customer_id]
        assert masked == hashlib.sha256((MASK_KEY + email).encode()).hexdigest()
        assert masked != hashlib.sha256(email.encode()).hexdigest()


def test_hashes_agree_with_duckdb_under_the_same_key(
    snowflake_services: Services, tmp_path: Path, warehouse_path: Path, catalog: Catalog
) -> None:
    duck = build_services(
        make_settings(tmp_path / "duck", warehouse_path, mask_key=MASK_KEY),
        catalog=catalog,
        upgrade=True,
    )
    try:
        want = duck.queries.sample(ANA, "customers", rows=20).frame
    finally:
        duck.close()
    got = snowflake_services.queries.sample(ANA, "customers", rows=20).frame
    assert list(got["email"]) == list(want["email"])


def test_a_hashed_mask_without_a_key_is_refused(snowflake_services: Services) -> None:
    keyless = SnowflakeWarehouse(URL, "pw")
    query = snowflake_services.queries.sample(ANA, "customers", rows=1).query
    try:
        with pytest.raises(ConfigurationError, match="no mask key; set REPORTGEN_MASK_KEY"):
            keyless.fetch(query, timeout_s=5)
    finally:
        keyless.close()


def test_results_come_back_as_arrow_with_decimals(
    snowflake_services: Services, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real connector's Arrow path; fakesnow's cursor lacks it, so it is lent one here."""

    def fetch_arrow_all(self: FakeSnowflakeCursor, force_return_table: bool = False) -> pa.Table:
        assert force_return_table  # an empty result must still be a table
        table: pa.Table = self._arrow_table
        return table

    def no_pandas(self: FakeSnowflakeCursor, **kwargs: object) -> None:
        raise AssertionError("the pandas path must not be used when Arrow is available")

    monkeypatch.setattr(FakeSnowflakeCursor, "fetch_arrow_all", fetch_arrow_all, raising=False)
    monkeypatch.setattr(FakeSnowflakeCursor, "fetch_pandas_all", no_pandas)
    got = snowflake_services.queries.sample(ANA, "sales", rows=25).table
    want = services.queries.sample(ANA, "sales", rows=25).table
    assert got.column_names == [c.name for c in catalog_columns(snowflake_services, "sales")]
    for name in ("revenue", "cost", "discount"):
        assert got.schema.field(name).type == want.schema.field(name).type, name
        assert pa.types.is_decimal(got.schema.field(name).type), name
    assert got.to_pylist() == want.to_pylist()  # Decimal for Decimal, date for date
    # Aggregates: names lower-cased too. (fakesnow sums decimals as doubles; Snowflake does not.)
    request = QueryRequest(dataset="sales", dimensions=("region",), measures=("revenue", "orders"))
    totals = snowflake_services.queries.run(ANA, request).table
    assert totals.column_names == ["region", "revenue", "orders"]
    assert totals.column("revenue").to_pylist() == pytest.approx(
        [float(v) for v in services.queries.run(ANA, request).table.column("revenue").to_pylist()]
    )
    empty = snowflake_services.queries.run(
        ANA, request.model_copy(update={"filters": (Filter(field="region", value="Nowhere"),)})
    )
    assert empty.row_count == 0 and empty.table.column_names == ["region", "revenue", "orders"]


def catalog_columns(services: Services, name: str) -> list[Column]:
    dataset = services.catalog.catalog.get(name)
    assert dataset is not None
    return list(dataset.columns)


def test_hostile_values_are_bound_on_snowflake(snowflake_services: Services) -> None:
    request = QueryRequest(
        dataset="sales",
        measures=("orders",),
        filters=(Filter(field="region", value="EMEA' OR '1'='1"),),
    )
    assert snowflake_services.queries.run(ADMIN, request).frame["orders"].iloc[0] == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("snowflake://acme/db/schema", "expected snowflake://USER@ACCOUNT/DATABASE/SCHEMA"),
        ("snowflake://u@acme/db", "expected snowflake://USER@ACCOUNT/DATABASE/SCHEMA"),
        ("snowflake://u@acme/db/s?colour=blue", "unknown option 'colour'"),
    ],
)
def test_bad_urls_are_explained(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        connection_options(url, None)


def test_url_options() -> None:
    options = connection_options(URL, "pw")
    assert options == {
        "account": "acme-test",
        "user": "reporter",
        "database": "analytics",
        "schema": "public",
        "paramstyle": "numeric",
        "application": "reportgen",
        "warehouse": "reporting",
        "role": "reportgen_ro",
        "password": "pw",
    }
