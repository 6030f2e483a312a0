"""The scheduler process's loop: win the leader lock, lead, step down when it is lost.

A standby tries the lock every `RETRY_S` seconds; a leader checks every `CHECK_S` that it still
holds it. Leading means: an APScheduler with one job per live schedule (reconciled every poll)
and the worker pool executing runs (its keeper heartbeats them and reaps dead workers' runs).
Losing the lock stops scheduling at once (APScheduler shut down without waiting), then lets the
runs in flight finish: two leaders never schedule together, and if they overlap for a moment
the run ledger's unique keys still keep every fire time and delivery single.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.schedulers.background import BackgroundScheduler

from reportgen.observability import set_leader
from reportgen.scheduler.firing import Clock, Dispatcher, utc_now
from reportgen.scheduler.health import SchedulerState
from reportgen.scheduler.jobs import UPKEEP, JobBook, new_scheduler
from reportgen.scheduler.leadership import LeaderLock
from reportgen.scheduler.ports import RunLedger, RunQueue, ScheduleFeed, Workers

log = logging.getLogger("reportgen.scheduler")

CHECK_S = 1.0
"""Seconds between a leader's checks that it still holds the lock."""
RETRY_S = 2.0
"""Seconds between a standby's attempts to take the lock."""


@dataclass(frozen=True)
class Duties:
    """What the process works with: the services it calls and how long it waits."""

    feed: ScheduleFeed
    ledger: RunLedger
    queue: RunQueue
    workers: Callable[[], Workers]  # a fresh pool each time this process becomes leader
    worker_id: str
    poll_s: float = 2.0
    drain_s: float = 30.0


class SchedulerProcess:
    """Leader election and, while leading, scheduling; `health` tells the API which it is."""

    def __init__(
        self,
        duties: Duties,
        lock: LeaderLock,
        *,
        clock: Clock = utc_now,
        check_s: float = CHECK_S,
        retry_s: float = RETRY_S,
    ) -> None:
        self._duties = duties
        self._lock = lock
        self._clock = clock
        self._check_s = check_s
        self._retry_s = retry_s
        self.health = SchedulerState(duties.queue.queue_depth, clock=clock)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._scheduler: BackgroundScheduler | None = None
        self._pool: Workers | None = None
        self._dispatcher: Dispatcher | None = None
        self.jobs: JobBook | None = None
        self.terms = 0  # how many times this process became leader

    def start(self) -> None:
        """Start the leadership loop in a background thread; returns at once."""
        self._thread = threading.Thread(target=self._loop, name="reportgen-leadership", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop scheduling, let runs in flight finish (up to ``timeout``), release the lock."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=(timeout or self._duties.drain_s) + 10)
        self._step_down(drain_s=timeout)
        self._lock.release()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._round()
            except Exception:  # the loop must outlive any one failure; the log has it
                log.exception("scheduler leadership round failed")
            self.health.beat()
            self._stopping.wait(self._check_s if self.health.is_leader() else self._retry_s)

    def _round(self) -> None:
        if self.health.is_leader():
            if not self._lock.still_held():
                log.error("leader lock lost; scheduling stopped, waiting as standby")
                self._step_down()
            return
        if self._lock.try_acquire():
            try:
                self._lead()
            except Exception:
                self._step_down(drain_s=0)
                self._lock.release()
                raise

    def _lead(self) -> None:
        duties = self._duties
        pool = duties.workers()
        scheduler = new_scheduler()
        dispatcher = Dispatcher(duties.ledger, clock=self._clock, on_runs=pool.wake)
        book = JobBook(scheduler, duties.feed, dispatcher, clock=self._clock)
        started = self._clock()
        book.reconcile()
        scheduler.add_job(
            book.reconcile, "interval", seconds=duties.poll_s, id="reconcile", executor=UPKEEP
        )
        self._scheduler, self._pool, self._dispatcher, self.jobs = (
            scheduler,
            pool,
            dispatcher,
            book,
        )
        pool.start()
        scheduler.start()
        self.terms += 1
        self.health.set_leader(True)
        set_leader(True)
        log.info(
            "leading: %d schedules loaded in %.2f s",
            len(book.job_ids()),
            (self._clock() - started).total_seconds(),
        )

    def _step_down(self, drain_s: float | None = None) -> None:
        self.health.set_leader(False)
        set_leader(False)
        scheduler, self._scheduler = self._scheduler, None
        pool, self._pool = self._pool, None
        dispatcher, self._dispatcher = self._dispatcher, None
        if dispatcher is not None:
            dispatcher.close()  # first: fires already queued in the executor record nothing
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if pool is not None:
            pool.stop(self._duties.drain_s if drain_s is None else drain_s)
