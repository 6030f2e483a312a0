"""`DeliveryRepository`: what runs sent, produced and promised, beside the runs themselves.

- Deliveries are unique on ``(run_id, channel, recipient)`` and inserted if absent, so a run
  resumed after a crash finds the ones already delivered and does not send them again; each
  attempt is one ``delivery_attempts`` row. Before sending, a worker claims a delivery with one
  conditional UPDATE (pending, and its run still running under that worker and attempt), so a
  delivery is handed to a channel by one attempt only; one found still "sending" by a later
  attempt is marked unknown instead of being sent again.
- Artifacts are the files a run stored, with their SHA-256.
- Run requests keep a run-now ``Idempotency-Key`` per user, so a repeated request is one run.
- Schedule notices remember a notice was sent to a schedule's owner, so it is sent once.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import Engine, and_, delete, exists, insert, not_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping

from reportgen.domain.runs import (
    ArtifactRecord,
    Delivery,
    DeliveryAttempt,
    DeliveryOutcome,
    DeliveryStatus,
    Run,
    RunStatus,
    Trigger,
    unknown_reason,
)
from reportgen.store.engine import write_transaction
from reportgen.store.runs import RunRepository
from reportgen.store.tables import (
    artifacts,
    deliveries,
    delivery_attempts,
    new_id,
    run_requests,
    runs,
    schedule_notices,
)


class _KeyTaken(Exception):
    """Another request inserted the same idempotency key first."""


AttemptOutcome = Literal["delivered", "transient", "permanent", "skipped"]
ClaimResult = Literal["claimed", "taken", "lost"]


def _claimer(worker_id: str | None, attempt: int | None) -> str | None:
    return f"worker {worker_id} (attempt {attempt})" if worker_id else None


def _delivery(row: RowMapping, history: tuple[DeliveryAttempt, ...] = ()) -> Delivery:
    return Delivery(
        id=row["id"],
        run_id=row["run_id"],
        channel=row["channel"],
        recipient=row["recipient"],
        status=DeliveryStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        delivered_at=row["delivered_at"],
        created_at=row["created_at"],
        history=history,
        claimed_by=_claimer(row["claimed_by"], row["claimed_attempt"]),
    )


@dataclass(frozen=True)
class NewArtifact:
    kind: str
    uri: str
    sha256: str
    size_bytes: int
    content_type: str
    audience: str | None = None


class DeliveryRepository:
    """Deliveries, artifacts, run requests and owner notices. Every method is one transaction."""

    def __init__(self, engine: Engine, runs: RunRepository) -> None:
        self._engine = engine
        self._runs = runs

    def _insert(self, dialect_name: str) -> Any:
        return postgresql.insert if dialect_name == "postgresql" else sqlite.insert

    # Deliveries -------------------------------------------------------------------------------

    def open(self, run_id: str, channel: str, recipient: str, now: datetime) -> Delivery:
        """The delivery of ``run_id`` to (channel, recipient), inserted if it was not there."""
        with write_transaction(self._engine) as connection:
            statement = (
                self._insert(connection.dialect.name)(deliveries)
                .values(
                    id=new_id(),
                    run_id=run_id,
                    channel=channel,
                    recipient=recipient,
                    status=DeliveryStatus.PENDING,
                    attempts=0,
                    created_at=now,
                )
                .on_conflict_do_nothing(
                    index_elements=[
                        deliveries.c.run_id,
                        deliveries.c.channel,
                        deliveries.c.recipient,
                    ]
                )
            )
            connection.execute(statement)
            row = (
                connection.execute(
                    select(deliveries).where(
                        deliveries.c.run_id == run_id,
                        deliveries.c.channel == channel,
                        deliveries.c.recipient == recipient,
                    )
                )
                .mappings()
                .one()
            )
        return _delivery(row)

    def claim(
        self, delivery_id: str, *, worker_id: str, attempt: int, now: datetime
    ) -> ClaimResult:
        """Mark a pending delivery "sending" for ``worker_id``'s ``attempt`` of its run.

        "claimed" when this call did; "lost" when the run is no longer running under that
        worker and attempt (reaped, retried or finished by another); "taken" when the delivery
        is no longer pending. The run's row is share-locked first on PostgreSQL, so a reaper
        moving the run waits for this claim (and sees it) or wins and this claim is "lost".
        """
        held = and_(
            runs.c.status == RunStatus.RUNNING,
            runs.c.worker_id == worker_id,
            runs.c.attempt == attempt,
        )
        with write_transaction(self._engine) as connection:
            run_id = connection.execute(
                select(deliveries.c.run_id).where(deliveries.c.id == delivery_id)
            ).scalar_one_or_none()
            if run_id is None:
                return "taken"
            locked = connection.execute(
                select(runs.c.id).where(runs.c.id == run_id, held).with_for_update(read=True)
            ).first()
            if locked is None:
                return "lost"
            changed = connection.execute(
                update(deliveries)
                .where(
                    deliveries.c.id == delivery_id,
                    deliveries.c.status == DeliveryStatus.PENDING,
                    exists().where(runs.c.id == deliveries.c.run_id, held),
                )
                .values(
                    status=DeliveryStatus.SENDING,
                    claimed_by=worker_id,
                    claimed_attempt=attempt,
                    claimed_at=now,
                )
            ).rowcount
        return "claimed" if changed == 1 else "taken"

    def mark_unknown(
        self, delivery_id: str, *, worker_id: str, attempt: int, now: datetime
    ) -> Delivery | None:
        """Mark a delivery left "sending" by another worker or attempt as unknown (it may have
        arrived; it is not sent again); None when it was not in that state."""
        with write_transaction(self._engine) as connection:
            row = (
                connection.execute(
                    select(deliveries).where(
                        deliveries.c.id == delivery_id,
                        deliveries.c.status == DeliveryStatus.SENDING,
                        not_(
                            and_(
                                deliveries.c.claimed_by == worker_id,
                                deliveries.c.claimed_attempt == attempt,
                            )
                        ),
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            reason = unknown_reason(_claimer(row["claimed_by"], row["claimed_attempt"]))
            changed = connection.execute(
                update(deliveries)
                .where(
                    deliveries.c.id == delivery_id,
                    deliveries.c.status == DeliveryStatus.SENDING,
                    deliveries.c.claimed_by == row["claimed_by"],
                    deliveries.c.claimed_attempt == row["claimed_attempt"],
                )
                .values(status=DeliveryStatus.UNKNOWN, last_error=reason)
            ).rowcount
            if changed != 1:  # its sender recorded the outcome meanwhile (PostgreSQL)
                return None
            connection.execute(
                insert(delivery_attempts).values(
                    delivery_id=delivery_id, at=now, outcome="unknown", detail=reason
                )
            )
            found = (
                connection.execute(select(deliveries).where(deliveries.c.id == delivery_id))
                .mappings()
                .one()
            )
        return _delivery(found)

    def reopen_failed(self, run_id: str) -> int:
        """Make the run's deliveries that failed for good pending again (a retry by hand, after
        the address or target was fixed); returns how many."""
        with self._engine.begin() as connection:
            return connection.execute(
                update(deliveries)
                .where(
                    deliveries.c.run_id == run_id,
                    deliveries.c.status == DeliveryStatus.FAILED,
                )
                .values(status=DeliveryStatus.PENDING, next_attempt_at=None)
            ).rowcount

    def record_attempt(
        self,
        delivery_id: str,
        *,
        outcome: AttemptOutcome,
        detail: str | None,
        now: datetime,
        next_attempt_at: datetime | None = None,
    ) -> None:
        """Record one attempt and move the delivery to what the outcome means."""
        status = {
            "delivered": DeliveryStatus.DELIVERED,
            "transient": DeliveryStatus.PENDING,
            "permanent": DeliveryStatus.FAILED,
            "skipped": DeliveryStatus.SKIPPED,
        }[outcome]
        with self._engine.begin() as connection:
            connection.execute(
                insert(delivery_attempts).values(
                    delivery_id=delivery_id, at=now, outcome=outcome, detail=detail
                )
            )
            # Unguarded on purpose: what the channel answered is the truth, even when a later
            # attempt meanwhile marked the delivery unknown.
            connection.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery_id)
                .values(
                    status=status,
                    attempts=deliveries.c.attempts + (0 if outcome == "skipped" else 1),
                    next_attempt_at=next_attempt_at,
                    last_error=None if outcome == "delivered" else detail,
                    delivered_at=now if outcome == "delivered" else None,
                )
            )

    def of_runs(self, run_ids: Collection[str], *, history: bool = False) -> list[Delivery]:
        """Every delivery of these runs, oldest first, with their attempts when asked."""
        with self._engine.connect() as connection:
            rows = list(
                connection.execute(
                    select(deliveries)
                    .where(deliveries.c.run_id.in_(list(run_ids)))
                    .order_by(deliveries.c.created_at, deliveries.c.channel, deliveries.c.recipient)
                ).mappings()
            )
            attempts: dict[str, list[DeliveryAttempt]] = {}
            if history and rows:
                a = delivery_attempts.c
                for row in connection.execute(
                    select(a.delivery_id, a.at, a.outcome, a.detail)
                    .where(a.delivery_id.in_([r["id"] for r in rows]))
                    .order_by(a.id)
                ):
                    attempts.setdefault(row.delivery_id, []).append(
                        DeliveryAttempt(
                            at=row.at,
                            outcome=cast("DeliveryOutcome", row.outcome),
                            detail=row.detail,
                        )
                    )
        return [_delivery(row, tuple(attempts.get(row["id"], ()))) for row in rows]

    # Artifacts --------------------------------------------------------------------------------

    def add_artifacts(self, run_id: str, files: Iterable[NewArtifact], now: datetime) -> None:
        """Remember the files a run stored (a file already listed for the run is skipped)."""
        with write_transaction(self._engine) as connection:
            known = set(
                connection.execute(
                    select(artifacts.c.uri).where(artifacts.c.run_id == run_id)
                ).scalars()
            )
            for file in files:
                if file.uri in known:
                    continue
                known.add(file.uri)
                connection.execute(
                    insert(artifacts).values(
                        id=new_id(),
                        run_id=run_id,
                        kind=file.kind,
                        uri=file.uri,
                        sha256=file.sha256,
                        size_bytes=file.size_bytes,
                        content_type=file.content_type,
                        created_at=now,
                        audience=getattr(file, "audience", None),
                    )
                )

    def artifacts(self, run_id: str) -> list[ArtifactRecord]:
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(artifacts).where(artifacts.c.run_id == run_id).order_by(artifacts.c.uri)
            ).mappings()
            return [
                ArtifactRecord(
                    id=row["id"],
                    run_id=row["run_id"],
                    kind=row["kind"],
                    filename=row["uri"].rsplit("/", 1)[-1],
                    uri=row["uri"],
                    sha256=row["sha256"],
                    size_bytes=row["size_bytes"],
                    content_type=row["content_type"],
                    created_at=row["created_at"],
                    audience=row["audience"],
                )
                for row in rows
            ]

    # Run requests (Idempotency-Key) -----------------------------------------------------------

    def request_run(
        self,
        *,
        username: str,
        key: str,
        fresh_after: datetime,
        schedule_id: str,
        report_id: str,
        now: datetime,
        trigger: Trigger = "manual",
    ) -> tuple[Run, bool]:
        """The run ``username`` asked for with ``key`` since ``fresh_after``, or a new one.

        Returns the run and whether it was made now. Two identical requests at once make one
        run: the second waits for the first's write lock (SQLite) or loses the key's insert
        (PostgreSQL) and is answered with the first's run.
        """
        for _ in range(2):
            try:
                return self._request_once(
                    username, key, fresh_after, schedule_id, report_id, now, trigger
                )
            except _KeyTaken:
                continue  # a concurrent request won the key: answer with its run
        raise RuntimeError(f"could not settle idempotency key {key!r}")  # pragma: no cover

    def _request_once(  # noqa: PLR0917
        self,
        username: str,
        key: str,
        fresh_after: datetime,
        schedule_id: str,
        report_id: str,
        now: datetime,
        trigger: Trigger,
    ) -> tuple[Run, bool]:
        with write_transaction(self._engine) as connection:
            r = run_requests.c
            found = connection.execute(
                select(r.run_id, r.created_at).where(
                    r.username == username, r.idempotency_key == key
                )
            ).first()
            if found is not None and found.created_at >= fresh_after:
                run = self._runs._get(connection, found.run_id)
                if run is not None:
                    return run, False
            if found is not None:
                connection.execute(
                    delete(run_requests).where(r.username == username, r.idempotency_key == key)
                )
            run = self._runs.record_in(
                connection,
                schedule_id=schedule_id,
                report_id=report_id,
                fire_time=now,
                trigger=trigger,
                now=now,
                requested_by=username,
            )
            assert run is not None  # a fresh fire time of now cannot collide here
            inserted = connection.execute(
                self._insert(connection.dialect.name)(run_requests)
                .values(username=username, idempotency_key=key, run_id=run.id, created_at=now)
                .on_conflict_do_nothing()
                .returning(r.run_id)
            ).first()
            if inserted is None:
                raise _KeyTaken  # rolls back the run made here
            return run, True

    # Owner notices ----------------------------------------------------------------------------

    def claim_notice(self, schedule_id: str, kind: str, run_id: str, now: datetime) -> bool:
        """True the first time a ``kind`` notice is claimed for the schedule; False after."""
        with self._engine.begin() as connection:
            inserted = connection.execute(
                self._insert(connection.dialect.name)(schedule_notices)
                .values(schedule_id=schedule_id, kind=kind, run_id=run_id, sent_at=now)
                .on_conflict_do_nothing()
                .returning(schedule_notices.c.kind)
            ).first()
        return inserted is not None

    def forget_notice(self, schedule_id: str, kind: str) -> None:
        """Allow a ``kind`` notice again (the notice could not be sent, or the fault is gone)."""
        with self._engine.begin() as connection:
            connection.execute(
                delete(schedule_notices).where(
                    schedule_notices.c.schedule_id == schedule_id, schedule_notices.c.kind == kind
                )
            )
