"""``scheduler_lag_seconds``: how long after its fire time a run was recorded.

A gauge of the newest recording, so a scheduler falling behind shows on the dashboard. It is
registered once per process in prometheus-client's default registry, which ``/metrics`` serves.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, Gauge

_NAME = "scheduler_lag_seconds"


def _gauge() -> Gauge:
    existing = REGISTRY._names_to_collectors.get(_NAME)  # no public lookup by name
    if isinstance(existing, Gauge):
        return existing
    return Gauge(_NAME, "Seconds between a fire time and the moment its run was recorded.")


SCHEDULER_LAG = _gauge()


def observe_lag(seconds: float) -> None:
    """Record the lag of the run just recorded (never negative)."""
    SCHEDULER_LAG.set(max(0.0, seconds))
