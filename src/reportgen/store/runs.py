"""`RunRepository`: runs and their history, claimed by workers with one conditional UPDATE.

A run is unique on ``(schedule_id, fire_time)``, so recording the same fire twice (two
schedulers, a restart) records it once. Every status or stage change goes through
`RunRepository.move`, which checks the state machine (`reportgen.domain.runs`), updates the row
only if it is still in the status it was read in (and, for a worker, still held by it) and writes
one ``run_transitions`` row per step, all in one transaction. Deliveries, artifacts, idempotency
keys and owner notices live in `reportgen.store.deliveries`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    and_,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping

from reportgen.domain.runs import (
    CLAIMABLE,
    Run,
    RunLost,
    RunStatus,
    Stage,
    Transition,
    Trigger,
    check_transition,
)
from reportgen.store.engine import write_transaction
from reportgen.store.tables import new_id, run_transitions, runs, schedules

_RUN_COLUMNS = (*runs.c, schedules.c.owner)


def _runs_query() -> Select[Any]:
    return select(*_RUN_COLUMNS).select_from(
        runs.outerjoin(schedules, schedules.c.id == runs.c.schedule_id)
    )


def run_from_row(row: RowMapping) -> Run:
    stage = row["stage"]
    return Run(
        id=row["id"],
        schedule_id=row["schedule_id"],
        report_id=row["report_id"],
        report_version=row["report_version"],
        trigger=cast("Trigger", row["trigger"]),
        fire_time=row["fire_time"],
        status=RunStatus(row["status"]),
        stage=Stage(stage) if stage else None,
        attempt=row["attempt"],
        next_attempt_at=row["next_attempt_at"],
        worker_id=row["worker_id"],
        heartbeat_at=row["heartbeat_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        error=row["error"],
        result_hashes=row["result_hashes"],
        created_at=row["created_at"],
        requested_by=row["requested_by"],
        replay_of=row["replay_of"],
        owner=row.get("owner"),
    )


class RunRepository:
    """Runs in the ``runs`` and ``run_transitions`` tables. Every method is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # Recording --------------------------------------------------------------------------------

    def record(
        self,
        *,
        schedule_id: str | None,
        report_id: str | None,
        fire_time: datetime,
        trigger: Trigger,
        now: datetime,
        requested_by: str | None = None,
        skipped_reason: str | None = None,
        replay_of: str | None = None,
    ) -> Run | None:
        """Insert a run unless ``(schedule_id, fire_time)`` has one; ``None`` when it had.

        With ``skipped_reason`` the run is recorded as skipped, with that reason, and never runs.
        """
        with write_transaction(self._engine) as connection:
            return self.record_in(
                connection,
                schedule_id=schedule_id,
                report_id=report_id,
                fire_time=fire_time,
                trigger=trigger,
                now=now,
                requested_by=requested_by,
                skipped_reason=skipped_reason,
                replay_of=replay_of,
            )

    def record_in(
        self,
        connection: Connection,
        *,
        schedule_id: str | None,
        report_id: str | None,
        fire_time: datetime,
        trigger: Trigger,
        now: datetime,
        requested_by: str | None = None,
        skipped_reason: str | None = None,
        replay_of: str | None = None,
    ) -> Run | None:
        """`record` inside the caller's transaction."""
        status = RunStatus.SKIPPED if skipped_reason else RunStatus.PENDING
        check_transition(None, status)
        run_id = new_id()
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(runs)
            .values(
                id=run_id,
                schedule_id=schedule_id,
                report_id=report_id,
                requested_by=requested_by,
                trigger=trigger,
                fire_time=fire_time,
                status=status,
                attempt=0,
                next_attempt_at=None if skipped_reason else now,
                finished_at=now if skipped_reason else None,
                error=skipped_reason,
                replay_of=replay_of,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=[runs.c.schedule_id, runs.c.fire_time])
            .returning(runs.c.id)
        )
        if connection.execute(statement).scalar_one_or_none() is None:
            return None
        _log(connection, run_id, None, status, None, skipped_reason or f"recorded ({trigger})", now)
        return self._get(connection, run_id)

    # Reading ----------------------------------------------------------------------------------

    def get(self, run_id: str) -> Run | None:
        with self._engine.connect() as connection:
            return self._get(connection, run_id)

    @staticmethod
    def _get(connection: Connection, run_id: str) -> Run | None:
        row = connection.execute(_runs_query().where(runs.c.id == run_id)).mappings().first()
        return run_from_row(row) if row else None

    def transitions(self, run_id: str) -> list[Transition]:
        t = run_transitions.c
        query = select(t.at, t.from_status, t.to_status, t.stage, t.detail)
        with self._engine.connect() as connection:
            rows = connection.execute(query.where(t.run_id == run_id).order_by(t.id)).all()
        return [
            Transition(
                at=row.at,
                from_status=RunStatus(row.from_status) if row.from_status else None,
                to_status=RunStatus(row.to_status),
                stage=Stage(row.stage) if row.stage else None,
                detail=row.detail,
            )
            for row in rows
        ]

    def last_fire_time(self, schedule_id: str) -> datetime | None:
        """The newest fire time recorded by the scheduler (manual runs and replays aside)."""
        query = (
            select(runs.c.fire_time)
            .where(runs.c.schedule_id == schedule_id, runs.c.trigger.in_(("schedule", "misfire")))
            .order_by(runs.c.fire_time.desc())
            .limit(1)
        )
        with self._engine.connect() as connection:
            return connection.execute(query).scalar_one_or_none()

    def page(
        self,
        *,
        viewer: str | None,
        status: RunStatus | None = None,
        schedule_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int = 50,
    ) -> list[Run]:
        """Runs newest first; ``viewer`` None sees every run, else runs of their schedules and
        runs they asked for. ``after`` is the (created_at, id) of the last run of the previous
        page."""
        query = _runs_query()
        if viewer is not None:
            query = query.where(or_(schedules.c.owner == viewer, runs.c.requested_by == viewer))
        if status is not None:
            query = query.where(runs.c.status == status)
        if schedule_id is not None:
            query = query.where(runs.c.schedule_id == schedule_id)
        if since is not None:
            query = query.where(runs.c.fire_time >= since)
        if until is not None:
            query = query.where(runs.c.fire_time < until)
        if after is not None:
            created, run_id = after
            query = query.where(
                or_(
                    runs.c.created_at < created,
                    and_(runs.c.created_at == created, runs.c.id < run_id),
                )
            )
        query = query.order_by(runs.c.created_at.desc(), runs.c.id.desc()).limit(limit)
        with self._engine.connect() as connection:
            return [run_from_row(row) for row in connection.execute(query).mappings()]

    def replays_of(self, run_id: str) -> list[str]:
        """Ids of the replays of ``run_id``, oldest first."""
        query = select(runs.c.id).where(runs.c.replay_of == run_id).order_by(runs.c.created_at)
        with self._engine.connect() as connection:
            return list(connection.execute(query).scalars())

    def queue_depth(self, now: datetime) -> int:
        """Runs waiting for a worker and due now."""
        query = select(func.count()).where(
            runs.c.status.in_(CLAIMABLE), runs.c.next_attempt_at <= now
        )
        with self._engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def last_delivered(self, schedule_id: str, *, excluding: str) -> Run | None:
        """The newest run of the schedule that delivered (and so has result hashes)."""
        query = (
            _runs_query()
            .where(
                runs.c.schedule_id == schedule_id,
                runs.c.status == RunStatus.SUCCEEDED,
                runs.c.result_hashes.is_not(None),
                runs.c.id != excluding,
            )
            .order_by(runs.c.finished_at.desc())
            .limit(1)
        )
        with self._engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return run_from_row(row) if row else None

    def stale(self, heard_before: datetime) -> list[Run]:
        """Running runs whose worker has not heartbeated since ``heard_before``."""
        query = _runs_query().where(
            runs.c.status == RunStatus.RUNNING,
            or_(runs.c.heartbeat_at.is_(None), runs.c.heartbeat_at < heard_before),
        )
        with self._engine.connect() as connection:
            return [run_from_row(row) for row in connection.execute(query).mappings()]

    # Workers ----------------------------------------------------------------------------------

    def claim(self, worker_id: str, now: datetime) -> Run | None:
        """Take the most overdue claimable run for ``worker_id``, or ``None`` when none is due.

        One conditional UPDATE: the sub-select picks a due run (on PostgreSQL skipping rows
        another transaction has locked), and the status guard in the UPDATE itself means a row
        taken in between is not taken twice. SQLite serialises writers with BEGIN IMMEDIATE.
        """
        due = (
            select(runs.c.id)
            .where(runs.c.status.in_(CLAIMABLE), runs.c.next_attempt_at <= now)
            .order_by(runs.c.next_attempt_at, runs.c.fire_time, runs.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        statement = (
            update(runs)
            .where(runs.c.id == due, runs.c.status.in_(CLAIMABLE))
            .values(
                status=RunStatus.RUNNING,
                stage=Stage.QUERYING,
                worker_id=worker_id,
                heartbeat_at=now,
                started_at=now,
                finished_at=None,
                attempt=runs.c.attempt + 1,
            )
            .returning(runs.c.id, runs.c.attempt)
        )
        with write_transaction(self._engine) as connection:
            # The status it left is read after the fact: the RETURNING row no longer has it.
            claimed = connection.execute(statement).first()
            if claimed is None:
                return None
            previous = connection.execute(
                select(run_transitions.c.to_status)
                .where(run_transitions.c.run_id == claimed.id)
                .order_by(run_transitions.c.id.desc())
                .limit(1)
            ).scalar_one()
            _log(
                connection,
                claimed.id,
                RunStatus(previous),
                RunStatus.RUNNING,
                Stage.QUERYING,
                f"attempt {claimed.attempt} claimed by {worker_id}",
                now,
            )
            return self._get(connection, claimed.id)

    def heartbeat(self, worker_id: str, now: datetime) -> int:
        """Mark every run ``worker_id`` holds as alive; returns how many it holds."""
        statement = (
            update(runs)
            .where(runs.c.worker_id == worker_id, runs.c.status == RunStatus.RUNNING)
            .values(heartbeat_at=now)
        )
        with self._engine.begin() as connection:
            return connection.execute(statement).rowcount

    def move(
        self,
        run_id: str,
        path: Sequence[RunStatus],
        *,
        now: datetime,
        detail: str | None = None,
        stage: Stage | None = None,
        held_by: str | None = None,
        expect: Sequence[RunStatus] | None = None,
        values: Mapping[str, Any] | None = None,
        stale_before: datetime | None = None,
    ) -> Run:
        """Move a run through ``path`` (one transition row per step) and set ``values``.

        ``held_by`` demands that this worker still holds the run, ``expect`` that it is in one
        of these statuses, ``stale_before`` that its last heartbeat is older than that (the
        reaper: a heartbeat written since it looked saves the run); otherwise `RunLost`. An
        illegal step raises `IllegalTransition`.
        """
        with write_transaction(self._engine) as connection:
            current = self._get(connection, run_id)
            if current is None:
                raise RunLost(f"run {run_id} does not exist")
            if expect is not None and current.status not in expect:
                raise RunLost(f"run {run_id} is {current.status}, not {', '.join(expect)}")
            if held_by is not None and (
                current.status is not RunStatus.RUNNING or current.worker_id != held_by
            ):
                raise RunLost(f"run {run_id} is no longer held by {held_by}")
            if stale_before is not None and not (
                current.heartbeat_at is None or current.heartbeat_at < stale_before
            ):
                raise RunLost(f"run {run_id} heartbeated at {current.heartbeat_at}: not stale")
            status: RunStatus = current.status
            for step in path:
                check_transition(status, step)
                _log(connection, run_id, status, step, stage, detail, now)
                status = step
            guard = [runs.c.id == run_id, runs.c.status == current.status]
            if held_by is not None:
                guard.append(runs.c.worker_id == held_by)
            if stale_before is not None:
                guard.append(or_(runs.c.heartbeat_at.is_(None), runs.c.heartbeat_at < stale_before))
            changed = connection.execute(
                update(runs).where(*guard).values(status=status, stage=stage, **dict(values or {}))
            ).rowcount
            if changed != 1:  # a heartbeat or claim committed between the read and the update
                raise RunLost(f"run {run_id} changed while it was being moved")
            moved = self._get(connection, run_id)
            assert moved is not None
            return moved


def _log(  # noqa: PLR0917 - one history row
    connection: Connection,
    run_id: str,
    from_status: RunStatus | None,
    to_status: RunStatus,
    stage: Stage | None,
    detail: str | None,
    at: datetime,
) -> None:
    connection.execute(
        insert(run_transitions).values(
            run_id=run_id,
            at=at,
            from_status=from_status,
            to_status=to_status,
            stage=stage,
            detail=detail,
        )
    )
