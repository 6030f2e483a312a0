"""WorkerPool: bounded threads claim due runs, finish them, and stop cleanly."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest

from reportgen.domain.runs import RunStatus
from reportgen.services.workers import WorkerPool
from tests.services.test_runs import FIRE, Harness, harness  # noqa: F401 - the fixture

DEADLINE_S = 60.0


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Wait until ``condition()`` holds, failing after a deadline."""
    deadline = time.monotonic() + DEADLINE_S
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        pause.wait(0.02)


def test_a_pool_drains_the_queue_and_stops(harness: Harness) -> None:  # noqa: F811
    schedule = harness.schedule()
    for day in range(3):
        harness.runs.record_fire(schedule, FIRE - timedelta(days=day))
    pool = WorkerPool(harness.runs, size=2, poll_s=0.05, worker_id="pool-1")
    pool.start()
    try:
        pool.wake()
        wait_for(lambda: len(harness.finished) == 3, "three runs to finish")
        assert harness.runs.queue_depth() == 0
    finally:
        assert pool.stop(timeout=DEADLINE_S)
    assert pool.in_flight == 0
    assert {run.status for run, _ in harness.finished} == {RunStatus.SUCCEEDED}
    assert len(harness.email.sent) == 3
    assert {run.worker_id for run, _ in harness.finished} == {"pool-1"}


def test_a_pool_needs_a_worker(harness: Harness) -> None:  # noqa: F811
    with pytest.raises(ValueError, match="at least one worker"):
        WorkerPool(harness.runs, size=0, poll_s=1, worker_id="w")
