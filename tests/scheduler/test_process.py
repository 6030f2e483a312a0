"""The leadership loop: one leader schedules, a standby takes over, a lost lock stops at once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from reportgen.bootstrap import Services
from reportgen.scheduler.leadership import FileLeaderLock, PostgresLeaderLock
from reportgen.scheduler.process import Duties, SchedulerProcess
from reportgen.services.workers import WorkerPool
from tests.scheduler.fixtures import new_schedule, saved_report_id

FAST = {"check_s": 0.1, "retry_s": 0.2}


def wait_for(condition: Callable[[], bool], deadline_s: float, what: str) -> None:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < deadline_s, f"{what} within {deadline_s} s"
        time.sleep(0.05)


def duties(services: Services, worker_id: str) -> Duties:
    def pool() -> WorkerPool:
        return WorkerPool(services.runs, size=1, poll_s=0.2, worker_id=worker_id)

    return Duties(
        feed=services.schedules,
        ledger=services.runs,
        queue=services.runs,
        workers=pool,
        worker_id=worker_id,
        poll_s=0.2,
        drain_s=5,
    )


@pytest.fixture
def pair(services: Services, tmp_path: Path) -> Iterator[tuple[SchedulerProcess, ...]]:
    lock_file = tmp_path / "scheduler.lock"
    processes = tuple(
        SchedulerProcess(duties(services, name), FileLeaderLock(lock_file), **FAST)
        for name in ("first", "second")
    )
    yield processes
    for process in processes:
        process.stop(timeout=5)


def test_one_leads_the_other_waits_and_takes_over_when_it_stops(
    services: Services, pair: tuple[SchedulerProcess, SchedulerProcess]
) -> None:
    first, second = pair
    first.start()
    wait_for(first.health.is_leader, 10, "the first process leads")
    second.start()
    wait_for(lambda: second.health.last_heartbeat() is not None, 10, "the standby beats")
    beat = second.health.last_heartbeat()
    wait_for(lambda: second.health.last_heartbeat() != beat, 10, "the standby keeps trying")
    assert not second.health.is_leader()
    assert second.jobs is None  # a standby runs no jobs

    first.stop(timeout=5)
    assert not first.health.is_leader()
    wait_for(second.health.is_leader, 10, "the standby takes over")
    schedule = new_schedule(services, saved_report_id(services))
    book = second.jobs
    assert book is not None
    wait_for(lambda: schedule.id in book.job_ids(), 5, "the new schedule gets a job")


def test_a_leader_that_loses_its_lock_stops_scheduling(
    pair: tuple[SchedulerProcess, SchedulerProcess], tmp_path: Path
) -> None:
    first, _ = pair
    first.start()
    wait_for(first.health.is_leader, 10, "the process leads")
    assert first.terms == 1
    (tmp_path / "scheduler.lock").unlink()  # now anyone could take a new lock file
    wait_for(lambda: not first.health.is_leader(), 5, "the leader steps down")
    wait_for(lambda: first.terms == 2, 10, "it leads again on the new lock file")


@pytest.mark.postgres
def test_standby_takes_over_within_15_s_when_the_leader_connection_is_killed(
    services: Services, postgres_url: str
) -> None:
    leader_lock, standby_lock = PostgresLeaderLock(postgres_url), PostgresLeaderLock(postgres_url)
    # The old leader retries only after a minute, as a dead one would never: the standby must win.
    leader = SchedulerProcess(duties(services, "leader"), leader_lock, check_s=0.1, retry_s=60)
    standby = SchedulerProcess(duties(services, "standby"), standby_lock, retry_s=2.0)
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        leader.start()
        wait_for(leader.health.is_leader, 10, "the first process leads")
        standby.start()
        wait_for(lambda: standby.health.last_heartbeat() is not None, 10, "the standby beats")
        pid = leader_lock.backend_pid()
        with admin.connect() as connection:  # as the server does when the leader's host dies
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killed = time.monotonic()
        wait_for(lambda: not leader.health.is_leader(), 5, "the old leader stops scheduling")
        wait_for(standby.health.is_leader, 15, "the standby takes over")
        assert time.monotonic() - killed < 15
        assert not leader.health.is_leader()
    finally:
        leader.stop(timeout=5)
        standby.stop(timeout=5)
        admin.dispose()
