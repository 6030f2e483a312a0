"""Liveness, readiness and metrics: what orchestrators and Prometheus poll, without a token.

``/healthz`` says the process answers. ``/readyz`` checks what serving needs (the metadata
database at its schema head, the warehouse, a writable artifact store, the scheduler's
leadership) and reports each check; it answers 503 when one fails. A standby scheduler is ready:
it serves the API and takes over when the leader dies, and says so. ``/metrics`` is the
Prometheus exposition of `reportgen.observability.METRICS` (or the app's own registry).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal, Protocol

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from reportgen.api.state import ApiState, api_state
from reportgen.domain.sql import CompiledQuery
from reportgen.errors import ReportgenError
from reportgen.observability import EXPOSITION_CONTENT_TYPE

log = logging.getLogger("reportgen.api")
HEARTBEAT_STALE = timedelta(seconds=60)
PING_TIMEOUT_S = 5.0


class SchedulerHealth(Protocol):
    """What the scheduler process tells the API about itself."""

    def is_leader(self) -> bool:
        """True while this process holds the scheduler leader lock."""
        ...

    def last_heartbeat(self) -> datetime | None:
        """When the scheduler loop last completed a pass (aware UTC); None before the first."""
        ...

    def queue_depth(self) -> int:
        """Runs waiting for a worker."""
        ...


class Alive(BaseModel):
    status: Literal["alive"] = "alive"


class Check(BaseModel):
    """One readiness check: what was checked, whether it passed, and what was found."""

    name: str
    ok: bool
    detail: str
    duration_ms: float


class Readiness(BaseModel):
    ready: bool
    scheduler: Literal["leader", "standby", "absent"] = Field(
        description="This process's scheduler role; 'absent' when it runs no scheduler."
    )
    checks: list[Check]


def _timed(name: str, probe: Callable[[], str]) -> Check:
    started = time.perf_counter()
    try:
        detail, ok = probe(), True
    except (ReportgenError, OSError) as exc:
        detail, ok = f"{type(exc).__name__}: {exc}", False
    except Exception as exc:  # a failing dependency must make us unready, not crash the probe
        log.warning("readiness check %s failed", name, exc_info=True)
        detail, ok = f"{type(exc).__name__}: the server log has the details", False
    return Check(
        name=name, ok=ok, detail=detail, duration_ms=round((time.perf_counter() - started) * 1e3, 1)
    )


def _database(state: ApiState) -> str:
    state.services.store.check_current()
    return f"schema at revision {state.services.store.head_revision()}"


def _warehouse(state: ApiState) -> str:
    warehouse = state.services.warehouse
    ping = CompiledQuery(
        sql="SELECT 1 AS ok", params=(), dialect=warehouse.dialect, columns=("ok",)
    )
    table = warehouse.fetch(ping, timeout_s=PING_TIMEOUT_S)
    if table.num_rows != 1:
        raise ReportgenError("the warehouse answered SELECT 1 with no row")
    return f"{warehouse.dialect.value} answered"


def _artifacts(state: ApiState, now: datetime) -> str:
    # Artifacts are immutable, so the probe writes one small file per hour and re-reads it;
    # a store that stopped accepting writes is noticed within the hour it happens in.
    store = state.services.render.store
    key = f"health/ready-{now:%Y%m%dT%H}"
    store.put(key, b"ok\n", "text/plain")
    if store.get(key) != b"ok\n":
        raise ReportgenError(f"the artifact store returned other bytes for {key}")
    return "writable"


def _role(state: ApiState) -> Literal["leader", "standby", "absent"]:
    if state.health is None:
        return "absent"
    return "leader" if state.health.is_leader() else "standby"


def _scheduler(state: ApiState, now: datetime) -> str:
    health = state.health
    if health is None:
        return "no scheduler runs in this process"
    if not health.is_leader():
        return "standby: another scheduler holds the leader lock; this one takes over"
    beat = health.last_heartbeat()
    if beat is None:
        return "leader, starting (no pass completed yet)"
    age = now - beat
    if age > HEARTBEAT_STALE:
        raise ReportgenError(
            f"leader, but its last pass ended {age.total_seconds():.0f} s ago"
            f" (more than {HEARTBEAT_STALE.total_seconds():.0f} s): the scheduler loop is stuck"
        )
    return f"leader; last pass {max(age.total_seconds(), 0):.0f} s ago"


def health_router(clock: Callable[[], datetime]) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", operation_id="healthz", summary="The process is alive")
    def healthz() -> Alive:
        return Alive()

    @router.get(
        "/readyz",
        operation_id="readyz",
        summary="Ready to serve: database, warehouse, artifact store, scheduler",
        responses={503: {"model": Readiness, "description": "A check failed; see checks."}},
    )
    def readyz(request: Request, response: Response) -> Readiness:
        state = api_state(request)
        now = clock()
        checks = [
            _timed("database", lambda: _database(state)),
            _timed("warehouse", lambda: _warehouse(state)),
            _timed("artifacts", lambda: _artifacts(state, now)),
            _timed("scheduler", lambda: _scheduler(state, now)),
        ]
        ready = all(check.ok for check in checks)
        if not ready:
            response.status_code = 503
        return Readiness(ready=ready, scheduler=_role(state), checks=checks)

    @router.get(
        "/metrics",
        operation_id="metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {EXPOSITION_CONTENT_TYPE: {"schema": {"type": "string"}}}}},
    )
    def metrics(request: Request) -> Response:
        return Response(api_state(request).metrics.exposition(), media_type=EXPOSITION_CONTENT_TYPE)

    return router
