"""The packaged migrations build exactly the schema of tables.py, and the version checks."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Connection, MetaData, String, inspect, text

from reportgen.errors import ConfigurationError
from reportgen.store import MetadataStore, migrations_config
from reportgen.store.tables import metadata


def schema_differences(connection: Connection, target: MetaData) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, target))


HEAD = "0005"


def test_head_is_the_newest_shipped_revision(empty_store: MetadataStore) -> None:
    assert empty_store.head_revision() == HEAD


def test_a_new_database_has_no_revision(empty_store: MetadataStore) -> None:
    assert empty_store.current_revision() is None


def test_upgrade_builds_exactly_the_tables_schema(empty_store: MetadataStore) -> None:
    empty_store.upgrade()

    assert empty_store.current_revision() == empty_store.head_revision()
    with empty_store.engine.connect() as connection:
        assert schema_differences(connection, metadata) == []
        assert set(inspect(connection).get_table_names()) == {*metadata.tables, "alembic_version"}


def test_the_comparison_would_see_a_difference(store: MetadataStore) -> None:
    """Guard against a vacuous comparison: a changed copy of the schema must not match."""
    changed = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["users"].append_column(Column("nickname", String(50)))
    changed.tables["audit_events"].c.actor.type = String(201)
    changed.tables["runs"].c.status.nullable = True

    with store.engine.connect() as connection:
        differences = repr(schema_differences(connection, changed))

    assert "add_column" in differences
    assert "nickname" in differences
    assert "modify_type" in differences
    assert "modify_nullable" in differences


def test_upgrade_twice_changes_nothing(empty_store: MetadataStore) -> None:
    empty_store.upgrade()
    empty_store.upgrade()

    assert empty_store.current_revision() == HEAD
    with empty_store.engine.connect() as connection:
        assert schema_differences(connection, metadata) == []


def test_downgrade_to_base_removes_every_table(empty_store: MetadataStore) -> None:
    empty_store.upgrade()
    with empty_store.engine.begin() as connection:
        command.downgrade(migrations_config(connection), "base")

    assert empty_store.current_revision() is None
    with empty_store.engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) == {"alembic_version"}

    empty_store.upgrade()
    with empty_store.engine.connect() as connection:
        assert schema_differences(connection, metadata) == []


def test_check_current_refuses_an_empty_database(empty_store: MetadataStore) -> None:
    with pytest.raises(ConfigurationError, match=r"run `reportgen db upgrade`"):
        empty_store.check_current()


def test_check_current_accepts_a_database_at_head(empty_store: MetadataStore) -> None:
    empty_store.upgrade()

    empty_store.check_current()  # raises if not current

    assert empty_store.current_revision() == empty_store.head_revision()


def test_check_current_refuses_a_database_from_a_newer_release(
    empty_store: MetadataStore,
) -> None:
    empty_store.upgrade()
    with empty_store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed'"))

    with pytest.raises(ConfigurationError, match="newer release") as raised:
        empty_store.check_current()
    assert "f00dfeed" in str(raised.value)


def test_shared_store_is_current(store: MetadataStore) -> None:
    store.check_current()

    assert store.current_revision() == HEAD


def test_the_throttle_migration_goes_down_and_up_again(empty_store: MetadataStore) -> None:
    empty_store.upgrade("0001")
    with empty_store.engine.connect() as connection:
        assert "sign_in_failures" not in inspect(connection).get_table_names()

    empty_store.upgrade()
    with empty_store.engine.begin() as connection:
        command.downgrade(migrations_config(connection), "0001")
    assert empty_store.current_revision() == "0001"
    with empty_store.engine.connect() as connection:
        assert "sign_in_failures" not in inspect(connection).get_table_names()
        assert "audit_events" in inspect(connection).get_table_names()

    empty_store.upgrade()
    with empty_store.engine.connect() as connection:
        assert schema_differences(connection, metadata) == []
