"""What the scheduler process needs from the services, as protocols.

The schedules service feeds the job set, the run service records fire times and does the work,
the worker pool runs it. Bootstrap's `Services` provides all three; tests may hand in their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from reportgen.domain.runs import Trigger
from reportgen.domain.schedules import Schedule


class ScheduleChange(Protocol):
    """One changed schedule: the schedule as it is now, or ``None`` when it was deleted."""

    @property
    def schedule_id(self) -> str: ...

    @property
    def schedule(self) -> Schedule | None: ...


class ScheduleFeed(Protocol):
    """The schedules table, read as a stream of changes (`ScheduleService.changes_since`)."""

    def changes_since(
        self, cursor: str | None, *, limit: int | None = None
    ) -> tuple[Sequence[ScheduleChange], str]:
        """Changes after ``cursor`` and the cursor to pass next; ``None`` gives every live one.

        With ``limit``, at most that many; a page that comes back full may have more after it.
        """
        ...


class RunLedger(Protocol):
    """Where fire times become runs (`RunService`). Recording is idempotent per fire time."""

    def record_fire(
        self,
        schedule: Schedule,
        fire_time: datetime,
        *,
        skipped_reason: str | None = None,
        trigger: Trigger = "schedule",
    ) -> object | None:
        """The new run, or ``None`` when this fire time was recorded already (by anyone)."""
        ...

    def last_fire_time(self, schedule_id: str) -> datetime | None: ...


class RunQueue(Protocol):
    """How many runs wait for a worker (`RunService.queue_depth`), for health and metrics."""

    def queue_depth(self) -> int: ...


class Workers(Protocol):
    """The bounded pool that claims and executes runs (`services.workers.WorkerPool`); it
    also heartbeats its runs and reaps those of dead workers."""

    def start(self) -> None: ...

    def stop(self, timeout: float) -> bool: ...

    def wake(self) -> None: ...

    @property
    def in_flight(self) -> int: ...
