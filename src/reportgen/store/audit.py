"""`AuditLog`: the append-only, keyed hash chain of audit events in the ``audit_events`` table.

There is no update and no delete. Appends are serialised (SQLite: ``BEGIN IMMEDIATE``;
PostgreSQL: a transaction-scoped advisory lock), and the table itself refuses a forked chain:
``seq`` is the primary key and ``prev_hash`` is unique, so two writers that read the same tail
cannot both commit. The loser retries on the new tail, a bounded number of times.

Each event is sealed with an HMAC keyed by the deployment's audit key, which the database never
holds, and after each append the new head is recorded outside the database (`HeadAnchor`), so
`AuditLog.verify` sees rewritten history and removed newest events too. Rows are read with their
``at`` and ``details`` columns raw, so a damaged row is reported as altered instead of crashing
the reader.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, Select, Text, func, insert, select, type_coerce
from sqlalchemy.exc import IntegrityError

from reportgen.domain.audit import (
    GENESIS_HASH,
    AuditEvent,
    AuditOutcome,
    ChainHead,
    ChainReport,
    context_details,
    make_event,
    verify_chain,
)
from reportgen.errors import ConfigurationError, InternalError, InvalidInput
from reportgen.store.audit_head import AnchorUnreadable, HeadAnchor
from reportgen.store.engine import write_transaction
from reportgen.store.tables import audit_events, utcnow

APPEND_ATTEMPTS = 10
VERIFY_BATCH = 1000
MAX_LIST_LIMIT = 10_000
# pg_advisory_xact_lock key shared by every process appending to this database's audit log.
_POSTGRES_LOCK_KEY = int.from_bytes(b"rg-audit", "big")
# Every column, with the two a damaged row can make unreadable coerced to text: SQLAlchemy then
# skips its own JSON and timestamp parsing, and `_event` parses them itself.
_RAW_COLUMNS = [
    type_coerce(column, Text).label(column.name) if column.name in {"at", "details"} else column
    for column in audit_events.c
]


class AuditLog:
    """Append and read audit events; `verify` proves the stored chain is unbroken.

    ``key`` seals the chain (appending and verifying need it); ``head`` is where the newest
    event is recorded outside the database, or ``None`` to record nothing (removing the newest
    events then goes unnoticed).
    """

    def __init__(self, engine: Engine, *, key: bytes | None, head: Path | None) -> None:
        self._engine = engine
        self._key = key
        self._anchor = HeadAnchor(head) if head is not None else None

    def _sealing_key(self) -> bytes:
        if not self._key:
            raise ConfigurationError(
                "the audit log needs the deployment's audit key (REPORTGEN_AUDIT_KEY)"
            )
        return self._key

    def append(
        self,
        actor: str,
        action: str,
        target: str,
        outcome: AuditOutcome | str,
        details: Mapping[str, object] | None = None,
    ) -> AuditEvent:
        """Record one event at the end of the chain and return it as stored.

        The current `reportgen.domain.audit.audit_context` is merged into ``details``. Raises
        `InvalidInput` for a malformed event (unknown outcome, empty actor, details that are not
        plain JSON) and `InternalError` if the chain stayed contended for every attempt.
        """
        key = self._sealing_key()
        merged = {**(details or {}), **context_details()}
        for _ in range(APPEND_ATTEMPTS):
            try:
                with write_transaction(self._engine) as connection:
                    if connection.dialect.name == "postgresql":
                        connection.execute(select(func.pg_advisory_xact_lock(_POSTGRES_LOCK_KEY)))
                    prev_seq, prev_hash = self._tail(connection)
                    try:
                        event = make_event(
                            prev_seq,
                            prev_hash,
                            key=key,
                            at=utcnow(),
                            actor=actor,
                            action=action,
                            target=target,
                            outcome=outcome,
                            details=merged,
                        )
                    except ValueError as error:  # ValidationError included
                        raise InvalidInput(f"invalid audit event: {error}") from error
                    connection.execute(insert(audit_events).values(**event.model_dump()))
            except IntegrityError:
                # Another writer took this seq (or this prev_hash) first: retry on the new tail.
                continue
            # Only once committed: a head recorded ahead of the database would be a false alarm.
            if self._anchor is not None:
                self._anchor.advance(ChainHead(seq=event.seq, hash=event.hash))
            return event
        raise InternalError(
            f"could not append to the audit log after {APPEND_ATTEMPTS} attempts:"
            " other writers kept taking the next position"
        )

    def _tail(self, connection: Connection) -> tuple[int, str]:
        """``(seq, hash)`` of the last event, or ``(0, GENESIS_HASH)`` for an empty log."""
        row = connection.execute(
            select(audit_events.c.seq, audit_events.c.hash)
            .order_by(audit_events.c.seq.desc())
            .limit(1)
        ).first()
        return (0, GENESIS_HASH) if row is None else (row.seq, row.hash)

    def list(
        self,
        actor: str | None = None,
        action: str | None = None,
        limit: int = 100,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        target: str | None = None,
    ) -> builtins.list[AuditEvent]:
        """Events newest first, filtered; ``since`` is inclusive and ``until`` exclusive.

        A damaged row is listed too, with its `AuditEvent.damage` set and its fields raw.
        """
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIST_LIMIT}, got {limit}")
        query: Select[Any] = select(*_RAW_COLUMNS).order_by(audit_events.c.seq.desc()).limit(limit)
        if actor is not None:
            query = query.where(audit_events.c.actor == actor)
        if action is not None:
            query = query.where(audit_events.c.action == action)
        if target is not None:
            query = query.where(audit_events.c.target == target)
        if since is not None:
            query = query.where(audit_events.c.at >= since)
        if until is not None:
            query = query.where(audit_events.c.at < until)
        with self._engine.connect() as connection:
            return [_event(row._mapping) for row in connection.execute(query)]

    def verify(self, batch_size: int = VERIFY_BATCH) -> ChainReport:
        """Re-seal the whole chain in ``seq`` order, ``batch_size`` events per query, and compare
        its end with the head recorded outside the database."""
        key = self._sealing_key()
        anchor = None
        if self._anchor is not None:
            # Read before the chain: the head only moves after a commit, so a chain read later
            # can only be longer than it, never shorter, unless events were removed.
            try:
                anchor = self._anchor.read()
            except AnchorUnreadable as error:
                return ChainReport(
                    ok=False, checked=0, reason=f"the recorded audit head is damaged: {error}"
                )
        return verify_chain(self._stream(batch_size), key=key, anchor=anchor)

    def _stream(self, batch_size: int) -> Iterator[AuditEvent]:
        after = 0
        while True:
            with self._engine.connect() as connection:
                rows = connection.execute(
                    select(*_RAW_COLUMNS)
                    .where(audit_events.c.seq > after)
                    .order_by(audit_events.c.seq)
                    .limit(batch_size)
                ).all()
            for row in rows:
                yield _event(row._mapping)
            if len(rows) < batch_size:
                return
            after = rows[-1].seq

    def count(self) -> int:
        """How many events the log holds."""
        with self._engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(audit_events)).scalar_one()


def _read_at(value: object) -> datetime | None:
    """A stored timestamp as UTC: PostgreSQL hands over a datetime, SQLite its text."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _read_details(value: object) -> dict[str, Any] | None:
    """Stored details as a JSON object: PostgreSQL hands over the object, SQLite its text."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def _event(row: Mapping[Any, Any]) -> AuditEvent:
    values = dict(row)
    at, details = _read_at(values["at"]), _read_details(values["details"])
    if at is None:
        return AuditEvent.damaged("its time is unreadable", **values)
    if details is None:
        return AuditEvent.damaged("its details are not a JSON object", **values)
    values.update(at=at, details=details)
    try:
        return AuditEvent.model_validate(values)
    except ValidationError:
        # A tampered row may no longer validate; it must still be listed and reported by
        # verification (as altered: its hash cannot match), not crash either.
        return AuditEvent.model_construct(**values)
