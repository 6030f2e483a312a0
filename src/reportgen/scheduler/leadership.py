"""The leader lock: one active scheduler per deployment, a standby ready to take over.

On PostgreSQL the lock is a session advisory lock held on a dedicated connection: when the
leader dies, its connection closes and the server frees the lock. TCP keepalives on both ends
make a vanished machine (not just a dead process) noticed within about 10 s. On SQLite it is an
OS file lock beside the database (``data_dir/scheduler.lock``), freed by the kernel when the
process dies. Either way the holder checks every second that it still holds the lock and stops
scheduling at once when it does not.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from pathlib import Path
from typing import Protocol

import filelock
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from reportgen.settings import Settings
from reportgen.store.engine import normalise_url

log = logging.getLogger("reportgen.scheduler")

LOCK_NAME = "reportgen.scheduler.leader"
LOCK_FILE = "scheduler.lock"
# A signed 64-bit key derived from a fixed name, so every version agrees on it.
ADVISORY_KEY = int.from_bytes(hashlib.sha256(LOCK_NAME.encode()).digest()[:8], "big", signed=True)
# Client-side keepalives (libpq) and server-side ones (per session): ~5 s idle, 3 probes 2 s apart.
_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
    "connect_timeout": 5,
    "application_name": "reportgen-scheduler-leader",
    "options": "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2"
    " -c tcp_keepalives_count=3 -c statement_timeout=5000",
}


class LeaderLock(Protocol):
    """A lock at most one process of a deployment holds."""

    def try_acquire(self) -> bool:
        """Take the lock if it is free; never waits. True when this process holds it now."""
        ...

    def still_held(self) -> bool:
        """Whether the lock is still ours (False once its connection or file is gone)."""
        ...

    def release(self) -> None: ...


class PostgresLeaderLock:
    """``pg_try_advisory_lock`` on a connection of its own, kept open while leading."""

    def __init__(self, url: str, *, key: int = ADVISORY_KEY) -> None:
        self._engine: Engine = create_engine(
            normalise_url(url), poolclass=NullPool, connect_args=_KEEPALIVES
        )
        self._key = key
        self._connection: Connection | None = None

    def try_acquire(self) -> bool:
        if self._connection is not None:
            return self.still_held()
        try:
            connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except DBAPIError as exc:
            log.warning("leader lock: cannot reach the metadata DB (%s)", type(exc).__name__)
            return False
        try:
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            ).scalar_one()
        except DBAPIError:
            connection.invalidate()
            connection.close()
            return False
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def still_held(self) -> bool:
        connection = self._connection
        if connection is None:
            return False
        try:
            held = connection.execute(
                # The only advisory lock this connection ever takes (objsubid 1: a bigint key).
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND pid = pg_backend_pid() AND granted AND objsubid = 1"
                )
            ).scalar_one()
        except DBAPIError:
            self._drop()
            return False
        if not held:
            self._drop()
        return bool(held)

    def backend_pid(self) -> int | None:
        """The server process of the lock connection (tests terminate it to simulate a death)."""
        if self._connection is None:
            return None
        return int(self._connection.execute(text("SELECT pg_backend_pid()")).scalar_one())

    def release(self) -> None:
        connection = self._connection
        if connection is None:
            return
        with contextlib.suppress(DBAPIError):  # a lost connection took the lock with it
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
        self._drop()
        self._engine.dispose()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.invalidate()
                connection.close()
            except DBAPIError:
                pass


class FileLeaderLock:
    """An OS file lock (flock) on ``data_dir/scheduler.lock``, for the embedded SQLite setup."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._lock = filelock.FileLock(path, thread_local=False, preserve_lock_file=True)
        self._inode: int | None = None

    def try_acquire(self) -> bool:
        if self._lock.is_locked:
            return self.still_held()
        try:
            self._lock.acquire(timeout=0)
        except filelock.Timeout:
            return False
        self._inode = self._path.stat().st_ino
        return True

    def still_held(self) -> bool:
        # The lock is on an inode: if someone removed or replaced the file, another process can
        # lock the new one, so the old lock no longer makes us the only leader.
        try:
            same = self._path.stat().st_ino == self._inode
        except FileNotFoundError:
            same = False
        if self._lock.is_locked and same:
            return True
        self.release()
        return False

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release(force=True)
        self._inode = None


def open_leader_lock(settings: Settings) -> LeaderLock:
    """The leader lock fitting the metadata DB: advisory lock on PostgreSQL, else a file lock."""
    url = settings.resolved_database_url
    if normalise_url(url).get_backend_name() == "postgresql":
        return PostgresLeaderLock(url)
    return FileLeaderLock(settings.data_dir / LOCK_FILE)
