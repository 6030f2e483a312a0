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


def _blocking_email(harness: Harness, release: threading.Event) -> None:  # noqa: F811
    email = harness.email
    real_send = email.send

    def held_send(parcel: object, target: str) -> object:
        release.wait(DEADLINE_S)
        return real_send(parcel, target)  # type: ignore[arg-type]

    email.send = held_send  # type: ignore[method-assign]


def test_a_stopping_pool_heartbeats_its_runs_until_they_end(harness: Harness) -> None:  # noqa: F811
    schedule = harness.schedule()
    run = harness.runs.record_fire(schedule, FIRE)
    assert run is not None
    release = threading.Event()
    _blocking_email(harness, release)
    pool = WorkerPool(harness.runs, size=1, poll_s=0.02, worker_id="pool-1")
    pool.start()
    stopped: list[bool] = []
    stopper = threading.Thread(target=lambda: stopped.append(pool.stop(timeout=DEADLINE_S)))
    try:
        pool.wake()
        wait_for(lambda: pool.in_flight == 1, "the run to start")
        stopper.start()
        wait_for(pool._stopping.is_set, "the pool to be stopping")
        harness.clock.now += timedelta(minutes=5)  # far past stale_after_s
        later = harness.clock.now
        wait_for(
            lambda: harness.runs.ledger.get(run.id).heartbeat_at == later,  # type: ignore[union-attr]
            "a heartbeat while stopping",
        )
        assert harness.runs.reap() == 0  # so no other process takes it
    finally:
        release.set()
        if stopper.is_alive():
            stopper.join(DEADLINE_S)
        elif not stopped:  # failed before stopping: stop here
            pool.stop(DEADLINE_S)
    assert stopped == [True]
    assert harness.finished[0][0].status is RunStatus.SUCCEEDED


def test_stop_waits_one_deadline_in_all(harness: Harness) -> None:  # noqa: F811
    schedule = harness.schedule()
    for day in range(3):
        harness.runs.record_fire(schedule, FIRE - timedelta(days=day))
    release = threading.Event()
    _blocking_email(harness, release)
    pool = WorkerPool(harness.runs, size=3, poll_s=0.02, worker_id="pool-1")
    pool.start()
    try:
        pool.wake()
        wait_for(lambda: pool.in_flight == 3, "three runs in flight")
        started = time.monotonic()
        assert not pool.stop(timeout=1.5)
        # Before, each of the three busy threads got the whole timeout (4.5 s and more).
        assert time.monotonic() - started < 3.5
    finally:
        release.set()
    wait_for(lambda: len(harness.finished) == 3, "the released runs to finish")
