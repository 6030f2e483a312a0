"""The Snowflake adapter through fakesnow: same governed queries, same answers as DuckDB."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import fakesnow
import pandas as pd
import pytest
import snowflake.connector
import snowflake.connector.pandas_tools

from reportgen.bootstrap import Services, build_services
from reportgen.domain.catalog import Catalog
from reportgen.domain.query import Filter, Operator, QueryRequest, TimeRange
from reportgen.domain.sql import REDACTED, Dialect
from reportgen.errors import ConfigurationError
from reportgen.warehouse.snowflake import SnowflakeWarehouse, connection_options
from tests.conftest import ADMIN, ANA, VICTOR, make_settings

URL = "snowflake://reporter@acme-test/analytics/public?warehouse=reporting&role=reportgen_ro"


@pytest.fixture
def snowflake_services(
    tmp_path: Path, warehouse_path: Path, catalog: Catalog, seeded_metadata: Path
) -> Iterator[Services]:
    with fakesnow.patch(), duckdb.connect(str(warehouse_path), read_only=True) as source:
        loader = snowflake.connector.connect(**connection_options(URL, "pw"))
        for table in ("orders", "customers"):
            frame = source.execute(f"SELECT * FROM {table}").df()
            frame.columns = [c.upper() for c in frame.columns]
            # Looked up at call time: fakesnow.patch() replaces it for the duration.
            snowflake.connector.pandas_tools.write_pandas(
                loader, frame, table.upper(), auto_create_table=True, use_logical_type=True
            )
        warehouse = SnowflakeWarehouse(URL, "pw")
        (tmp_path / "meta.db").write_bytes(seeded_metadata.read_bytes())
        built = build_services(
            make_settings(tmp_path, warehouse_path), catalog=catalog, warehouse=warehouse
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
    frame = snowflake_services.queries.sample(ANA, "customers", rows=10).frame
    assert set(frame["region"]) == {"EMEA"}
    assert (frame["name"] == REDACTED).all()
    assert frame["email"].map(lambda v: bool(re.fullmatch(r"[0-9a-f]{64}", v))).all()
    assert frame["phone"].str.startswith("***").all()


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
