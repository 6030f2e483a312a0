"""Requests are traced: a server span per request, its ids in the log line and X-Trace-Id."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from reportgen.observability import attach
from tests.api.conftest import TestClient, bearer

INCOMING_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    detach = attach(SimpleSpanProcessor(exporter))
    yield exporter
    detach()


def test_the_request_log_line_carries_the_trace_of_the_response(
    client: TestClient,
    tokens: dict[str, str],
    json_logs: Callable[[], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    json_logs()

    response = client.get("/api/v1/datasets/sales", headers=bearer(tokens["ana"]))

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    [access] = [line for line in lines if line.get("http_route") == "/api/v1/datasets/{name}"]
    assert access["trace_id"] == response.headers["x-trace-id"]
    assert len(access["span_id"]) == 16
    assert access["http_status"] == 200
    assert access["http_method"] == "GET"
    assert access["duration_ms"] >= 0


def test_a_server_span_continues_the_callers_trace(
    client: TestClient, tokens: dict[str, str], spans: InMemorySpanExporter
) -> None:
    traceparent = f"00-{INCOMING_TRACE}-00f067aa0ba902b7-01"

    response = client.get(
        "/api/v1/datasets", headers={**bearer(tokens["ana"]), "traceparent": traceparent}
    )

    assert response.headers["x-trace-id"] == INCOMING_TRACE
    [server] = [s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert server.name == "GET /api/v1/datasets"
    assert f"{server.context.trace_id:032x}" == INCOMING_TRACE
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/api/v1/datasets"
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["enduser.id"] == "ana"


def test_a_render_job_continues_the_requests_trace(
    client: TestClient, tokens: dict[str, str], spans: InMemorySpanExporter
) -> None:
    table = {"kind": "table", "title": "T", "dimensions": ["region"], "measures": ["revenue"]}
    body = {
        "spec": {"title": "Traced", "dataset": "sales", "blocks": [table]},
        "formats": ["csv"],
    }

    response = client.post("/api/v1/render?wait=true", headers=bearer(tokens["ana"]), json=body)

    assert response.status_code == 200, response.text
    [job] = [s for s in spans.get_finished_spans() if s.name == "render.job"]
    assert f"{job.context.trace_id:032x}" == response.headers["x-trace-id"]
    assert job.attributes is not None and job.attributes["formats"] == "csv"


def test_probes_log_at_debug_and_requests_at_info(
    client: TestClient, tokens: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="reportgen.api")

    client.get("/healthz")
    client.get("/api/v1/datasets", headers=bearer(tokens["ana"]))

    levels = {
        getattr(r, "http_route", None): r.levelno
        for r in caplog.records
        if r.name == "reportgen.api"
    }
    assert levels == {"/healthz": logging.DEBUG, "/api/v1/datasets": logging.INFO}
