"""`ScheduleRepository`: stored schedules, optimistic locking and a numbered change feed.

Every write (create, update, pause, resume, delete) gives the row the next ``change_seq``.
Writers take the numbers one at a time (SQLite's write lock; a transaction-scoped advisory lock
on PostgreSQL), so numbers are committed in order and a reader that has seen number N has seen
every change up to N. The scheduler asks for the changes after the last number it saw: one
indexed range read, cheap enough to repeat every two seconds.

Updates are conditional on the version the editor read (``WHERE version = :expected``); a lost
race returns None and the service explains who saved first. Deletes are soft (``deleted_at``).
"""

from __future__ import annotations

import builtins
import logging
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, Row, func, insert, select, update

from reportgen.domain.schedules import Schedule
from reportgen.store.engine import write_transaction
from reportgen.store.tables import schedules

log = logging.getLogger(__name__)

_table = schedules

CHANGE_LOCK = 0x7265_7067_7363_6864  # "repgschd": the advisory lock numbering schedule changes
"""PostgreSQL advisory lock key held while a schedule change takes its number."""

_STORED_FIELDS = (
    "id",
    "report_id",
    "owner",
    "name",
    "cadence",
    "timezone",
    "parameters",
    "recipients",
    "channels",
    "formats",
    "run_as",
    "only_if_changed",
    "misfire_policy",
    "paused",
    "version",
    "created_at",
    "updated_at",
    "updated_by",
)


def _values(schedule: Schedule) -> dict[str, Any]:
    dumped = schedule.model_dump(mode="json")
    values = {name: dumped[name] for name in _STORED_FIELDS}
    # Timestamps stay datetimes: the column type turns them into UTC for each backend.
    values["created_at"], values["updated_at"] = schedule.created_at, schedule.updated_at
    values["retry_policy"] = dumped["retry"]
    return values


def _schedule(row: Row[Any]) -> Schedule:
    data = {name: getattr(row, name) for name in _STORED_FIELDS}
    data["retry"] = row.retry_policy
    return Schedule.model_validate(data)


def _readable(row: Row[Any]) -> Schedule | None:
    """The row's schedule; None (no job: it cannot run) with an error logged when the row does
    not hold a valid schedule, so one damaged row does not stop the scheduler reading the rest."""
    try:
        return _schedule(row)
    except ValidationError:
        log.exception("schedule %s holds values this release cannot read; it will not run", row.id)
        return None


def _next_change(connection: Connection) -> int:
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(CHANGE_LOCK)))
    latest = connection.execute(select(func.max(_table.c.change_seq))).scalar_one_or_none()
    return int(latest or 0) + 1


class ScheduleRepository:
    """Schedules in the metadata DB; one transaction per call."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, schedule: Schedule) -> Schedule:
        """Store a new schedule as given (its id, version and timestamps set by the caller)."""
        with write_transaction(self._engine) as connection:
            connection.execute(
                insert(_table).values(**_values(schedule), change_seq=_next_change(connection))
            )
        return schedule

    def replace(self, schedule: Schedule, *, expected_version: int) -> Schedule | None:
        """Overwrite a live schedule with ``schedule`` if it is still at ``expected_version``;
        None when it is not (someone saved first) or no longer exists."""
        values = _values(schedule)
        for fixed in ("id", "owner", "created_at"):
            del values[fixed]
        with write_transaction(self._engine) as connection:
            result = connection.execute(
                update(_table)
                .where(
                    _table.c.id == schedule.id,
                    _table.c.version == expected_version,
                    _table.c.deleted_at.is_(None),
                )
                .values(**values, change_seq=_next_change(connection))
            )
        return schedule if result.rowcount == 1 else None

    def delete(self, schedule_id: str, *, by: str, at: datetime) -> bool:
        """Soft-delete a live schedule (its runs keep pointing at it); False if there was none."""
        with write_transaction(self._engine) as connection:
            result = connection.execute(
                update(_table)
                .where(_table.c.id == schedule_id, _table.c.deleted_at.is_(None))
                .values(
                    deleted_at=at,
                    updated_at=at,
                    updated_by=by,
                    version=_table.c.version + 1,
                    change_seq=_next_change(connection),
                )
            )
        return result.rowcount == 1

    def get(self, schedule_id: str) -> Schedule | None:
        """A live schedule; None when missing or deleted."""
        with self._engine.connect() as connection:
            row = connection.execute(
                select(_table).where(_table.c.id == schedule_id, _table.c.deleted_at.is_(None))
            ).one_or_none()
        return None if row is None else _schedule(row)

    def list(self, owner: str | None = None) -> builtins.list[Schedule]:
        """Live schedules by name; only ``owner``'s when given."""
        statement = (
            select(_table).where(_table.c.deleted_at.is_(None)).order_by(_table.c.name, _table.c.id)
        )
        if owner is not None:
            statement = statement.where(_table.c.owner == owner)
        with self._engine.connect() as connection:
            return [_schedule(row) for row in connection.execute(statement)]

    def latest_change(self) -> int:
        """The number of the newest change (0 when nothing was ever stored)."""
        with self._engine.connect() as connection:
            latest = connection.execute(select(func.max(_table.c.change_seq))).scalar_one()
        return int(latest or 0)

    def changes_since(
        self, seq: int | None, *, limit: int | None = None
    ) -> tuple[builtins.list[tuple[str, Schedule | None]], int]:
        """What changed after change number ``seq``, oldest first, and the number to pass next.

        Each entry is (schedule id, the schedule now, or None when deleted). With ``seq`` None,
        every live schedule. A schedule changed twice appears once, as it is now.

        ``limit`` reads one page of at most that many changes (keyset paging on the change
        number): the number returned is then the last one in the page, and the next call goes
        on from there, so a caller can load many schedules a page at a time. A short page is
        the last one. A schedule changed between two pages comes again, as it is now, in a
        later page.
        """
        with self._engine.connect() as connection:
            if seq is None:
                latest = connection.execute(select(func.max(_table.c.change_seq))).scalar_one()
                if latest is None:
                    return [], 0
                # Rows changed after `latest` was read come in the next call, not this one.
                statement = select(_table).where(
                    _table.c.deleted_at.is_(None), _table.c.change_seq <= latest
                )
                end = int(latest)
            else:
                statement = select(_table).where(_table.c.change_seq > seq)
                end = seq
            rows = connection.execute(statement.order_by(_table.c.change_seq).limit(limit)).all()
        changes = [(row.id, None if row.deleted_at else _readable(row)) for row in rows]
        if rows and (seq is not None or len(rows) == limit):
            # A full page ends at its last row; more may follow. Changes end at their newest.
            end = int(rows[-1].change_seq)
        return changes, end
