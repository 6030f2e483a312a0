"""What the scheduler process needs from the services, as protocols.

The schedules service feeds the job set, the run service records fire times and does the work,
the worker pool runs it. Bootstrap's `Services` provides all three; tests may hand in their own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from reportgen.domain.schedules import Schedule


class ScheduleChange(Protocol):
    """One changed schedule: the schedule as it is now, or ``None`` when it was deleted."""

    @property
    def schedule_id(self) -> str: ...

    @property
    def schedule(self) -> Schedule | None: ...


class ScheduleFeed(Protocol):
    """The schedules table, read as a stream of changes (`ScheduleService.changes_since`)."""

    def changes_since(self, cursor: str | None) -> tuple[list[ScheduleChange], str]:
        """Changes after ``cursor`` and the cursor to pass next; ``None`` gives every live one."""
        ...


class RunLedger(Protocol):
    """Where fire times become runs (`RunService`). Recording is idempotent per fire time."""

    def record_fire(
        self,
        schedule: Schedule,
        fire_time: datetime,
        *,
        skipped_reason: str | None = None,
        trigger: str = "schedule",
    ) -> object | None:
        """The new run, or ``None`` when this fire time was recorded already (by anyone)."""
        ...

    def last_fire_time(self, schedule_id: str) -> datetime | None: ...


class RunUpkeep(Protocol):
    """The run service's housekeeping, called by the leader on a timer."""

    def heartbeat(self, worker_id: str) -> None:
        """Mark this worker's runs as still alive."""
        ...

    def reap(self) -> int:
        """Re-queue runs whose worker stopped heartbeating; returns how many."""
        ...

    def queue_depth(self) -> int: ...


class Workers(Protocol):
    """The bounded pool that claims and executes runs (`services.workers.WorkerPool`)."""

    def start(self) -> None: ...

    def stop(self, timeout: float) -> None: ...

    def wake(self) -> None: ...

    @property
    def in_flight(self) -> int: ...
