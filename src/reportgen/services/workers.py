"""`WorkerPool`: a bounded set of threads that claim and execute runs.

Each thread claims only when it is free, so the queue stays in the database (backpressure: a
busy pool takes nothing it cannot start). A keeper thread heartbeats the runs the pool holds and
reaps runs of workers that stopped heartbeating, anywhere in the deployment. `wake` lets the
scheduler nudge idle threads after recording fires instead of waiting for the next poll.
`stop` stops claiming and lets in-flight runs finish within one overall timeout, heartbeating
them until their threads exit, so no reaper elsewhere takes a run that is still being worked on;
runs still going at the deadline stop being heartbeated and are left for the reaper (their
deliveries are claimed per attempt, so the old threads cannot send what the new attempt sends).
"""

from __future__ import annotations

import logging
import threading
import time

from reportgen.services.runs import RunService

log = logging.getLogger(__name__)


class WorkerPool:
    def __init__(self, runs: RunService, *, size: int, poll_s: float, worker_id: str) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.runs = runs
        self.size = size
        self.poll_s = poll_s
        self.worker_id = worker_id
        self._stopping = threading.Event()  # no more claims
        self._halted = threading.Event()  # workers gone (or given up on): no more heartbeats
        self._work = threading.Condition()
        self._nudges = 0
        self._in_flight = 0
        self._count_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._keeper: threading.Thread | None = None

    @property
    def in_flight(self) -> int:
        """Runs this pool is executing right now."""
        with self._count_lock:
            return self._in_flight

    def start(self) -> None:
        if self._threads:
            raise RuntimeError("the worker pool is started already")
        self._stopping.clear()
        self._halted.clear()
        for number in range(self.size):
            self._threads.append(
                threading.Thread(target=self._serve, name=f"run-worker-{number}", daemon=True)
            )
        self._keeper = threading.Thread(target=self._keep, name="run-keeper", daemon=True)
        for thread in (*self._threads, self._keeper):
            thread.start()

    def wake(self) -> None:
        """Have idle workers look for due runs now."""
        with self._work:
            self._nudges += self.size
            self._work.notify_all()

    def stop(self, timeout: float) -> bool:
        """Stop claiming, let running work finish for up to ``timeout`` s in all, heartbeating
        it meanwhile; True when all of it did."""
        deadline = time.monotonic() + max(timeout, 0.0)
        self._stopping.set()
        self.wake()
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0.0))
        alive = [t for t in self._threads if t.is_alive()]
        self._halted.set()
        if self._keeper is not None:
            self._keeper.join(max(deadline - time.monotonic(), 0.0))
        self._threads, self._keeper = [], None
        if alive:
            log.warning(
                "%d run(s) still in flight at stop; the reaper will requeue them", len(alive)
            )
        return not alive

    def _idle(self) -> None:
        with self._work:
            if self._nudges == 0 and not self._stopping.is_set():
                self._work.wait(self.poll_s)
            self._nudges = max(self._nudges - 1, 0)

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                run = self.runs.claim(self.worker_id)
            except Exception:  # the database may be briefly away; try again after a poll
                log.exception("claiming a run failed")
                run = None
            if run is None:
                self._idle()
                continue
            with self._count_lock:
                self._in_flight += 1
            try:
                self.runs.execute(run, self.worker_id)
            except Exception:  # execute settles its own failures; this is a last resort
                log.exception("run %s escaped its executor", run.id)
            finally:
                with self._count_lock:
                    self._in_flight -= 1

    def _keep(self) -> None:
        """Heartbeat until the workers are gone (stopping included); reap until stopping."""
        while not self._halted.wait(self.poll_s):
            try:
                self.runs.heartbeat(self.worker_id)
                if not self._stopping.is_set() and self.runs.reap():
                    self.wake()
            except Exception:
                log.exception("heartbeat or reaping failed")
