"""`RunService`: record fires, hand runs to workers, reap the stalled, answer who ran what.

The scheduler records fire times (`record_fire`, idempotent on schedule and fire time); people
ask for runs (`run_now` with an optional idempotency key, `retry`, `replay`); workers `claim`,
`execute` and `heartbeat`; `reap` returns the runs of silent workers to the queue, by the
schedule's retry policy. Reading runs is limited to their schedule's owner, whoever asked for
them, and admins; of a run's files a person sees only the render made for their own policy
(admins see every audience's).
"""

from __future__ import annotations

import base64
import builtins
import json
import logging
import random as random_module
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from reportgen.domain.principal import Principal
from reportgen.domain.runs import (
    ArtifactRecord,
    Run,
    RunDetail,
    RunLost,
    RunPage,
    RunStatus,
    Trigger,
    backoff_delay,
    retries_left,
)
from reportgen.domain.schedules import RetryPolicy, Schedule
from reportgen.errors import InvalidInput, NotFound
from reportgen.observability import bind_run, span
from reportgen.services.ports import AuditSink, DeliveryChannel, UserStore
from reportgen.services.render import RenderService
from reportgen.services.runs.audience import policy_key
from reportgen.services.runs.execution import SCHEDULER, Limits, RunExecutor
from reportgen.services.runs.ports import DeliveryLedger, ReportSource, RunLedger, ScheduleSource

log = logging.getLogger(__name__)
IDEMPOTENCY_WINDOW = timedelta(hours=24)
MAX_PAGE = 500


@dataclass(frozen=True)
class ArtifactFile:
    data: bytes
    sha256: str
    content_type: str
    filename: str


def _utcnow() -> datetime:
    return datetime.now(UTC)


def encode_cursor(run: Run) -> str:
    raw = json.dumps([run.created_at.isoformat(), run.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, run_id = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(created), str(run_id)
    except (ValueError, TypeError) as error:
        raise InvalidInput(
            "cursor is not one this API gave out; pass the next_cursor of the previous page,"
            " or none for the first page"
        ) from error


class RunService:
    """Runs of schedules: their queue, their execution and their history."""

    def __init__(
        self,
        ledger: RunLedger,
        deliveries: DeliveryLedger,
        *,
        schedules: ScheduleSource,
        reports: ReportSource,
        users: UserStore,
        render: RenderService,
        channels: Mapping[str, DeliveryChannel],
        audit: AuditSink,
        limits: Limits | None = None,
        stale_after_s: float = 30.0,
        clock: Callable[[], datetime] = _utcnow,
        random: Callable[[], float] = random_module.random,
        on_run_finished: Callable[[Run, float], None] | None = None,
        on_delivery: Callable[[str, str], None] | None = None,
    ) -> None:
        self.ledger = ledger
        self.deliveries = deliveries
        self.schedules = schedules
        self.audit = audit
        self.render = render
        self.stale_after_s = stale_after_s
        self.limits = limits or Limits()
        self._clock = clock
        self._random = random
        self._on_run_finished = on_run_finished
        self.executor = RunExecutor(
            ledger,
            deliveries,
            schedules=schedules,
            reports=reports,
            users=users,
            render=render,
            channels=channels,
            audit=audit,
            limits=self.limits,
            clock=clock,
            random=random,
            on_delivery=on_delivery,
        )

    # The scheduler's side ---------------------------------------------------------------------

    def record_fire(
        self,
        schedule: Schedule,
        fire_time: datetime,
        *,
        skipped_reason: str | None = None,
        trigger: Trigger = "schedule",
    ) -> Run | None:
        """Record that ``schedule`` fired at ``fire_time``; None when that fire was recorded
        already. With ``skipped_reason`` the fire is recorded as a skipped run, not executed."""
        return self.ledger.record(
            schedule_id=schedule.id,
            report_id=schedule.report_id,
            fire_time=fire_time,
            trigger=trigger,
            now=self._clock(),
            skipped_reason=skipped_reason,
        )

    def last_fire_time(self, schedule_id: str) -> datetime | None:
        return self.ledger.last_fire_time(schedule_id)

    def queue_depth(self) -> int:
        """Runs waiting for a worker and due now."""
        return self.ledger.queue_depth(self._clock())

    # Workers ----------------------------------------------------------------------------------

    @property
    def abandoned_stages(self) -> int:
        """Render threads abandoned on a timeout in this process and still running."""
        return self.executor.stages.abandoned

    def claim(self, worker_id: str) -> Run | None:
        """The next due run, now held by ``worker_id``; None when nothing is due, or while too
        many timed-out renders of this process are still running (they hold the warehouse and
        the CPU that the pool's own count no longer shows)."""
        abandoned = self.abandoned_stages
        if abandoned >= self.limits.max_abandoned_stages:
            log.warning(
                "not claiming: %d timed-out render(s) still running (limit %d)",
                abandoned,
                self.limits.max_abandoned_stages,
            )
            return None
        run = self.ledger.claim(worker_id, self._clock())
        if run is not None:
            self.audit.append(
                run.requested_by or SCHEDULER,
                "run.start",
                f"run:{run.id}",
                "succeeded",
                {"schedule": run.schedule_id, "attempt": run.attempt, "worker": worker_id},
            )
        return run

    def execute(self, run: Run, worker_id: str) -> Run:
        """Carry a claimed run to its end (or to its next retry) and report how it ended."""
        started = self._clock()
        with bind_run(run.id), span("run.execute", run_id=run.id, trigger=run.trigger):
            finished = self.executor.execute(run, worker_id)
        if finished.status is not RunStatus.RUNNING:
            duration = (self._clock() - started).total_seconds()
            self.audit.append(
                run.requested_by or SCHEDULER,
                "run.finish",
                f"run:{run.id}",
                "succeeded" if finished.status in {RunStatus.SUCCEEDED, RunStatus.SKIPPED}
                else "failed",
                {"status": finished.status.value, "error": finished.error},
            )  # fmt: skip
            if self._on_run_finished is not None:
                self._on_run_finished(finished, duration)
        return finished

    def heartbeat(self, worker_id: str) -> None:
        self.ledger.heartbeat(worker_id, self._clock())

    def reap(self) -> int:
        """Return runs whose worker stopped heartbeating to the queue, after the backoff of
        their schedule's retry policy, or to the dead letters once their attempts are spent
        (a run that kills its worker is not retried forever); how many were moved.

        Their completed deliveries stay delivered: the next attempt sends only the rest. The
        move is conditional on the heartbeat still being stale, so a worker that heartbeats
        between the look and the move keeps its run.
        """
        now = self._clock()
        stale_before = now - timedelta(seconds=self.stale_after_s)
        reaped = 0
        for run in self.ledger.stale(stale_before):
            reason = f"worker {run.worker_id} stopped responding"
            schedule = self.schedules.load(run.schedule_id) if run.schedule_id else None
            policy = schedule.retry if schedule else RetryPolicy()
            if retries_left(policy, run.attempt):
                wait = backoff_delay(policy, run.attempt, self._random)
                path = [RunStatus.FAILED, RunStatus.RETRYING]
                detail = (
                    f"{reason}; retry {run.attempt + 1} of {policy.max_attempts} in {wait:.0f} s"
                )
                values = {
                    "error": reason,
                    "next_attempt_at": now + timedelta(seconds=wait),
                    "worker_id": None,
                }
            else:
                path = [RunStatus.FAILED, RunStatus.DEAD]
                detail = reason = f"{reason} (gave up after {run.attempt} attempts)"
                values = {
                    "error": reason,
                    "finished_at": now,
                    "next_attempt_at": None,
                    "worker_id": None,
                }
            try:
                moved = self.ledger.move(
                    run.id,
                    path,
                    now=now,
                    expect=[RunStatus.RUNNING],
                    stale_before=stale_before,
                    detail=detail,
                    values=values,
                )
            except RunLost:
                continue  # it heartbeated, finished or was reaped by another meanwhile
            reaped += 1
            if moved.status is RunStatus.DEAD:
                self.audit.append(
                    SCHEDULER, "run.finish", f"run:{run.id}", "failed",
                    {"status": moved.status.value, "error": moved.error},
                )  # fmt: skip
                if self._on_run_finished is not None:
                    started = run.started_at or now
                    self._on_run_finished(moved, (now - started).total_seconds())
        return reaped

    # People's side ----------------------------------------------------------------------------

    def _schedule_for(self, principal: Principal, schedule_id: str) -> Schedule:
        schedule = self.schedules.load(schedule_id)
        if schedule is None or not (principal.is_admin or schedule.owner == principal.username):
            raise NotFound(f"there is no schedule {schedule_id} you can run")
        return schedule

    def run_now(
        self, principal: Principal, schedule_id: str, *, idempotency_key: str | None = None
    ) -> Run:
        """Queue a run of the schedule now; the same key from the same person within 24 h
        returns the run the first request made."""
        schedule = self._schedule_for(principal, schedule_id)
        now = self._clock()
        if idempotency_key is not None:
            key = idempotency_key.strip()
            if not key or len(key) > 200:
                raise InvalidInput("Idempotency-Key must be 1 to 200 characters")
            run, created = self.deliveries.request_run(
                username=principal.username,
                key=key,
                fresh_after=now - IDEMPOTENCY_WINDOW,
                schedule_id=schedule.id,
                report_id=schedule.report_id,
                now=now,
            )
            if not created:
                if run.schedule_id != schedule.id:
                    raise InvalidInput(
                        "this Idempotency-Key was used for another schedule in the last 24 hours;"
                        " send a new key for each request"
                    )
                return run
        else:
            made = self.ledger.record(
                schedule_id=schedule.id,
                report_id=schedule.report_id,
                fire_time=now,
                trigger="manual",
                now=now,
                requested_by=principal.username,
            )
            if made is None:
                raise InvalidInput("a run of this schedule was asked for at this instant; retry")
            run = made
        self.audit.append(principal.username, "run.request", f"run:{run.id}", "succeeded")
        return run

    def _visible(self, principal: Principal, run_id: str) -> Run:
        run = self.ledger.get(run_id)
        if run is None or not (
            principal.is_admin or principal.username in {run.owner, run.requested_by}
        ):
            raise NotFound(f"there is no run {run_id} you can see")
        return run

    def _artifacts(self, principal: Principal, run_id: str) -> builtins.list[ArtifactRecord]:
        """The run's files the principal may see: admins every audience's; anyone else only
        the render made for their own policy (a recipient's render shows what their
        permissions allow, which need not be what the owner's do)."""
        found = self.deliveries.artifacts(run_id)
        if principal.is_admin:
            return found
        own = policy_key(principal)
        return [a for a in found if a.audience == own]

    def get(self, principal: Principal, run_id: str) -> RunDetail:
        run = self._visible(principal, run_id)
        return RunDetail(
            run=run,
            transitions=tuple(self.ledger.transitions(run_id)),
            deliveries=tuple(self.deliveries.of_runs([run_id], history=True)),
            artifacts=tuple(self._artifacts(principal, run_id)),
        )

    def list(
        self,
        principal: Principal,
        *,
        status: RunStatus | None = None,
        schedule_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> RunPage:
        """Runs newest first, a page at a time; ``next_cursor`` is None on the last page."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
        runs = self.ledger.page(
            viewer=None if principal.is_admin else principal.username,
            status=status,
            schedule_id=schedule_id,
            since=since,
            until=until,
            after=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
        )
        more = len(runs) > limit
        runs = runs[:limit]
        return RunPage(runs=runs, next_cursor=encode_cursor(runs[-1]) if more else None)

    def dead_letters(self, principal: Principal) -> builtins.list[Run]:
        """Dead runs the principal may see, newest first."""
        return self.list(principal, status=RunStatus.DEAD, limit=MAX_PAGE).runs

    def retry(self, principal: Principal, run_id: str) -> Run:
        """Queue a failed or dead run again, now: deliveries that failed for good are tried
        again; delivered ones are not resent, nor are those of unknown outcome (replay)."""
        run = self._visible(principal, run_id)
        if run.status not in {RunStatus.DEAD, RunStatus.RETRYING}:
            raise InvalidInput(
                f"run {run_id} is {run.status}; only dead or retrying runs can be retried"
            )
        now = self._clock()
        try:
            moved = self.ledger.move(
                run.id,
                [RunStatus.RETRYING],
                now=now,
                expect=[run.status],
                detail=f"retried by {principal.username}",
                values={"next_attempt_at": now, "finished_at": None, "attempt": 0},
            )
        except RunLost as error:
            raise InvalidInput(f"run {run_id} changed meanwhile; reload it") from error
        reopened = self.deliveries.reopen_failed(run.id)
        self.audit.append(
            principal.username, "run.retry", f"run:{run.id}", "succeeded",
            {"deliveries_reopened": reopened},
        )  # fmt: skip
        return moved

    def replay(self, principal: Principal, run_id: str) -> Run:
        """A new run (trigger "replay") of a finished run that re-sends only what it did not
        deliver, with the original's data time."""
        run = self._visible(principal, run_id)
        if run.status not in {RunStatus.DEAD, RunStatus.SUCCEEDED, RunStatus.SKIPPED}:
            raise InvalidInput(f"run {run_id} is {run.status}; wait until it has finished")
        if run.schedule_id is None:
            raise InvalidInput(f"run {run_id} has no schedule to replay")
        now = self._clock()
        replay = self.ledger.record(
            schedule_id=run.schedule_id,
            report_id=run.report_id,
            fire_time=now,
            trigger="replay",
            now=now,
            requested_by=principal.username,
            replay_of=run.replay_of or run.id,
        )
        if replay is None:
            raise InvalidInput("a replay of this run was asked for at this instant; retry")
        self.audit.append(
            principal.username, "run.replay", f"run:{replay.id}", "succeeded", {"of": run.id}
        )
        return replay

    def artifact(self, principal: Principal, run_id: str, filename: str) -> ArtifactFile:
        """A file the run produced for the principal's own policy (admins: any audience's;
        when audiences got different versions of a file, an admin's own comes first)."""
        self._visible(principal, run_id)
        matches = [a for a in self._artifacts(principal, run_id) if a.filename == filename]
        if not matches:
            raise NotFound(f"run {run_id} has no file {filename!r} you can see")
        own = policy_key(principal)
        chosen = next((a for a in matches if a.audience == own), matches[0])
        try:
            data = self.render.store.get(chosen.uri)
        except NotFound as error:
            raise NotFound(f"the file {filename!r} of run {run_id} is no longer stored") from error
        return ArtifactFile(data, chosen.sha256, chosen.content_type, filename)
