"""`AuditLog`: the append-only, hash-chained audit trail in the ``audit_events`` table.

There is no update and no delete. Appends are serialised (SQLite: ``BEGIN IMMEDIATE``;
PostgreSQL: a transaction-scoped advisory lock), and the table itself refuses a forked chain:
``seq`` is the primary key and ``prev_hash`` is unique, so two writers that read the same tail
cannot both commit. The loser retries on the new tail, a bounded number of times.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from reportgen.domain.audit import (
    GENESIS_HASH,
    AuditEvent,
    AuditOutcome,
    ChainReport,
    make_event,
    verify_chain,
)
from reportgen.errors import InternalError, InvalidInput
from reportgen.store.engine import write_transaction
from reportgen.store.tables import audit_events, utcnow

APPEND_ATTEMPTS = 10
VERIFY_BATCH = 1000
MAX_LIST_LIMIT = 10_000
# pg_advisory_xact_lock key shared by every process appending to this database's audit log.
_POSTGRES_LOCK_KEY = int.from_bytes(b"rg-audit", "big")


class AuditLog:
    """Append and read audit events; `verify` proves the stored chain is unbroken."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def append(
        self,
        actor: str,
        action: str,
        target: str,
        outcome: AuditOutcome | str,
        details: Mapping[str, object] | None = None,
    ) -> AuditEvent:
        """Record one event at the end of the chain and return it as stored.

        Raises `InvalidInput` for a malformed event (unknown outcome, empty actor, details that
        are not plain JSON) and `InternalError` if the chain stayed contended for every attempt.
        """
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
                            at=utcnow(),
                            actor=actor,
                            action=action,
                            target=target,
                            outcome=outcome,
                            details=details,
                        )
                    except ValueError as error:  # ValidationError included
                        raise InvalidInput(f"invalid audit event: {error}") from error
                    connection.execute(insert(audit_events).values(**event.model_dump()))
                    return event
            except IntegrityError:
                # Another writer took this seq (or this prev_hash) first: retry on the new tail.
                continue
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
        """Events newest first, filtered; ``since`` is inclusive and ``until`` exclusive."""
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIST_LIMIT}, got {limit}")
        query = select(audit_events).order_by(audit_events.c.seq.desc()).limit(limit)
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
        """Re-hash the whole chain in ``seq`` order, ``batch_size`` events per query."""
        return verify_chain(self._stream(batch_size))

    def _stream(self, batch_size: int) -> Iterator[AuditEvent]:
        after = 0
        while True:
            with self._engine.connect() as connection:
                rows = connection.execute(
                    select(audit_events)
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


def _event(row: Mapping[Any, Any]) -> AuditEvent:
    values = dict(row)
    try:
        return AuditEvent.model_validate(values)
    except ValidationError:
        # A tampered row may no longer validate; it must still be listed and reported by
        # verification (as altered: its hash cannot match), not crash either.
        return AuditEvent.model_construct(**values)
