"""The embedded warehouse: a DuckDB file opened read-only, one cursor per query."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pyarrow as pa

from reportgen.domain.sql import CompiledQuery, Dialect
from reportgen.errors import ConfigurationError, QueryTimeout, WarehouseError


class DuckDBWarehouse:
    """Queries a DuckDB file. Safe to share between threads: each query gets its own cursor."""

    dialect = Dialect.DUCKDB

    def __init__(self, path: Path, *, threads: int | None = None) -> None:
        if not path.is_file():
            raise ConfigurationError(
                f"the warehouse file {path} does not exist; create the demo warehouse with "
                "`reportgen seed-demo` or point REPORTGEN_WAREHOUSE_URL at your warehouse"
            )
        self.path = path
        config: dict[str, str | bool | int | float | list[str]] = (
            {"threads": threads} if threads else {}
        )
        self._connection = duckdb.connect(str(path), read_only=True, config=config)

    def fetch(self, query: CompiledQuery, *, timeout_s: float) -> pa.Table:
        cursor = self._connection.cursor()
        timed_out = threading.Event()

        def cancel() -> None:
            timed_out.set()
            cursor.interrupt()

        timer = threading.Timer(timeout_s, cancel)
        timer.start()
        try:
            return cursor.sql(query.sql, params=list(query.params)).to_arrow_table()
        except duckdb.InterruptException as exc:
            raise QueryTimeout(
                f"the query ran longer than {timeout_s:g} s and was cancelled; add filters or a "
                "shorter time range, or ask an admin to raise REPORTGEN_QUERY_TIMEOUT_S"
            ) from exc
        except duckdb.Error as exc:
            if timed_out.is_set():
                raise QueryTimeout(f"the query ran longer than {timeout_s:g} s") from exc
            raise WarehouseError(f"DuckDB failed: {exc}") from exc
        finally:
            timer.cancel()
            cursor.close()

    def close(self) -> None:
        self._connection.close()
