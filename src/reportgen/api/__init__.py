"""The REST API, served by the scheduler process on ``REPORTGEN_API_PORT``.

`create_app(services, *, health=None)` builds the FastAPI application: ``/api/v1`` routes for
datasets, reports, renders, schedules and runs behind bearer API tokens, RFC 9457 problem+json
errors, a per-token rate limit, and the unauthenticated ``/healthz``, ``/readyz`` and
``/metrics``. `SchedulerHealth` is what the scheduler process implements for ``/readyz``.
"""

from reportgen.api.app import API_PREFIX, create_app
from reportgen.api.health import SchedulerHealth
from reportgen.api.problems import PROBLEM_CONTENT_TYPE, Problem

__all__ = ["API_PREFIX", "PROBLEM_CONTENT_TYPE", "Problem", "SchedulerHealth", "create_app"]
