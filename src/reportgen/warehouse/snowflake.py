"""Snowflake through snowflake-connector-python, with server-side numbered binds (`:1`)."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pyarrow as pa
import snowflake.connector
from snowflake.connector.errors import Error as SnowflakeError
from snowflake.connector.errors import ProgrammingError

from reportgen.domain.sql import CompiledQuery, Dialect
from reportgen.errors import ConfigurationError, QueryTimeout, WarehouseError

# Snowflake's "SQL execution canceled" error, raised when a statement exceeds its timeout.
_CANCELLED = 604


def connection_options(url: str, password: str | None) -> dict[str, Any]:
    """Connector keyword arguments from ``snowflake://user@account/database/schema?warehouse=&role=``."""
    parts = urlsplit(url)
    path = [unquote(p) for p in parts.path.split("/") if p]
    if not parts.hostname or not parts.username or len(path) != 2:
        raise ConfigurationError(
            "REPORTGEN_WAREHOUSE_URL: expected snowflake://USER@ACCOUNT/DATABASE/SCHEMA"
            "?warehouse=W&role=R"
        )
    options: dict[str, Any] = {
        "account": parts.hostname,
        "user": unquote(parts.username),
        "database": path[0],
        "schema": path[1],
        "paramstyle": "numeric",
        "application": "reportgen",
    }
    for key, values in parse_qs(parts.query).items():
        if key not in {"warehouse", "role", "authenticator", "private_key_file"}:
            raise ConfigurationError(f"REPORTGEN_WAREHOUSE_URL: unknown option '{key}'")
        options[key] = values[-1]
    if password:
        options["password"] = password
    return options


class SnowflakeWarehouse:
    """Queries Snowflake. One connection per process, opened on first use."""

    dialect = Dialect.SNOWFLAKE

    def __init__(self, url: str, password: str | None = None) -> None:
        self._options = connection_options(url, password)
        self._lock = threading.Lock()
        self._connection: Any = None

    def _connect(self) -> Any:
        with self._lock:
            if self._connection is None or self._connection.is_closed():
                try:
                    self._connection = snowflake.connector.connect(**self._options)
                except SnowflakeError as exc:
                    raise WarehouseError(f"cannot connect to Snowflake: {exc.msg}") from exc
            return self._connection

    def fetch(self, query: CompiledQuery, *, timeout_s: float) -> pa.Table:
        cursor = self._connect().cursor()
        try:
            cursor.execute(query.sql, list(query.params), timeout=max(1, round(timeout_s)))
            frame = cursor.fetch_pandas_all()
        except ProgrammingError as exc:
            if exc.errno == _CANCELLED:
                raise QueryTimeout(
                    f"the query ran longer than {timeout_s:g} s and was cancelled; add filters "
                    "or ask an admin to raise REPORTGEN_QUERY_TIMEOUT_S"
                ) from exc
            raise WarehouseError(f"Snowflake failed: {exc.msg}") from exc
        except SnowflakeError as exc:
            raise WarehouseError(f"Snowflake failed: {exc.msg}") from exc
        finally:
            cursor.close()
        # Snowflake upper-cases unquoted names; the catalog's names are lower-case.
        frame.columns = [str(c).lower() for c in frame.columns]
        return pa.Table.from_pandas(frame, preserve_index=False)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
