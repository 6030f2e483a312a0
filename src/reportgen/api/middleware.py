"""Around every request: a server span, RED metrics, one access log line, and the last-resort
error boundary that turns an unexpected exception into a 500 problem with an incident id.

Written as plain ASGI middleware so it sees the matched route template (``/api/v1/runs/{id}``,
never the concrete path, which would explode the metrics' cardinality) and the final status.
"""

from __future__ import annotations

import logging
import secrets
import time

from fastapi.routing import iter_route_contexts
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reportgen.api.problems import problem_response
from reportgen.observability import Metrics, tracer

log = logging.getLogger("reportgen.api")
UNMATCHED_ROUTE = "unmatched"
TRACE_HEADER = "x-trace-id"
PROBE_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"


def method_label(method: str) -> str:
    """The request method as a metric label: a known method, else ``other``. Any string a client
    sends is a method to the server, and each distinct one would be a new time series."""
    return method if method in KNOWN_METHODS else OTHER_METHOD


class RouteTemplates:
    """The full path template of a matched route (``/api/v1/datasets/{name}``).

    FastAPI puts the route as declared in its router in the scope, whose path lacks the
    prefixes it was included under; the app's route contexts know the full template.
    """

    def __init__(self) -> None:
        self._templates: dict[int, str] = {}

    def __call__(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is None:
            return UNMATCHED_ROUTE
        template = self._templates.get(id(route))
        if template is None:
            app = scope.get("app")
            routes = getattr(app, "routes", [])
            self._templates = {
                id(context.original_route): context.path_format
                for context in iter_route_contexts(routes)
                if context.path_format is not None
            }
            template = self._templates.get(id(route), getattr(route, "path", UNMATCHED_ROUTE))
        return template


class ObservedRequests:
    """Traces, measures and logs each HTTP request; answers 500 for what nothing else caught."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, service: str) -> None:
        self.app = app
        self.metrics = metrics
        self.service = service
        self._route = RouteTemplates()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = method_label(scope["method"])
        attributes = {"http.request.method": method, "url.path": scope["path"]}
        if method != scope["method"]:
            attributes["http.request.method_original"] = scope["method"]
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        started = time.perf_counter()
        status = 500
        response_started = False
        with tracer().start_as_current_span(
            f"{method} {scope['path']}",
            context=propagate.extract(carrier),
            kind=SpanKind.SERVER,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            trace_id = f"{span.get_span_context().trace_id:032x}"

            async def send_observed(message: Message) -> None:
                nonlocal status, response_started
                if message["type"] == "http.response.start":
                    status = message["status"]
                    response_started = True
                    headers = list(message.get("headers", []))
                    headers.append((TRACE_HEADER.encode(), trace_id.encode()))
                    message = {**message, "headers": headers}
                await send(message)

            try:
                await self.app(scope, receive, send_observed)
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                if response_started:
                    raise
                incident = secrets.token_hex(4)
                log.exception("incident %s: %s %s failed", incident, method, self._route(scope))
                response = problem_response(
                    500,
                    f"Something went wrong (incident {incident}); the server log has the details",
                    instance=scope["path"],
                    incident=incident,
                )
                await response(scope, receive, send_observed)
            finally:
                self._observe(span, scope, method, status, time.perf_counter() - started)

    def _observe(
        self, span: trace.Span, scope: Scope, method: str, status: int, seconds: float
    ) -> None:
        route = self._route(scope)
        span.update_name(f"{method} {route}")
        span.set_attribute("http.route", route)
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))
        self.metrics.http_requests.labels(
            service=self.service, method=method, route=route, status=str(status)
        ).inc()
        self.metrics.http_duration.labels(service=self.service, method=method, route=route).observe(
            seconds
        )
        # Probes and scrapes arrive every few seconds; only their failures deserve INFO.
        quiet = route in PROBE_ROUTES and status < 400
        log.log(
            logging.DEBUG if quiet else logging.INFO,
            "%s %s %s %.1f ms",
            method,
            route,
            status,
            seconds * 1000,
            extra={
                "http_method": method,
                "http_route": route,
                "http_status": status,
                "duration_ms": round(seconds * 1000, 1),
            },
        )
