"""/healthz, /readyz and /metrics: no token needed; readiness reports every check."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi import FastAPI

from reportgen.bootstrap import Services
from reportgen.store.engine import create_metadata_engine
from tests.api.conftest import NOW, FakeScheduler, TestClient, bearer


def checks_of(body: dict[str, object]) -> dict[str, dict[str, object]]:
    return {c["name"]: c for c in body["checks"]}  # type: ignore[attr-defined,index]


def test_healthz_answers_without_a_token(client: TestClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


def test_a_leader_with_working_dependencies_is_ready(client: TestClient) -> None:
    response = client.get("/readyz")

    body = response.json()
    assert response.status_code == 200
    assert body["ready"] is True
    assert body["scheduler"] == "leader"
    checks = checks_of(body)
    assert set(checks) == {"database", "warehouse", "artifacts", "scheduler"}
    assert all(check["ok"] for check in checks.values())
    assert "duckdb answered" in str(checks["warehouse"]["detail"])


def test_a_standby_is_ready_and_says_so(
    make_app: Callable[..., FastAPI], scheduler: FakeScheduler
) -> None:
    scheduler.leader = False

    with TestClient(make_app(scheduler)) as client:
        response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["scheduler"] == "standby"
    assert "standby" in str(checks_of(response.json())["scheduler"]["detail"])


def test_a_stuck_leader_is_not_ready(
    make_app: Callable[..., FastAPI], scheduler: FakeScheduler
) -> None:
    scheduler.heartbeat = NOW - timedelta(minutes=5)

    with TestClient(make_app(scheduler)) as client:
        response = client.get("/readyz")

    assert response.status_code == 503
    scheduler_check = checks_of(response.json())["scheduler"]
    assert scheduler_check["ok"] is False
    assert "300 s ago" in str(scheduler_check["detail"])


def test_readiness_fails_when_the_database_is_down(
    make_app: Callable[..., FastAPI], services: Services, tmp_path: object
) -> None:
    app = make_app()
    # Point the store at a database file that cannot be opened: a folder, not a file.
    broken = create_metadata_engine(f"sqlite:///{services.settings.data_dir}")
    services.store.engine.dispose()
    services.store.engine = broken

    with TestClient(app) as client:
        response = client.get("/readyz")

    body = response.json()
    assert response.status_code == 503
    assert body["ready"] is False
    assert body["scheduler"] == "absent"
    database = checks_of(body)["database"]
    assert database["ok"] is False
    assert "OperationalError" in str(database["detail"]) or "Error" in str(database["detail"])
    assert checks_of(body)["warehouse"]["ok"] is True


def test_metrics_show_the_named_series_after_requests(
    client: TestClient, tokens: dict[str, str], scheduler: FakeScheduler
) -> None:
    client.get("/api/v1/datasets", headers=bearer(tokens["ana"]))
    client.get("/api/v1/datasets/nope", headers=bearer(tokens["ana"]))

    response = client.get("/metrics")

    text = response.text
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert (
        'http_requests_total{method="GET",route="/api/v1/datasets",service="api",status="200"} 1.0'
        in text
    )
    assert (
        'http_requests_total{method="GET",route="/api/v1/datasets/{name}",service="api",'
        'status="404"} 1.0' in text
    )
    assert "http_request_duration_seconds_bucket{" in text
    assert "queue_depth 3.0" in text
    assert scheduler.calls == ["queue_depth"]
    for name in (
        "reportgen_runs_total",
        "reportgen_run_duration_seconds",
        "reportgen_deliveries_total",
        "reportgen_dead_letters_total",
        "scheduler_lag_seconds",
        "reportgen_scheduler_leader",
    ):
        assert f"# TYPE {name}" in text
