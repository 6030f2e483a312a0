"""Snowflake through snowflake-connector-python, with server-side numbered binds (`:1`).

Results come back as Arrow, so decimals stay decimals as they do on DuckDB. A query with hashed
masks reads the deployment's mask key from the session variable `$reportgen_mask_key`, set once
on each connection, so the key never appears in the SQL or its values.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pyarrow as pa
import snowflake.connector
from snowflake.connector.errors import Error as SnowflakeError
from snowflake.connector.errors import ProgrammingError
from sqlglot import exp

from reportgen.domain.sql import MASK_KEY_VARIABLE, CompiledQuery, Dialect
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
    concurrent_queries = 4  # each query mostly waits on the network and the warehouse

    def __init__(
        self, url: str, password: str | None = None, *, mask_key: str | None = None
    ) -> None:
        self._options = connection_options(url, password)
        self._mask_key = mask_key
        self._lock = threading.Lock()
        self._connection: Any = None

    def _connect(self) -> Any:
        with self._lock:
            if self._connection is None or self._connection.is_closed():
                try:
                    connection = snowflake.connector.connect(**self._options)
                except SnowflakeError as exc:
                    raise WarehouseError(f"cannot connect to Snowflake: {exc.msg}") from exc
                if self._mask_key is not None:
                    self._set_mask_key(connection, self._mask_key)
                self._connection = connection
            return self._connection

    @staticmethod
    def _set_mask_key(connection: Any, key: str) -> None:
        """Hold the mask key in a session variable for the connection's lifetime."""
        literal = exp.Literal.string(key).sql(dialect="snowflake")  # quoted and escaped
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"SET {MASK_KEY_VARIABLE} = {literal}")
        except SnowflakeError as exc:
            connection.close()
            # Not exc.msg: Snowflake may quote the statement, and with it the key.
            raise WarehouseError(
                f"cannot set the mask key on the Snowflake session (error {exc.errno})"
            ) from None

    def fetch(self, query: CompiledQuery, *, timeout_s: float) -> pa.Table:
        if query.uses_mask_key and self._mask_key is None:
            raise ConfigurationError(
                "this query hashes masked columns but the warehouse has no mask key; set "
                "REPORTGEN_MASK_KEY or let reportgen generate one in REPORTGEN_DATA_DIR"
            )
        cursor = self._connect().cursor()
        try:
            cursor.execute(query.sql, list(query.params), timeout=max(1, round(timeout_s)))
            table = _fetch_table(cursor)
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
        return table.rename_columns([name.lower() for name in table.column_names])

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


def _fetch_table(cursor: Any) -> pa.Table:
    """All rows as Arrow: decimals stay decimals (pandas would turn them into floats).

    fakesnow's cursor has no `fetch_arrow_all`; only for it do rows go through pandas.
    """
    if hasattr(cursor, "fetch_arrow_all"):
        table: pa.Table = cursor.fetch_arrow_all(force_return_table=True)
        return table
    return pa.Table.from_pandas(cursor.fetch_pandas_all(), preserve_index=False)
