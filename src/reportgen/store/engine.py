"""The SQLAlchemy engine for the metadata database, tuned per backend.

SQLite (the embedded default) gets its folder created, write-ahead logging so readers never block
the writer, enforced foreign keys and a busy timeout so concurrent writers wait instead of failing.
SQLAlchemy emits ``BEGIN`` itself (the sqlite3 module's own transaction handling is switched off)
so that `write_transaction` can take the write lock up front with ``BEGIN IMMEDIATE``.
PostgreSQL goes through psycopg 3.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from reportgen.errors import ConfigurationError

SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_LOCK = "reportgen_write_lock"
"""Execution option: on SQLite, begin the transaction with ``BEGIN IMMEDIATE``."""

_POSTGRES_ALIASES = {"postgres", "postgresql", "postgresql+psycopg"}
_SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite"}


def normalise_url(url: str) -> URL:
    """Parse a metadata DB URL, steering every PostgreSQL spelling to the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise ConfigurationError(
            f"REPORTGEN_DATABASE_URL is not a database URL ({error}); use sqlite:///path/to/file.db"
            " or postgresql://user@host:5432/dbname"
        ) from error
    if parsed.drivername in _POSTGRES_ALIASES:
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in _SQLITE_DRIVERS:
        return parsed
    raise ConfigurationError(
        f"REPORTGEN_DATABASE_URL uses {parsed.drivername!r}, which reportgen does not support;"
        " use sqlite:///path/to/file.db or postgresql://user@host:5432/dbname"
    )


def _sqlite_file(url: URL) -> Path | None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def create_metadata_engine(url: str) -> Engine:
    """An engine for the metadata DB at ``url`` (``sqlite:///...`` or ``postgresql://...``)."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(
            parsed,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 10, "application_name": "reportgen"},
        )
    path = _sqlite_file(parsed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed)
    _configure_sqlite(engine, wal=path is not None)
    return engine


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: object) -> None:
        # Hand transaction control to SQLAlchemy (see the "begin" listener below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if wal:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A deferred BEGIN that reads and then writes fails with "database is locked" when another
        # writer got in between (the busy timeout cannot help there); IMMEDIATE queues instead.
        immediate = connection.get_execution_options().get(WRITE_LOCK, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction for read-then-write work: on SQLite it holds the write lock from the start.

    Commits when the block ends, rolls back if it raises. On PostgreSQL it is an ordinary
    transaction; use row locks, unique keys or advisory locks there as the work requires.
    """
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_LOCK: True})  # set in place, before BEGIN
        with connection.begin():
            yield connection
