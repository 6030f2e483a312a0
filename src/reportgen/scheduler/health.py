"""What ``/healthz`` and ``/readyz`` say about the scheduler: leader or standby, alive, backlog."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol


class SchedulerHealth(Protocol):
    """The scheduler's state as the REST API reports it (`reportgen.api.create_app`)."""

    def is_leader(self) -> bool: ...

    def last_heartbeat(self) -> datetime | None:
        """When the scheduler's loop last completed a round (leader or standby)."""
        ...

    def queue_depth(self) -> int:
        """Runs waiting for a worker."""
        ...


class SchedulerState:
    """The live `SchedulerHealth` of this process, updated by its leadership loop."""

    def __init__(
        self,
        queue_depth: Callable[[], int],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._queue_depth = queue_depth
        self._clock = clock
        self._leader = threading.Event()
        self._heartbeat: datetime | None = None

    def is_leader(self) -> bool:
        return self._leader.is_set()

    def last_heartbeat(self) -> datetime | None:
        return self._heartbeat

    def queue_depth(self) -> int:
        return self._queue_depth()

    def set_leader(self, leading: bool) -> None:
        if leading:
            self._leader.set()
        else:
            self._leader.clear()

    def beat(self) -> None:
        self._heartbeat = self._clock()

    @property
    def role(self) -> str:
        return "leader" if self.is_leader() else "standby"
