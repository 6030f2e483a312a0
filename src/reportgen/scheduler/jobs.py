"""Keeping APScheduler's jobs in step with the schedules table.

APScheduler 3 cannot share a job store between processes, so the table is the source of truth:
every poll the leader reads what changed since its cursor and adds, replaces or removes one
in-memory job per live schedule. A paused or deleted schedule has no job.

Job defaults, chosen on purpose:
- ``misfire_grace_time=None``: a job that is late (the pool busy, the machine slow) still runs,
  however late; APScheduler's default of 1 s would silently drop it under load.
- ``coalesce=True``: one late wake-up runs the job once; the job itself records every fire time
  it missed from its own horizon and applies the schedule's misfire policy, so coalescing loses
  nothing and the misfire policy, not APScheduler, decides what runs.
- ``max_instances=1``: two copies of one schedule's job never race over its horizon; a wake-up
  refused because the previous one is still running is caught up by the next.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from reportgen.scheduler.firing import Dispatcher
from reportgen.scheduler.ports import ScheduleChange, ScheduleFeed
from reportgen.scheduler.trigger import CadenceTrigger

log = logging.getLogger("reportgen.scheduler")

FIRES = "fires"
"""Executor of the schedules' jobs: they only record runs, so a few threads keep up."""
UPKEEP = "upkeep"
"""Executor of the scheduler's own job (reconciling), apart from the fires."""
FIRE_THREADS = 4

PAGE = 500
"""Schedules read from the feed at a time: a page's models are dropped once its jobs exist."""

JOB_DEFAULTS = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}


def new_scheduler() -> BackgroundScheduler:
    """A BackgroundScheduler with an in-memory job store, in UTC, with our job defaults."""
    return BackgroundScheduler(
        jobstores={"default": MemoryJobStore()},
        executors={FIRES: ThreadPoolExecutor(FIRE_THREADS), UPKEEP: ThreadPoolExecutor(1)},
        job_defaults=JOB_DEFAULTS,
        timezone="UTC",
    )


@dataclass(frozen=True)
class Reconciled:
    """What one reconciliation changed."""

    added: int = 0
    replaced: int = 0
    removed: int = 0


class JobBook:
    """One APScheduler job per live schedule, reconciled from the schedule feed."""

    def __init__(
        self,
        scheduler: BackgroundScheduler,
        feed: ScheduleFeed,
        dispatcher: Dispatcher,
        *,
        clock: Callable[[], datetime],
        page: int = PAGE,
    ) -> None:
        self._scheduler = scheduler
        self._feed = feed
        self._dispatcher = dispatcher
        self._clock = clock
        self._page = page
        self._cursor: str | None = None
        self._versions: dict[str, int] = {}

    @property
    def cursor(self) -> str | None:
        return self._cursor

    def job_ids(self) -> set[str]:
        """The schedule ids that have a job now (not the scheduler's upkeep jobs)."""
        jobs = self._scheduler.get_jobs(jobstore="default")
        return {job.id for job in jobs if job.id in self._versions}

    def job(self, schedule_id: str) -> Any:
        """APScheduler's job of this schedule (its trigger, next run time), or None."""
        return self._scheduler.get_job(schedule_id)

    def reconcile(self) -> Reconciled:
        """Read the changes since the last call and bring the job set in line with them.

        A new or changed schedule's job runs once at once (so a fire time due between its change
        and this poll is recorded), then at its cadence. Changes are read `PAGE` at a time: a
        first load of a large table never holds every schedule at once.
        """
        outcomes: Counter[str] = Counter()
        now = self._clock()
        while True:
            changes, cursor = self._feed.changes_since(self._cursor, limit=self._page)
            outcomes.update(self._apply_safely(change, now) for change in changes)
            self._cursor = cursor
            if len(changes) < self._page:
                break
        added, replaced, removed = outcomes["added"], outcomes["replaced"], outcomes["removed"]
        if added or replaced or removed:
            log.info(
                "schedules reconciled: %d added, %d changed, %d removed; %d jobs",
                added,
                replaced,
                removed,
                len(self._versions),
            )
        return Reconciled(added=added, replaced=replaced, removed=removed)

    def _apply_safely(self, change: ScheduleChange, now: datetime) -> str:
        """`_apply`, except that one schedule that cannot be applied (a timezone this machine
        lacks, a broken row) is logged and skipped instead of stopping every later change."""
        try:
            return self._apply(change, now)
        except Exception:  # one bad schedule must not hold up the others
            log.exception(
                "schedule %s could not be applied; its job is left out until it changes",
                change.schedule_id,
            )
            self._versions.pop(change.schedule_id, None)
            self._dispatcher.forget(change.schedule_id)
            self._remove(change.schedule_id)
            return "failed"

    def _apply(self, change: ScheduleChange, now: datetime) -> str:
        """Bring one schedule's job in line with its change: added, replaced, removed or kept."""
        schedule = change.schedule
        if schedule is None or schedule.paused:
            had_job = self._versions.pop(change.schedule_id, None) is not None
            self._dispatcher.forget(change.schedule_id)
            self._remove(change.schedule_id)
            return "removed" if had_job else "kept"
        known = self._versions.get(schedule.id)
        if known == schedule.version:
            return "kept"
        trigger = CadenceTrigger(schedule.cadence, schedule.timezone)
        # Computed now, so a cadence that cannot be scheduled fails here, where it is logged
        # and skipped, not later inside APScheduler's thread.
        trigger.get_next_fire_time(None, now)
        self._versions[schedule.id] = schedule.version
        self._dispatcher.track(schedule)
        self._scheduler.add_job(
            self._dispatcher.dispatch,
            trigger=trigger,
            args=(schedule.id,),
            id=schedule.id,
            name=schedule.name,
            executor=FIRES,
            replace_existing=True,
            next_run_time=now,
        )
        return "added" if known is None else "replaced"

    def _remove(self, schedule_id: str) -> None:
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(schedule_id, jobstore="default")
