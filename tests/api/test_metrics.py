"""The HTTP metrics keep a bounded set of series whatever clients send."""

from __future__ import annotations

from reportgen.observability import Metrics
from tests.api.conftest import TestClient


def series(metrics: Metrics, method: str) -> float | None:
    value = metrics.registry.get_sample_value(
        "http_requests_total",
        {"service": "api", "method": method, "route": "/healthz", "status": "405"},
    )
    return None if value is None else float(value)


def test_an_unknown_method_is_counted_as_other(client: TestClient, metrics: Metrics) -> None:
    for made_up in ("FOO", "PROPFIND", "X" * 200):
        assert client.request(made_up, "/healthz").status_code == 405
    assert client.request("DELETE", "/healthz").status_code == 405

    assert series(metrics, "other") == 3
    assert series(metrics, "DELETE") == 1
    for made_up in ("FOO", "PROPFIND", "X" * 200):
        assert series(metrics, made_up) is None
    text = client.get("/metrics").text
    assert 'method="FOO"' not in text
