"""Fixtures running every store test against SQLite (a temp file) and the local PostgreSQL.

PostgreSQL gets one database per test run (``reportgen_test_<hex>``), migrated once and dropped
at the end; tests are isolated by emptying the tables (and removing the recorded audit head)
before each one. A test that needs a database without schema gets a fresh SQLite file, or a
fresh schema in that PostgreSQL database. ``scripts/start-postgres.sh`` starts the local server
and creates the ``reportgen_test`` role these tests sign in as.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from reportgen.store import MetadataStore
from reportgen.store.tables import ALL_TABLES

POSTGRES_ADMIN_URL = os.environ.get(
    "REPORTGEN_TEST_POSTGRES_URL",
    "postgresql+psycopg://reportgen_test:reportgen_test@127.0.0.1:5432/postgres",
)
START_POSTGRES = "scripts/start-postgres.sh"
BCRYPT_ROUNDS = 4  # the minimum: tests check behaviour, not hashing cost
AUDIT_KEY = b"test-audit-key-for-the-store-tests-0123456789"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database for this test run on the local server, dropped afterwards."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"reportgen_test_{uuid.uuid4().hex[:12]}"
    unreachable: str | None = None
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except OperationalError as error:
        unreachable = str(error.orig)
    if unreachable is not None:
        admin.dispose()
        server = make_url(POSTGRES_ADMIN_URL)
        pytest.fail(
            f"PostgreSQL is not reachable at {server.host}:{server.port} ({unreachable});"
            f" start it with `{START_POSTGRES}`",
            pytrace=False,
        )
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Which database the store tests run on: ``sqlite`` or ``postgres``."""
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The URL of this backend's shared, migrated test database."""
    if backend == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path_factory.mktemp('metadata') / 'meta' / 'reportgen.db'}"


@pytest.fixture(scope="session")
def migrated_store(
    database_url: str, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MetadataStore]:
    head = tmp_path_factory.mktemp(f"audit-{backend}") / "audit.head"
    store = MetadataStore(
        database_url, bcrypt_rounds=BCRYPT_ROUNDS, audit_key=AUDIT_KEY, audit_head=head
    )
    store.upgrade()
    yield store
    store.dispose()


def clear_store(store: MetadataStore) -> None:
    """Empty every table and forget the recorded audit head: a store as good as new."""
    empty_tables(store.engine)
    if store.audit_head is not None:
        store.audit_head.unlink(missing_ok=True)


def empty_tables(engine: Engine) -> None:
    """Delete every row of every table (children first), leaving the schema in place.

    DELETE rather than TRUNCATE: on tables this small PostgreSQL deletes in well under a
    millisecond, while TRUNCATE costs tens of milliseconds per table.
    """
    with engine.begin() as connection:
        for table in reversed(ALL_TABLES):
            connection.execute(table.delete())


@pytest.fixture
def store(migrated_store: MetadataStore) -> MetadataStore:
    """The migrated store of the current backend, with every table empty and no audit head."""
    clear_store(migrated_store)
    return migrated_store


@pytest.fixture
def empty_database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """A database of the current backend that has never been migrated."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    url = make_url(request.getfixturevalue("postgres_url"))
    schema = f"empty_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def empty_store(empty_database_url: str, tmp_path: Path) -> Iterator[MetadataStore]:
    """A store on a database without schema, disposed after the test."""
    store = MetadataStore(
        empty_database_url,
        bcrypt_rounds=BCRYPT_ROUNDS,
        audit_key=AUDIT_KEY,
        audit_head=tmp_path / "audit.head",
    )
    yield store
    store.dispose()


@pytest.fixture
def sql(store: MetadataStore) -> Callable[..., None]:
    """Run raw SQL in its own transaction: how a tamperer with database access would."""

    def run(statement: str, **params: object) -> None:
        with store.engine.begin() as connection:
            connection.execute(text(statement), params)

    return run
