"""Runs: one execution of a schedule (or a manual export), its deliveries and its history.

A run is a persisted state machine; every change of status or stage is one row in its history
(`Transition`). The legal moves are in `TRANSITIONS`, and `check_transition` refuses the rest.
Retries wait an exponential backoff with full jitter (`backoff_delay`), from the schedule's
`RetryPolicy`. Nothing here does I/O: the store persists, the services decide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from reportgen.domain.schedules import RetryPolicy

Trigger = Literal["schedule", "manual", "replay", "misfire"]
TRIGGERS: tuple[Trigger, ...] = ("schedule", "manual", "replay", "misfire")


class RunStatus(StrEnum):
    PENDING = "pending"  # waiting for a worker
    RUNNING = "running"  # a worker holds it (see `Stage`)
    SUCCEEDED = "succeeded"  # every delivery made
    SKIPPED = "skipped"  # nothing to send: unchanged data, or a missed fire time, with a reason
    FAILED = "failed"  # this attempt failed; the run moves on to retrying or dead at once
    RETRYING = "retrying"  # waiting for its backoff to end
    DEAD = "dead"  # out of retries or failed permanently: in the dead-letter list


class Stage(StrEnum):
    QUERYING = "querying"
    RENDERING = "rendering"
    DELIVERING = "delivering"


FINISHED = frozenset({RunStatus.SUCCEEDED, RunStatus.SKIPPED, RunStatus.DEAD})
"""Statuses a run rests in once its work is over (a dead run may still be retried by hand)."""

CLAIMABLE = (RunStatus.PENDING, RunStatus.RETRYING)

TRANSITIONS: dict[RunStatus | None, frozenset[RunStatus]] = {
    None: frozenset({RunStatus.PENDING, RunStatus.SKIPPED}),
    RunStatus.PENDING: frozenset({RunStatus.RUNNING}),
    RunStatus.RETRYING: frozenset({RunStatus.RUNNING, RunStatus.RETRYING}),
    RunStatus.RUNNING: frozenset(
        {RunStatus.RUNNING, RunStatus.SUCCEEDED, RunStatus.SKIPPED, RunStatus.FAILED}
    ),
    RunStatus.FAILED: frozenset({RunStatus.RETRYING, RunStatus.DEAD}),
    RunStatus.DEAD: frozenset({RunStatus.RETRYING}),
    RunStatus.SUCCEEDED: frozenset(),
    RunStatus.SKIPPED: frozenset(),
}
"""Every legal move. ``None`` is a run not yet recorded; running to running is a stage change;
retrying to retrying is a retry brought forward; dead to retrying is a retry by hand."""


class IllegalTransition(ValueError):
    """A run was asked to move where the state machine does not go: a bug, never user input."""


class RunLost(Exception):
    """The run is no longer where the caller thought: reaped, retried or finished by another."""


def check_transition(current: RunStatus | None, new: RunStatus) -> None:
    """Raise `IllegalTransition` unless a run may move from ``current`` to ``new``."""
    if new not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (it is finished)"
        raise IllegalTransition(
            f"a run cannot go from {current or 'nothing'} to {new}; from there it may go to"
            f" {allowed}"
        )


@dataclass(frozen=True)
class Run:
    """One execution: its identity (schedule and fire time), where it is, and how it ended."""

    id: str
    schedule_id: str | None
    report_id: str | None
    report_version: int | None
    trigger: Trigger
    fire_time: datetime
    status: RunStatus
    stage: Stage | None
    attempt: int
    next_attempt_at: datetime | None
    worker_id: str | None
    heartbeat_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    # Why it failed, died or was skipped; None while all is well.
    error: str | None
    # Result SHA-256 per audience group and query, for only-if-changed.
    result_hashes: dict[str, list[str]] | None
    created_at: datetime
    requested_by: str | None = None
    replay_of: str | None = None  # the original run a replay re-sends
    owner: str | None = None  # the schedule's owner, when the run belongs to a schedule

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


@dataclass(frozen=True)
class Transition:
    """One row of a run's history."""

    at: datetime
    from_status: RunStatus | None
    to_status: RunStatus
    stage: Stage | None
    detail: str | None


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # not sent yet (or its last attempt failed and will be retried)
    SENDING = "sending"  # claimed by one worker's attempt, which is handing it to the channel
    DELIVERED = "delivered"
    FAILED = "failed"  # refused for good: an address or URL that will never work
    SKIPPED = "skipped"  # deliberately not sent (a recipient with no account), with a reason
    # Found "sending" by a later attempt: the worker sending it stopped before recording the
    # outcome, so it may or may not have arrived. Never resent by itself; a replay resends it.
    UNKNOWN = "unknown"


DeliveryOutcome = Literal["delivered", "transient", "permanent", "skipped", "unknown"]


@dataclass(frozen=True)
class DeliveryAttempt:
    at: datetime
    outcome: DeliveryOutcome
    detail: str | None


@dataclass(frozen=True)
class Delivery:
    """One (channel, recipient) of a run, sent at most once."""

    id: str
    run_id: str
    channel: str
    recipient: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    history: tuple[DeliveryAttempt, ...] = ()
    claimed_by: str | None = None  # "worker attempt N" that last claimed it for sending


@dataclass(frozen=True)
class ArtifactRecord:
    """A file a run produced, kept in the artifact store under ``uri``."""

    id: str
    run_id: str
    kind: str  # the format: pdf, csv, xlsx, html, or manifest
    filename: str
    uri: str
    sha256: str
    size_bytes: int
    content_type: str
    created_at: datetime
    # The policy key of the audience whose render this file is; None on rows from before it
    # was recorded (shown to admins only).
    audience: str | None = None


@dataclass(frozen=True)
class RunDetail:
    run: Run
    transitions: tuple[Transition, ...] = ()
    deliveries: tuple[Delivery, ...] = ()
    artifacts: tuple[ArtifactRecord, ...] = ()


@dataclass(frozen=True)
class RunPage:
    runs: list[Run] = field(default_factory=list)
    next_cursor: str | None = None


def backoff_delay(policy: RetryPolicy, attempt: int, random: Callable[[], float]) -> float:
    """Seconds to wait before attempt ``attempt + 1``: full jitter over an exponential cap.

    The cap is ``base_delay_s * 2 ** (attempt - 1)``, at most ``max_delay_s``; the wait is a
    uniform draw below it (``random()`` in [0, 1)), so retries of many runs spread out instead
    of arriving together.
    """
    exponent = min(max(attempt - 1, 0), 32)
    cap = min(policy.max_delay_s, policy.base_delay_s * (2**exponent))
    return float(cap * min(max(random(), 0.0), 1.0))


def retries_left(policy: RetryPolicy, attempt: int) -> bool:
    """Whether a run that just failed its ``attempt``-th attempt may try again."""
    return attempt < policy.max_attempts


def is_stale(heartbeat_at: datetime | None, now: datetime, stale_after_s: float) -> bool:
    """Whether a running run's worker has been silent for longer than ``stale_after_s``."""
    return heartbeat_at is None or (now - heartbeat_at).total_seconds() > stale_after_s


def unknown_reason(claimed_by: str | None) -> str:
    """Why a delivery found mid-send is not sent again."""
    return (
        f"{claimed_by or 'an earlier attempt'} stopped while sending it, before its outcome was"
        " recorded: it may or may not have arrived. It is not resent by itself; replay the run"
        " to send it again"
    )


def unchanged_reason(run_id: str) -> str:
    return f"unchanged since run {run_id}"


def stage_timeout_reason(stage: Stage, limit_s: float) -> str:
    verb = "delivering" if stage is Stage.DELIVERING else "rendering"
    return f"{verb} took longer than {limit_s:g} s"
