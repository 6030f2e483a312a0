"""How the store connects: URL handling, SQLite's pragmas and the write-lock transaction."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from reportgen.errors import ConfigurationError
from reportgen.store import MetadataStore, write_transaction
from reportgen.store.engine import SQLITE_BUSY_TIMEOUT_MS, normalise_url


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u@db.example.com:5432/meta",
        "postgres://u@db.example.com:5432/meta",
        "postgresql+psycopg://u@db.example.com:5432/meta",
    ],
)
def test_every_postgresql_spelling_uses_psycopg_3(url: str) -> None:
    assert normalise_url(url).drivername == "postgresql+psycopg"


@pytest.mark.parametrize("url", ["mysql://u@host/db", "not a url"])
def test_unsupported_urls_are_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError, match="REPORTGEN_DATABASE_URL"):
        MetadataStore(url)


def test_messages_never_show_the_password() -> None:
    store = MetadataStore("postgresql://reportgen:s3cret@db.example.com:5432/meta")
    try:
        assert store.engine.dialect.driver == "psycopg"
        assert "s3cret" not in repr(store)
        assert "s3cret" not in store.safe_url
    finally:
        store.dispose()


def test_sqlite_file_gets_its_folder_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "var" / "nested" / "meta.db"
    store = MetadataStore(f"sqlite:///{path}")
    try:
        with store.engine.connect() as connection:
            journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
            busy = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    finally:
        store.dispose()

    assert path.parent.is_dir()
    assert journal == "wal"
    assert foreign_keys == 1
    assert busy == SQLITE_BUSY_TIMEOUT_MS


def test_in_memory_sqlite_works_without_a_folder() -> None:
    store = MetadataStore("sqlite://")
    try:
        store.upgrade()
        assert store.current_revision() == store.head_revision()
    finally:
        store.dispose()


def test_sqlite_read_then_write_transactions_neither_fail_nor_lose_updates(
    tmp_path: Path,
) -> None:
    """Concurrent read-modify-write: a deferred BEGIN would fail with "database is locked"."""
    store = MetadataStore(f"sqlite:///{tmp_path / 'lock.db'}")
    with store.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (n INTEGER NOT NULL)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (0)")
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def increment(times: int) -> None:
        start.wait(timeout=30)
        try:
            for _ in range(times):
                with write_transaction(store.engine) as connection:
                    value = connection.execute(text("SELECT n FROM counter")).scalar_one()
                    connection.execute(text("UPDATE counter SET n = :n"), {"n": value + 1})
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=increment, args=(25,)) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        with store.engine.connect() as connection:
            final = connection.execute(text("SELECT n FROM counter")).scalar_one()
    finally:
        store.dispose()

    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert final == 100
