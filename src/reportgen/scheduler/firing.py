"""Turning a schedule's due fire times into recorded runs, exactly once each.

`Dispatcher.dispatch` is the job APScheduler runs for a schedule. It does not trust APScheduler
to say which fire time is due: it keeps, per schedule, the instant up to which fire times have
been handled (its *horizon*, first read from the run ledger) and records every fire time between
that horizon and now, applying the misfire policy to late ones. A late or skipped APScheduler
job, a restart or a change of leader therefore never loses a fire time, and the ledger's unique
key on (schedule, fire time) means two schedulers never record one twice.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from reportgen.domain.schedules import Cadence, MisfirePolicy, Schedule
from reportgen.observability import set_scheduler_lag
from reportgen.scheduler.misfires import DueTimes, due_times, plan_fires, summary_reason
from reportgen.scheduler.ports import RunLedger

log = logging.getLogger("reportgen.scheduler")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Tracked:
    """What the dispatcher keeps of a schedule between fires: its timing, the rest packed.

    A `Schedule` model weighs about 5 KB in memory (each nested model has its own dict and set
    of fields set): 50 MB for 10,000 schedules, more than the leader's jobs and triggers. A
    dispatch needs only the timing until a fire time is due; the schedule, packed as JSON
    (about 0.6 KB), is unpacked to record one.
    """

    cadence: Cadence
    timezone: str
    misfire_policy: MisfirePolicy
    updated_at: datetime
    packed: str

    @classmethod
    def of(cls, schedule: Schedule) -> Tracked:
        return cls(
            schedule.cadence,
            schedule.timezone,
            schedule.misfire_policy,
            schedule.updated_at,
            schedule.model_dump_json(),
        )

    def schedule(self) -> Schedule:
        """The schedule as it was tracked."""
        return Schedule.model_validate_json(self.packed)


@dataclass(frozen=True)
class Dispatched:
    """What one dispatch recorded: new runs, new skipped runs, and fire times already recorded."""

    runs: int = 0
    skipped: int = 0
    duplicates: int = 0


class Dispatcher:
    """Records due fire times of the schedules it tracks; wakes the workers when it made runs."""

    def __init__(
        self,
        ledger: RunLedger,
        *,
        clock: Clock = utc_now,
        on_runs: Callable[[], None] | None = None,
    ) -> None:
        self._ledger = ledger
        self._clock = clock
        self._on_runs = on_runs
        self._schedules: dict[str, Tracked] = {}
        self._horizons: dict[str, datetime] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._closed = False

    def close(self) -> None:
        """Record nothing more: dispatches already queued in the executor become no-ops.

        Called when leadership ends; APScheduler's shutdown does not cancel queued jobs.
        """
        with self._guard:
            self._closed = True
            self._schedules.clear()
            self._horizons.clear()

    def track(self, schedule: Schedule) -> None:
        """Start (or, after a change, go on) recording this schedule's fire times.

        A schedule already tracked keeps its horizon: a fire time due before an edit but not yet
        recorded (its dispatch running late) is still recorded. A new or resumed schedule's
        horizon is read from the ledger on its first dispatch: the later of the last recorded
        fire time and the schedule's last change.
        """
        with self._guard:
            if self._closed:
                return
            self._schedules[schedule.id] = Tracked.of(schedule)
            self._locks.setdefault(schedule.id, threading.Lock())

    def forget(self, schedule_id: str) -> None:
        """Stop recording this schedule (paused or deleted)."""
        with self._guard:
            self._schedules.pop(schedule_id, None)
            self._horizons.pop(schedule_id, None)

    def tracked(self) -> dict[str, Tracked]:
        with self._guard:
            return dict(self._schedules)

    def dispatch(self, schedule_id: str) -> Dispatched:
        """Record every fire time of the schedule due since its horizon (APScheduler's job)."""
        with self._guard:
            lock = self._locks.get(schedule_id)
        if lock is None:
            return Dispatched()
        with lock:
            with self._guard:
                tracked = self._schedules.get(schedule_id)
                horizon = self._horizons.get(schedule_id)
            if tracked is None:
                return Dispatched()
            now = self._clock()
            if horizon is None:
                last = self._ledger.last_fire_time(schedule_id)
                horizon = max(last, tracked.updated_at) if last else tracked.updated_at
            due = due_times(tracked.cadence, tracked.timezone, horizon, now)
            result = self._record(tracked, due, now) if due.times else Dispatched()
            with self._guard:
                if schedule_id in self._schedules:
                    self._horizons[schedule_id] = now
        if result.runs and self._on_runs is not None:
            self._on_runs()
        return result

    def _record(self, tracked: Tracked, due: DueTimes, now: datetime) -> Dispatched:
        schedule = tracked.schedule()
        runs = skipped = duplicates = 0
        if due.older_count and due.older_first is not None:
            log.warning(
                "schedule %s missed more than %d fire times; the oldest %d are recorded as one"
                " skipped run",
                schedule.id,
                len(due.times),
                due.older_count,
            )
            made = self._ledger.record_fire(
                schedule, due.older_first, skipped_reason=summary_reason(due)
            )
            skipped, duplicates = skipped + (made is not None), duplicates + (made is None)
        plan = plan_fires(due.times, now, schedule.misfire_policy)
        for fire_time, reason in plan.skips:
            made = self._ledger.record_fire(schedule, fire_time, skipped_reason=reason)
            skipped, duplicates = skipped + (made is not None), duplicates + (made is None)
        for fire_time, trigger in plan.runs:
            made = self._ledger.record_fire(schedule, fire_time, trigger=trigger)
            if made is None:
                duplicates += 1
                continue
            runs += 1
            set_scheduler_lag((self._clock() - fire_time).total_seconds())
        if plan.skips:
            log.info(
                "schedule %s: %d missed fire times recorded as skipped (misfire policy %s)",
                schedule.id,
                len(plan.skips),
                schedule.misfire_policy.value,
            )
        return Dispatched(runs=runs, skipped=skipped, duplicates=duplicates)


# APScheduler checks every job's arguments with inspect.signature, which dominates loading
# 10,000 jobs; a precomputed signature is returned as is (inspect honours __signature__).
setattr(Dispatcher.dispatch, "__signature__", inspect.signature(Dispatcher.dispatch))  # noqa: B010
