"""What the run services need from the store, the schedules and the saved reports.

Declared here, beside the services that use them, until they join `reportgen.services.ports`;
`reportgen.store.runs.RunRepository`, `reportgen.store.deliveries.DeliveryRepository`,
`ScheduleService` and `SavedReportService` satisfy them, and tests may pass small fakes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol

from reportgen.domain.runs import (
    ArtifactRecord,
    Delivery,
    Run,
    RunStatus,
    Stage,
    Transition,
    Trigger,
)
from reportgen.domain.schedules import Schedule
from reportgen.domain.spec import ReportSpec


class RunLedger(Protocol):
    """Runs and their history. `move` raises `RunLost` when the run is no longer where the
    caller expects it, and `IllegalTransition` for a move the state machine refuses."""

    def record(
        self,
        *,
        schedule_id: str | None,
        report_id: str | None,
        fire_time: datetime,
        trigger: Trigger,
        now: datetime,
        requested_by: str | None = None,
        skipped_reason: str | None = None,
        replay_of: str | None = None,
    ) -> Run | None: ...

    def get(self, run_id: str) -> Run | None: ...

    def transitions(self, run_id: str) -> list[Transition]: ...

    def last_fire_time(self, schedule_id: str) -> datetime | None: ...

    def page(
        self,
        *,
        viewer: str | None,
        status: RunStatus | None = None,
        schedule_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int = 50,
    ) -> list[Run]: ...

    def replays_of(self, run_id: str) -> list[str]: ...

    def queue_depth(self, now: datetime) -> int: ...

    def last_delivered(self, schedule_id: str, *, excluding: str) -> Run | None: ...

    def stale(self, heard_before: datetime) -> list[Run]: ...

    def claim(self, worker_id: str, now: datetime) -> Run | None: ...

    def heartbeat(self, worker_id: str, now: datetime) -> int: ...

    def move(
        self,
        run_id: str,
        path: Sequence[RunStatus],
        *,
        now: datetime,
        detail: str | None = None,
        stage: Stage | None = None,
        held_by: str | None = None,
        expect: Sequence[RunStatus] | None = None,
        values: Mapping[str, Any] | None = None,
        stale_before: datetime | None = None,
    ) -> Run: ...


class NewArtifactFile(Protocol):
    kind: str
    uri: str
    sha256: str
    size_bytes: int
    content_type: str


class DeliveryLedger(Protocol):
    """Deliveries (unique per run, channel and recipient), artifacts, idempotency keys and
    owner notices. `claim` marks a pending delivery "sending" for one attempt of its run (one
    conditional UPDATE); `mark_unknown` settles one another attempt left "sending"."""

    def open(self, run_id: str, channel: str, recipient: str, now: datetime) -> Delivery: ...

    def claim(
        self, delivery_id: str, *, worker_id: str, attempt: int, now: datetime
    ) -> Literal["claimed", "taken", "lost"]: ...

    def mark_unknown(
        self, delivery_id: str, *, worker_id: str, attempt: int, now: datetime
    ) -> Delivery | None: ...

    def reopen_failed(self, run_id: str) -> int: ...

    def record_attempt(
        self,
        delivery_id: str,
        *,
        outcome: Literal["delivered", "transient", "permanent", "skipped"],
        detail: str | None,
        now: datetime,
        next_attempt_at: datetime | None = None,
    ) -> None: ...

    def of_runs(self, run_ids: Collection[str], *, history: bool = False) -> list[Delivery]: ...

    def add_artifacts(self, run_id: str, files: Iterable[Any], now: datetime) -> None: ...

    def artifacts(self, run_id: str) -> list[ArtifactRecord]: ...

    def request_run(
        self,
        *,
        username: str,
        key: str,
        fresh_after: datetime,
        schedule_id: str,
        report_id: str,
        now: datetime,
        trigger: Trigger = "manual",
    ) -> tuple[Run, bool]: ...

    def claim_notice(self, schedule_id: str, kind: str, run_id: str, now: datetime) -> bool: ...

    def forget_notice(self, schedule_id: str, kind: str) -> None: ...


class ScheduleSource(Protocol):
    """`ScheduleService.load`: a stored schedule for system use, None when deleted."""

    def load(self, schedule_id: str) -> Schedule | None: ...


class SavedReportView(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def owner(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def spec(self) -> ReportSpec: ...


class ReportSource(Protocol):
    """`SavedReportService.load`: a saved report at a version (newest when None); raises
    `NotFound` when it is missing or deleted."""

    def load(self, report_id: str, version: int | None = None) -> SavedReportView: ...
