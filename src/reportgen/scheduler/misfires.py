"""Which due fire times become runs and which are recorded as skipped, per misfire policy.

A fire time is *on time* when it is handled within `ON_TIME_GRACE` of its instant; older ones
were missed (the scheduler was down, or too busy). Nothing is dropped silently: every due fire
time is either a run or a skipped run with its reason. A very long outage is bounded: at most
`MAX_RECORDED` of the newest fire times are recorded one by one, the older ones as one summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reportgen.domain.runs import Trigger
from reportgen.domain.schedules import Cadence, MisfirePolicy
from reportgen.domain.timing import fire_times_between

ON_TIME_GRACE = timedelta(seconds=60)
"""How late a fire may be handled and still count as on time (trigger "schedule")."""
MAX_RECORDED = 1000
"""Most fire times of one schedule recorded one by one after an outage."""

RUN_ONCE_REASON = "missed while the scheduler was down; misfire policy runs only the latest"
SKIP_REASON = "missed while the scheduler was down; misfire policy skips missed fire times"


@dataclass(frozen=True)
class DueTimes:
    """The fire times due in a window: the newest ones in full, and any older ones counted."""

    times: tuple[datetime, ...]
    # Fire times older than `times` that are not listed: at least this many, from `first` on.
    older_count: int = 0
    older_first: datetime | None = None
    older_last: datetime | None = None


@dataclass(frozen=True)
class FirePlan:
    """What to record: runs as (fire time, trigger), skips as (fire time, reason)."""

    runs: tuple[tuple[datetime, Trigger], ...] = ()
    skips: tuple[tuple[datetime, str], ...] = field(default=())


def due_times(
    cadence: Cadence, timezone: str, after: datetime, until: datetime, *, bound: int = MAX_RECORDED
) -> DueTimes:
    """The fire times in ``(after, until]``, keeping at most ``bound`` of the newest.

    When the window holds more, the newest are found in a tail window a little longer than
    the first ``bound`` fire times span, and what lies before that tail is counted (a lower bound).
    """
    head = fire_times_between(cadence, timezone, after, until, limit=bound)
    if len(head) < bound:
        return DueTimes(tuple(head))
    span = (head[-1] - head[0]) * 1.1  # a little wider, so the tail holds `bound` times
    tail_start = max(head[-1], until - span)
    tail = fire_times_between(cadence, timezone, tail_start, until, limit=bound * 2)[-bound:]
    if not tail:  # the head reaches `until` exactly
        return DueTimes(tuple(head))
    older = [t for t in head if t < tail[0]]
    return DueTimes(
        tuple(tail),
        older_count=len(older),
        older_first=older[0] if older else None,
        older_last=older[-1] if older else None,
    )


def plan_fires(
    due: Sequence[datetime],
    now: datetime,
    policy: MisfirePolicy,
    *,
    grace: timedelta = ON_TIME_GRACE,
) -> FirePlan:
    """Apply the misfire policy to the due fire times (ascending) as seen at ``now``.

    On-time fire times always run. Missed ones follow the policy: ``run_all`` runs each,
    ``skip`` records each as skipped, ``run_once`` runs the newest missed one (trigger
    "misfire") unless an on-time run follows it, and records the others as skipped.
    """
    on_time = [t for t in due if now - t <= grace]
    missed = [t for t in due if now - t > grace]
    runs: list[tuple[datetime, Trigger]] = [(t, "schedule") for t in on_time]
    skips: list[tuple[datetime, str]] = []
    if policy is MisfirePolicy.RUN_ALL:
        runs = [(t, "misfire") for t in missed] + runs
    elif policy is MisfirePolicy.SKIP:
        skips = [(t, SKIP_REASON) for t in missed]
    elif missed:
        latest_runs = bool(on_time)
        keep = [] if latest_runs else missed[-1:]
        skips = [(t, RUN_ONCE_REASON) for t in missed if t not in keep]
        runs = [(t, "misfire") for t in keep] + runs
    return FirePlan(runs=tuple(runs), skips=tuple(skips))


def summary_reason(due: DueTimes) -> str:
    """The reason on the one skipped run that stands for fire times not recorded one by one."""
    return (
        f"at least {due.older_count:,} fire times from {due.older_first:%Y-%m-%d %H:%M} to "
        f"{due.older_last:%Y-%m-%d %H:%M} UTC were missed while the scheduler was down; more "
        f"than {MAX_RECORDED:,} missed, so only the newest {MAX_RECORDED:,} are recorded one by one"
    )
