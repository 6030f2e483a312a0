"""Alembic's entry point for the metadata DB's migrations.

`reportgen.store.MetadataStore.upgrade` runs it with an open connection in
``config.attributes["connection"]``; otherwise it connects to ``sqlalchemy.url``. Offline mode
(``--sql``) prints the SQL instead of running it.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from reportgen.store.engine import create_metadata_engine, normalise_url
from reportgen.store.tables import metadata

config = context.config


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )


def run_offline() -> None:
    context.configure(
        url=normalise_url(config.get_main_option("sqlalchemy.url") or ""),
        target_metadata=metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_metadata_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as own_connection:
            _configure(own_connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
