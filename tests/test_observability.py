"""Metrics, spans and log context: the named series, OTLP export on loopback, ids in log lines."""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import structlog
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from reportgen.observability import (
    Metrics,
    attach,
    bind_run,
    configure_tracing,
    current_ids,
    record_delivery,
    record_run,
    set_leader,
    set_scheduler_lag,
    span,
    traced,
    watch_queue,
)
from reportgen.observability.tracing import traces_url
from tests.api.conftest import json_logs  # noqa: F401 - a fixture shared with the API tests

DEADLINE_S = 10


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels or None)


def test_run_and_delivery_outcomes_are_counted() -> None:
    metrics = Metrics()

    record_run("succeeded", 12.5, metrics=metrics)
    record_run("dead", metrics=metrics)
    record_delivery("email", "delivered", metrics=metrics)
    record_delivery("email", "delivered", metrics=metrics)
    set_scheduler_lag(1.5, metrics=metrics)
    set_leader(True, metrics=metrics)

    assert sample(metrics, "reportgen_runs_total", status="succeeded") == 1
    assert sample(metrics, "reportgen_runs_total", status="dead") == 1
    assert sample(metrics, "reportgen_dead_letters_total") == 1
    assert sample(metrics, "reportgen_run_duration_seconds_count") == 1
    assert sample(metrics, "reportgen_run_duration_seconds_sum") == 12.5
    assert sample(metrics, "reportgen_deliveries_total", channel="email", status="delivered") == 2
    assert sample(metrics, "scheduler_lag_seconds") == 1.5
    assert sample(metrics, "reportgen_scheduler_leader") == 1


def test_queue_depth_is_read_at_scrape_time_and_survives_a_failing_read() -> None:
    metrics = Metrics()
    depth = [4]
    watch_queue(lambda: depth[0], metrics=metrics)

    assert sample(metrics, "queue_depth") == 4
    depth[0] = 9
    assert b"queue_depth 9.0" in metrics.exposition()

    def broken() -> int:
        raise ConnectionError("database down")

    metrics.watch_queue(broken)
    value = sample(metrics, "queue_depth")
    assert value is not None and math.isnan(value)


def test_traced_steps_nest_under_the_current_span() -> None:
    exporter = InMemorySpanExporter()
    detach = attach(SimpleSpanProcessor(exporter))

    @traced("render.pdf", format="pdf")
    def render() -> tuple[str, str] | None:
        return current_ids()

    try:
        with span("run.execute") as outer:
            inner_ids = render()
    finally:
        detach()

    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert set(spans) == {"run.execute", "render.pdf"}
    assert spans["render.pdf"].parent is not None
    assert spans["render.pdf"].parent.span_id == outer.get_span_context().span_id
    assert spans["render.pdf"].attributes == {"format": "pdf"}
    assert inner_ids is not None
    assert inner_ids[0] == f"{outer.get_span_context().trace_id:032x}"
    assert current_ids() is None


class Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP collector that keeps what it receives."""

    received: list[tuple[str, str, bytes]]
    arrived: threading.Event

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, self.headers["Content-Type"], body))
        type(self).arrived.set()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads what arrived, not the access log."""


@pytest.fixture
def collector() -> Iterator[tuple[str, type[Collector]]]:
    handler = type("Handler", (Collector,), {"received": [], "arrived": threading.Event()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(DEADLINE_S)


def test_spans_are_exported_over_otlp_http_when_an_endpoint_is_set(
    collector: tuple[str, type[Collector]],
) -> None:
    endpoint, handler = collector
    stop = configure_tracing(endpoint, timeout_s=DEADLINE_S)

    with span("api.request"):
        pass
    stop()  # flushes what the batch processor holds

    assert handler.arrived.wait(DEADLINE_S)
    path, content_type, body = handler.received[0]
    assert path == "/v1/traces"
    assert content_type == "application/x-protobuf"
    assert b"api.request" in body


def test_no_endpoint_exports_nothing_but_spans_still_have_ids() -> None:
    stop = configure_tracing(None)

    with span("quiet"):
        ids = current_ids()
    stop()

    assert ids is not None and len(ids[0]) == 32 and len(ids[1]) == 16


def test_traces_url_appends_the_otlp_path_once() -> None:
    assert traces_url("http://collector:4318") == "http://collector:4318/v1/traces"
    assert traces_url("http://collector:4318/v1/traces/") == "http://collector:4318/v1/traces"


def test_log_lines_carry_trace_span_and_run_ids(
    json_logs: Callable[[], None],  # noqa: F811 - the fixture imported above
    capsys: pytest.CaptureFixture[str],
) -> None:
    json_logs()
    with span("run.execute") as current, bind_run("run-42"):
        logging.getLogger("reportgen.runs").info("rendering", extra={"stage": "rendering"})
        structlog.get_logger("reportgen.runs").info("delivered", channel="email")
    logging.getLogger("reportgen.runs").info("idle")

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    context = current.get_span_context()
    inside, native, outside = lines
    for line in (inside, native):
        assert line["trace_id"] == f"{context.trace_id:032x}"
        assert line["span_id"] == f"{context.span_id:016x}"
        assert line["run_id"] == "run-42"
    assert inside["stage"] == "rendering"
    assert native["channel"] == "email"
    assert "trace_id" not in outside and "run_id" not in outside
