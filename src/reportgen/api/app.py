"""`create_app`: the REST API as a FastAPI application over the services every door shares."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi

from reportgen.api import datasets, render, reports, runs, schedules
from reportgen.api.health import SchedulerHealth, health_router
from reportgen.api.jobs import RenderJobs
from reportgen.api.middleware import ObservedRequests
from reportgen.api.problems import PROBLEM_CONTENT_TYPE, Problem, install_problem_handlers
from reportgen.api.ratelimit import FAILED_AUTHENTICATIONS_PER_MINUTE, RateLimiter
from reportgen.api.state import ApiState
from reportgen.bootstrap import Services
from reportgen.observability import METRICS, Metrics, configure_tracing, flush_traces

API_PREFIX = "/api/v1"
_PROBLEM_REF = "#/components/schemas/Problem"
_ERROR_DESCRIPTIONS = {
    400: "The request asks for something that cannot be done; detail says how to fix it.",
    401: "No valid API token.",
    403: "The token's user may not do this.",
    404: "Not found, or not visible to the token's user.",
    422: "The body or parameters are malformed; errors lists each field.",
    429: (
        "Too many requests for this token, or too many invalid tokens from this address;"
        " retry after Retry-After seconds."
    ),
    500: "An internal error; incident names it in the server log.",
}
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": text} for status, text in _ERROR_DESCRIPTIONS.items()
}
DESCRIPTION = """Governed reports over the REST API: the same services, permissions, row
policies and masks as the web app. Authenticate with `Authorization: Bearer <token>` (make a
token with `reportgen tokens create`). Errors are RFC 9457 `application/problem+json`."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _problems_as_problem_json(schema: dict[str, Any]) -> dict[str, Any]:
    """Document every error response as application/problem+json with the Problem schema."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for code, response in operation.get("responses", {}).items():
                if not code.startswith(("4", "5")):
                    continue
                content = response.get("content", {})
                plain = content.get("application/json", {}).get("schema", {})
                ref = plain.get("$ref", "")
                if not content or ref.endswith(("/Problem", "/HTTPValidationError")):
                    response["content"] = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": _PROBLEM_REF}}}
    components = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def create_app(
    services: Services,
    *,
    health: SchedulerHealth | None = None,
    metrics: Metrics | None = None,
    clock: Callable[[], datetime] = _utcnow,
    rate_clock: Callable[[], float] = time.monotonic,
    render_workers: int = 2,
) -> FastAPI:
    """The API app over ``services``; ``health`` is the scheduler serving it, when there is one.

    ``metrics`` defaults to the process's `METRICS`; ``clock`` and ``rate_clock`` are injected
    by tests (wall time for readiness, a monotonic clock for the rate limit).
    """
    metrics = metrics or METRICS
    configure_tracing(services.settings.otlp_endpoint)  # once per process; later calls no-ops
    jobs = RenderJobs(workers=render_workers, clock=clock)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            jobs.shutdown()
            flush_traces()

    app = FastAPI(
        title="reportgen API",
        version=metadata.version("reportgen"),
        description=DESCRIPTION,
        lifespan=lifespan,
        # `ObservedRequests` makes the server span, the metrics and the log line; FastAPI's own
        # telemetry would make a second server span per request once a provider is global.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.reportgen = ApiState(
        services=services,
        limiter=RateLimiter(services.settings.api_rate_limit_per_minute, clock=rate_clock),
        failed_auth=RateLimiter(FAILED_AUTHENTICATIONS_PER_MINUTE, clock=rate_clock),
        metrics=metrics,
        jobs=jobs,
        health=health,
    )
    metrics.watch_queue(health.queue_depth if health is not None else services.runs.queue_depth)
    install_problem_handlers(app)
    app.add_middleware(ObservedRequests, metrics=metrics, service="api")

    v1 = APIRouter(prefix=API_PREFIX, responses=COMMON_ERRORS)
    for module in (datasets, reports, render, schedules, runs):
        v1.include_router(module.router)
    app.include_router(v1)
    app.include_router(health_router(clock))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _problems_as_problem_json(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
