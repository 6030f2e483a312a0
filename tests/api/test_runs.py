"""Runs over the API: run now (idempotent), cursor pages, detail, checked artifact downloads,
retry, replay and the dead letters."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from reportgen.bootstrap import Services
from tests.api.conftest import TestClient, bearer
from tests.api.test_problems import assert_problem

SPEC = {
    "title": "Revenue pulse",
    "dataset": "sales",
    "time_range": {"start": "2026-10-01", "end": "2026-11-01"},
    "blocks": [
        {"kind": "table", "title": "By region", "dimensions": ["region"], "measures": ["revenue"]}
    ],
}


@pytest.fixture
def schedule_id(client: TestClient, tokens: dict[str, str]) -> str:
    headers = bearer(tokens["ana"])
    report = client.post(
        "/api/v1/reports", headers=headers, json={"name": "Pulse", "spec": SPEC}
    ).json()
    created = client.post(
        "/api/v1/schedules",
        headers=headers,
        json={
            "name": "Pulse to storage",
            "report_id": report["id"],
            "cadence": {"kind": "daily", "at": "08:00"},
            "recipients": [{"kind": "user", "value": "ana"}],
            "channels": [{"kind": "storage", "prefix": "pulse"}],
            "formats": ["csv"],
        },
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def run_now(client: TestClient, token: str, schedule_id: str, key: str | None) -> Any:
    headers = bearer(token) | ({"Idempotency-Key": key} if key else {})
    return client.post(f"/api/v1/schedules/{schedule_id}/runs", headers=headers)


def execute_queued(services: Services) -> list[str]:
    """What a worker does: claim every due run and carry it to its end."""
    done = []
    while (run := services.runs.claim("test-worker")) is not None:
        done.append(services.runs.execute(run, "test-worker").status.value)
    return done


def test_run_now_with_the_same_key_queues_one_run(
    client: TestClient, tokens: dict[str, str], schedule_id: str
) -> None:
    first = run_now(client, tokens["ana"], schedule_id, "monday-resend")
    again = run_now(client, tokens["ana"], schedule_id, "monday-resend")
    other = run_now(client, tokens["ana"], schedule_id, "another")

    assert first.status_code == 202, first.text
    assert first.json()["id"] == again.json()["id"]
    assert other.json()["id"] != first.json()["id"]
    assert first.json()["trigger"] == "manual"
    assert first.headers["location"].endswith(f"/api/v1/runs/{first.json()['id']}")


def test_runs_page_with_a_cursor(
    client: TestClient, tokens: dict[str, str], schedule_id: str
) -> None:
    made = {run_now(client, tokens["ana"], schedule_id, f"k{i}").json()["id"] for i in range(3)}
    headers = bearer(tokens["ana"])

    first = client.get("/api/v1/runs?limit=2", headers=headers).json()
    second = client.get(
        "/api/v1/runs", headers=headers, params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    filtered = client.get(
        "/api/v1/runs", headers=headers, params={"status": "pending", "schedule_id": schedule_id}
    ).json()

    assert len(first["runs"]) == 2
    assert first["next_cursor"]
    assert len(second["runs"]) == 1
    assert second["next_cursor"] is None
    assert {r["id"] for r in first["runs"] + second["runs"]} == made
    assert {r["id"] for r in filtered["runs"]} == made
    assert client.get("/api/v1/runs", headers=bearer(tokens["victor"])).json()["runs"] == []


def test_a_finished_runs_detail_and_artifact_download(
    client: TestClient, tokens: dict[str, str], schedule_id: str, services: Services
) -> None:
    headers = bearer(tokens["ana"])
    run_id = run_now(client, tokens["ana"], schedule_id, None).json()["id"]
    assert execute_queued(services) == ["succeeded"]

    detail = client.get(f"/api/v1/runs/{run_id}", headers=headers).json()

    assert detail["run"]["status"] == "succeeded"
    assert [t["to_status"] for t in detail["transitions"]][-1] == "succeeded"
    assert [d["channel"] for d in detail["deliveries"]] == ["storage"]
    [csv] = [a for a in detail["artifacts"] if a["filename"].endswith(".csv")]
    download = client.get(csv["download_url"], headers=headers)
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == csv["sha256"]
    assert download.headers["x-checksum-sha256"] == csv["sha256"]
    assert "attachment" in download.headers["content-disposition"]
    assert_problem(client.get(csv["download_url"], headers=bearer(tokens["victor"])), 404)


def test_replay_retry_and_dead_letters(
    client: TestClient, tokens: dict[str, str], schedule_id: str, services: Services
) -> None:
    headers = bearer(tokens["ana"])
    run_id = run_now(client, tokens["ana"], schedule_id, None).json()["id"]
    execute_queued(services)

    refused = client.post(f"/api/v1/runs/{run_id}/retry", headers=headers)
    replay = client.post(f"/api/v1/runs/{run_id}/replay", headers=headers)
    dead = client.get("/api/v1/dead-letters", headers=headers)

    assert "only dead or retrying runs" in str(assert_problem(refused, 400)["detail"])
    assert replay.status_code == 202
    assert replay.json()["trigger"] == "replay"
    assert replay.json()["id"] != run_id
    assert dead.status_code == 200
    assert dead.json() == []


def test_an_unknown_run_is_a_404(client: TestClient, tokens: dict[str, str]) -> None:
    assert_problem(client.get("/api/v1/runs/nope", headers=bearer(tokens["ana"])), 404)


def test_an_owner_cannot_download_a_recipients_render(
    client: TestClient, tokens: dict[str, str], services: Services
) -> None:
    ana, admin = bearer(tokens["ana"]), bearer(tokens["admin"])
    report = client.post("/api/v1/reports", headers=ana, json={"name": "P", "spec": SPEC}).json()
    created = client.post(
        "/api/v1/schedules",
        headers=ana,
        json={
            "name": "Pulse for admin",
            "report_id": report["id"],
            "cadence": {"kind": "daily", "at": "08:00"},
            "recipients": [{"kind": "user", "value": "admin"}],
            "formats": ["csv"],
        },
    )
    assert created.status_code == 201, created.text
    run_id = run_now(client, tokens["ana"], created.json()["id"], None).json()["id"]
    execute_queued(services)  # admin's render is stored whether or not the email went out

    admins_files = client.get(f"/api/v1/runs/{run_id}", headers=admin).json()["artifacts"]
    assert {a["kind"] for a in admins_files} == {"csv", "manifest"}
    assert client.get(f"/api/v1/runs/{run_id}", headers=ana).json()["artifacts"] == []
    for file in admins_files:
        assert_problem(client.get(file["download_url"], headers=ana), 404)
        assert client.get(file["download_url"], headers=admin).status_code == 200
