"""Saved reports and schedules over the API: create, read, If-Match updates, pause, delete."""

from __future__ import annotations

from typing import Any

import pytest

from reportgen.rendering.specfiles import load_spec_file
from tests.api.conftest import TestClient, bearer
from tests.api.test_problems import assert_problem
from tests.conftest import REPO

EXECUTIVE = REPO / "report_templates/executive_summary/sample.yml"


def spec_json() -> dict[str, Any]:
    return load_spec_file(EXECUTIVE).spec.model_dump(mode="json")


@pytest.fixture
def report_id(client: TestClient, tokens: dict[str, str]) -> str:
    response = client.post(
        "/api/v1/reports",
        headers=bearer(tokens["ana"]),
        json={"name": "Executive summary", "spec": spec_json()},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def draft(report_id: str, **overrides: object) -> dict[str, Any]:
    return {
        "name": "Monday exec summary",
        "report_id": report_id,
        "cadence": {"kind": "weekdays", "at": "08:00"},
        "timezone": "Europe/London",
        "recipients": [{"kind": "user", "value": "ana"}],
        **overrides,
    }


@pytest.fixture
def schedule(client: TestClient, tokens: dict[str, str], report_id: str) -> dict[str, Any]:
    response = client.post(
        "/api/v1/schedules", headers=bearer(tokens["ana"]), json=draft(report_id)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_saved_report_is_listed_and_read_back(
    client: TestClient, tokens: dict[str, str], report_id: str
) -> None:
    headers = bearer(tokens["ana"])

    listed = client.get("/api/v1/reports", headers=headers).json()
    read = client.get(f"/api/v1/reports/{report_id}", headers=headers)

    assert [r["id"] for r in listed] == [report_id]
    assert "spec" not in listed[0]
    assert read.status_code == 200
    assert read.json()["spec"]["title"] == "Executive summary"  # the saved name is its title
    assert read.json()["version"] == 1


def test_a_viewer_cannot_save_reports(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/reports",
        headers=bearer(tokens["victor"]),
        json={"name": "Mine", "spec": spec_json()},
    )

    assert_problem(response, 403)


def test_creating_a_schedule_answers_its_location_and_etag(
    client: TestClient, tokens: dict[str, str], report_id: str
) -> None:
    response = client.post(
        "/api/v1/schedules", headers=bearer(tokens["ana"]), json=draft(report_id)
    )

    body = response.json()
    assert response.status_code == 201
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"].endswith(f"/api/v1/schedules/{body['id']}")
    assert body["owner"] == "ana"
    assert body["cadence"] == {"kind": "weekdays", "at": "08:00:00"}


def test_service_problems_name_their_fields(
    client: TestClient, tokens: dict[str, str], report_id: str
) -> None:
    response = client.post(
        "/api/v1/schedules",
        headers=bearer(tokens["ana"]),
        json=draft(report_id, timezone="Mars/Olympus", recipients=[]),
    )

    body = assert_problem(response, 400)
    fields = {e["field"] for e in body["errors"]}  # type: ignore[attr-defined]
    assert "timezone" in fields
    assert "recipients" in fields


def test_a_malformed_cadence_is_a_422_naming_the_field(
    client: TestClient, tokens: dict[str, str], report_id: str
) -> None:
    response = client.post(
        "/api/v1/schedules",
        headers=bearer(tokens["ana"]),
        json=draft(report_id, cadence={"kind": "daily", "at": "25:99"}),
    )

    body = assert_problem(response, 422)
    fields = [e["field"] for e in body["errors"]]  # type: ignore[attr-defined]
    assert any(f.startswith("body.cadence") and f.endswith(".at") for f in fields)


def test_put_needs_the_current_version_in_if_match(
    client: TestClient, tokens: dict[str, str], schedule: dict[str, Any]
) -> None:
    headers = bearer(tokens["ana"])
    url = f"/api/v1/schedules/{schedule['id']}"
    changed = draft(schedule["report_id"], name="Renamed")

    missing = client.put(url, headers=headers, json=changed)
    updated = client.put(url, headers={**headers, "If-Match": '"1"'}, json=changed)
    stale = client.put(url, headers={**headers, "If-Match": '"1"'}, json=changed)

    assert_problem(missing, 428)
    assert updated.status_code == 200
    assert updated.json()["name"] == "Renamed"
    assert updated.headers["etag"] == '"2"'
    body = assert_problem(stale, 412)
    assert "version 2, not 1" in str(body["detail"])
    assert stale.headers["etag"] == '"2"'


def test_pause_resume_and_delete(
    client: TestClient, tokens: dict[str, str], schedule: dict[str, Any]
) -> None:
    headers = bearer(tokens["ana"])
    url = f"/api/v1/schedules/{schedule['id']}"

    paused = client.post(f"{url}/pause", headers=headers).json()
    resumed = client.post(f"{url}/resume", headers=headers).json()
    deleted = client.delete(url, headers=headers)
    after = client.get(url, headers=headers)

    assert paused["paused"] is True
    assert resumed["paused"] is False
    assert resumed["version"] == 3
    assert deleted.status_code == 204
    assert_problem(after, 404)


def test_others_cannot_see_a_schedule(
    client: TestClient, tokens: dict[str, str], schedule: dict[str, Any]
) -> None:
    mine = client.get("/api/v1/schedules", headers=bearer(tokens["victor"]))
    theirs = client.get(f"/api/v1/schedules/{schedule['id']}", headers=bearer(tokens["victor"]))
    everyone = client.get("/api/v1/schedules?everyone=true", headers=bearer(tokens["admin"]))

    assert mine.json() == []
    assert_problem(theirs, 404)
    assert [s["id"] for s in everyone.json()] == [schedule["id"]]


def test_timing_preview_describes_the_cadence(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/schedules/timing",
        headers=bearer(tokens["ana"]),
        json={"cadence": {"kind": "daily", "at": "08:00"}, "timezone": "Europe/London", "count": 3},
    )

    body = response.json()
    assert response.status_code == 200
    assert len(body["next_fire_times"]) == 3
    assert body["description"]
    assert body["problems"] == []
