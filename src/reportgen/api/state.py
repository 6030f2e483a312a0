"""What the app's routes share: the services, the rate limiters, render jobs and health."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from starlette.requests import Request

from reportgen.api.ratelimit import RateLimiter
from reportgen.bootstrap import Services
from reportgen.observability import Metrics

if TYPE_CHECKING:
    from reportgen.api.health import SchedulerHealth
    from reportgen.api.jobs import RenderJobs


@dataclass
class ApiState:
    services: Services
    limiter: RateLimiter  # requests per valid API token
    failed_auth: RateLimiter  # invalid tokens per client address
    metrics: Metrics
    jobs: RenderJobs
    health: SchedulerHealth | None


def api_state(request: Request) -> ApiState:
    """The state `create_app` put on the application."""
    return cast(ApiState, request.app.state.reportgen)
