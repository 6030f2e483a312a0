"""Runs of schedules: recorded, claimed, executed, delivered, retried, replayed.

- `RunService` is the one entry: ``record_fire`` and ``last_fire_time`` for the scheduler;
  ``claim``, ``execute``, ``heartbeat``, ``reap`` and ``queue_depth`` for workers;
  ``run_now`` (with an idempotency key), ``get``, ``list``, ``retry``, ``dead_letters``,
  ``replay`` and ``artifact`` for people, limited to what they own or asked for (admins see all).
- `Limits` bounds each stage (render and deliver timeouts, the email attachment cap).
- The store and the other services are reached through the protocols in
  `reportgen.services.runs.ports`.
"""

from reportgen.services.runs.execution import Limits
from reportgen.services.runs.service import ArtifactFile, RunService

__all__ = ["ArtifactFile", "Limits", "RunService"]
