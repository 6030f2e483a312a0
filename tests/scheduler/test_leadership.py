"""The leader lock: one holder at a time, freed when the holder's process or connection dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from reportgen.scheduler.leadership import (
    FileLeaderLock,
    PostgresLeaderLock,
    open_leader_lock,
)
from tests.conftest import make_settings


def wait_until(condition: object, deadline_s: float, what: str) -> float:
    """Poll ``condition`` until true; returns the seconds it took. Fails after the deadline."""
    assert callable(condition)
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < deadline_s, f"{what} within {deadline_s} s"
        time.sleep(0.1)
    return time.monotonic() - started


def test_file_lock_has_one_holder_until_released(tmp_path: Path) -> None:
    first, second = (
        FileLeaderLock(tmp_path / "scheduler.lock"),
        FileLeaderLock(tmp_path / "scheduler.lock"),
    )
    assert first.try_acquire()
    assert not second.try_acquire()
    assert first.still_held() and first.try_acquire()  # re-asking as the holder keeps it
    first.release()
    assert not first.still_held()
    assert second.try_acquire()
    assert not first.try_acquire()
    second.release()


def test_file_lock_removed_from_under_the_holder_is_no_longer_held(tmp_path: Path) -> None:
    path = tmp_path / "scheduler.lock"
    holder = FileLeaderLock(path)
    assert holder.try_acquire()
    path.unlink()  # another process can now lock a new file at this path
    assert not holder.still_held()
    assert FileLeaderLock(path).try_acquire()


HOLD = """
import sys, time
from pathlib import Path
from reportgen.scheduler.leadership import FileLeaderLock
lock = FileLeaderLock(Path(sys.argv[1]))
assert lock.try_acquire()
print("held", flush=True)
time.sleep(600)
"""


def test_file_lock_is_freed_when_the_holder_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "scheduler.lock"
    standby = FileLeaderLock(path)
    with subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            assert not standby.try_acquire()
            os.kill(holder.pid, signal.SIGKILL)
            holder.wait(timeout=10)
            wait_until(standby.try_acquire, 5, "the standby takes the lock of a killed holder")
        finally:
            holder.kill()
    standby.release()


def test_sqlite_settings_choose_the_file_lock(tmp_path: Path) -> None:
    lock = open_leader_lock(make_settings(tmp_path, tmp_path / "w.duckdb"))
    assert isinstance(lock, FileLeaderLock)
    assert lock.try_acquire()
    assert (tmp_path / "scheduler.lock").is_file()
    lock.release()


@pytest.mark.postgres
def test_advisory_lock_passes_to_the_standby_when_the_leader_connection_dies(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, tmp_path / "w.duckdb", database_url=postgres_url)
    leader, standby = open_leader_lock(settings), open_leader_lock(settings)
    assert isinstance(leader, PostgresLeaderLock) and isinstance(standby, PostgresLeaderLock)
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        assert leader.try_acquire()
        assert not standby.try_acquire()
        assert leader.still_held()
        pid = leader.backend_pid()
        assert pid is not None
        with admin.connect() as connection:  # what the server does when the leader is killed
            assert connection.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}
            ).scalar_one()
        assert not leader.still_held()
        took = wait_until(standby.try_acquire, 15, "the standby takes over")
        assert took < 15
        assert standby.still_held()
        assert not leader.try_acquire()
    finally:
        leader.release()
        standby.release()
        admin.dispose()


@pytest.mark.postgres
def test_released_advisory_lock_is_free_at_once(postgres_url: str) -> None:
    first, second = PostgresLeaderLock(postgres_url), PostgresLeaderLock(postgres_url)
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        first.release()
        assert second.try_acquire()
    finally:
        first.release()
        second.release()
