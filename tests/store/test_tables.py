"""The schema's guarantees hold in the database itself: unique keys, checks, foreign keys, UTC."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Connection, insert, inspect, select
from sqlalchemy.exc import IntegrityError, StatementError

from reportgen.store import MetadataStore, new_id
from reportgen.store.tables import (
    deliveries,
    metadata,
    run_transitions,
    runs,
    saved_reports,
    schedules,
    users,
)

FIRE_TIME = datetime(2025, 3, 30, 1, 0, tzinfo=UTC)


def add_user(connection: Connection, username: str = "owner") -> str:
    now = datetime.now(UTC)
    connection.execute(
        insert(users).values(
            username=username,
            display_name=username.title(),
            password_hash="x",
            roles=["author"],
            attributes={},
            created_at=now,
            updated_at=now,
        )
    )
    return username


def add_schedule(connection: Connection) -> str:
    owner = add_user(connection)
    report_id = new_id()
    connection.execute(
        insert(saved_reports).values(id=report_id, name="Sales", owner=owner, dataset="sales")
    )
    schedule_id = new_id()
    connection.execute(
        insert(schedules).values(
            id=schedule_id,
            report_id=report_id,
            owner=owner,
            name="Monthly sales",
            cadence={"kind": "cron", "expression": "0 6 1 * *"},
            timezone="Europe/Paris",
            parameters={},
            updated_by=owner,
            change_seq=next(_CHANGE_SEQ),
            recipients=["a@example.com"],
            channels=["email"],
            formats=["pdf"],
            retry_policy={"max_attempts": 3},
        )
    )
    return schedule_id


_CHANGE_SEQ = itertools.count(1)


def add_run(connection: Connection, schedule_id: str | None, **values: Any) -> str:
    run_id = new_id()
    connection.execute(
        insert(runs).values(id=run_id, schedule_id=schedule_id, fire_time=FIRE_TIME, **values)
    )
    return run_id


def test_every_constraint_and_index_is_named_by_the_convention() -> None:
    prefixes = {"PrimaryKeyConstraint": "pk_", "UniqueConstraint": "uq_"}
    prefixes |= {"ForeignKeyConstraint": "fk_", "CheckConstraint": "ck_"}
    for table in metadata.sorted_tables:
        for constraint in table.constraints:
            prefix = prefixes[type(constraint).__name__]
            assert str(constraint.name).startswith(prefix + table.name), constraint
        for index in table.indexes:
            assert str(index.name).startswith("ix_" + table.name), index


def test_a_schedule_fires_at_most_one_run_per_fire_time(store: MetadataStore) -> None:
    with store.engine.begin() as connection:
        schedule_id = add_schedule(connection)
        add_run(connection, schedule_id)

    with pytest.raises(IntegrityError), store.engine.begin() as connection:
        add_run(connection, schedule_id)

    with store.engine.connect() as connection:
        assert len(connection.execute(select(runs.c.id)).all()) == 1


def test_ad_hoc_runs_share_fire_times_freely(store: MetadataStore) -> None:
    with store.engine.begin() as connection:
        add_run(connection, None, trigger="manual")
        add_run(connection, None, trigger="manual")

    with store.engine.connect() as connection:
        assert len(connection.execute(select(runs.c.id)).all()) == 2


def test_a_run_delivers_once_per_channel_and_recipient(store: MetadataStore) -> None:
    with store.engine.begin() as connection:
        run_id = add_run(connection, add_schedule(connection))
        connection.execute(
            insert(deliveries),
            [
                {"id": new_id(), "run_id": run_id, "channel": "email", "recipient": "a@x.org"},
                {"id": new_id(), "run_id": run_id, "channel": "email", "recipient": "b@x.org"},
                {"id": new_id(), "run_id": run_id, "channel": "webhook", "recipient": "a@x.org"},
            ],
        )

    with pytest.raises(IntegrityError), store.engine.begin() as connection:
        connection.execute(
            insert(deliveries).values(
                id=new_id(), run_id=run_id, channel="email", recipient="a@x.org"
            )
        )

    with store.engine.connect() as connection:
        assert len(connection.execute(select(deliveries.c.id)).all()) == 3


def test_run_status_must_be_a_known_state(store: MetadataStore) -> None:
    with pytest.raises(IntegrityError, match="ck_runs_status"), store.engine.begin() as connection:
        add_run(connection, None, status="exploded")


def test_foreign_keys_are_enforced(store: MetadataStore) -> None:
    with pytest.raises(IntegrityError), store.engine.begin() as connection:
        add_run(connection, schedule_id="no-such-schedule")


def test_deleting_a_run_removes_its_transitions_and_deliveries(store: MetadataStore) -> None:
    with store.engine.begin() as connection:
        run_id = add_run(connection, None)
        connection.execute(
            insert(run_transitions),
            [
                {"run_id": run_id, "from_status": None, "to_status": "pending"},
                {"run_id": run_id, "from_status": "pending", "to_status": "running"},
            ],
        )
        connection.execute(
            insert(deliveries).values(id=new_id(), run_id=run_id, channel="email", recipient="a")
        )

    with store.engine.begin() as connection:
        connection.execute(runs.delete().where(runs.c.id == run_id))

    with store.engine.connect() as connection:
        assert connection.execute(select(run_transitions.c.id)).all() == []
        assert connection.execute(select(deliveries.c.id)).all() == []


def test_log_rows_get_increasing_integer_ids(store: MetadataStore) -> None:
    with store.engine.begin() as connection:
        run_id = add_run(connection, None)
        for status in ("pending", "running", "succeeded"):
            connection.execute(insert(run_transitions).values(run_id=run_id, to_status=status))

    with store.engine.connect() as connection:
        rows = connection.execute(
            select(run_transitions.c.id, run_transitions.c.to_status).order_by(run_transitions.c.id)
        ).all()
    assert [status for _, status in rows] == ["pending", "running", "succeeded"]
    assert all(isinstance(row_id, int) for row_id, _ in rows)


def test_timestamps_come_back_as_the_same_instant_in_utc(store: MetadataStore) -> None:
    paris = timezone(timedelta(hours=2))
    fire_time = datetime(2025, 6, 1, 8, 30, 15, 123456, tzinfo=paris)
    with store.engine.begin() as connection:
        run_id = new_id()
        connection.execute(insert(runs).values(id=run_id, fire_time=fire_time))

    with store.engine.connect() as connection:
        stored = connection.execute(select(runs.c.fire_time, runs.c.created_at)).one()

    assert stored.fire_time == fire_time
    assert stored.fire_time.tzinfo == UTC
    assert stored.fire_time.hour == 6
    assert stored.created_at.tzinfo == UTC


def test_naive_timestamps_are_refused(store: MetadataStore) -> None:
    with pytest.raises(StatementError, match="naive datetime"), store.engine.begin() as connection:
        connection.execute(insert(runs).values(id=new_id(), fire_time=datetime(2025, 1, 1)))


def test_the_database_reports_the_conventional_constraint_names(store: MetadataStore) -> None:
    with store.engine.connect() as connection:
        inspector = inspect(connection)
        unique_runs = {c["name"] for c in inspector.get_unique_constraints("runs")}
        unique_deliveries = {c["name"] for c in inspector.get_unique_constraints("deliveries")}
        audit_indexes = {i["name"] for i in inspector.get_indexes("audit_events")}

    assert "uq_runs_schedule_id_fire_time" in unique_runs
    assert "uq_deliveries_run_id_channel_recipient" in unique_deliveries
    assert {"ix_audit_events_actor_at", "ix_audit_events_at"} <= audit_indexes
