"""Every error is RFC 9457 problem+json: 400, 401, 403, 404, 409, 422, 429 and 500."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI

from reportgen.api import PROBLEM_CONTENT_TYPE
from reportgen.api.ratelimit import RateLimiter
from reportgen.errors import Conflict, InvalidInput
from tests.api.conftest import TestClient, Ticker, bearer

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def assert_problem(response: object, status: int) -> dict[str, object]:
    assert getattr(response, "status_code", None) == status
    headers = getattr(response, "headers", {})
    assert headers["content-type"] == PROBLEM_CONTENT_TYPE
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert str(body["type"]).startswith("urn:reportgen:problem:")
    return body


def test_401_without_a_token_names_the_fix(client: TestClient) -> None:
    response = client.get("/api/v1/datasets")

    body = assert_problem(response, 401)
    assert response.headers["www-authenticate"] == 'Bearer realm="reportgen"'
    assert "reportgen tokens create" in str(body["detail"])
    assert body["instance"] == "/api/v1/datasets"


def test_401_for_an_unknown_or_revoked_token(client: TestClient, tokens: dict[str, str]) -> None:
    unknown = client.get("/api/v1/datasets", headers=bearer("rgt_" + "x" * 43))
    client.app.state.reportgen.services.tokens.revoke(  # type: ignore[attr-defined]
        *_token_of(client, "ana")
    )
    revoked = client.get("/api/v1/datasets", headers=bearer(tokens["ana"]))

    for response in (unknown, revoked):
        assert_problem(response, 401)
        assert 'error="invalid_token"' in response.headers["www-authenticate"]


def _token_of(client: TestClient, username: str) -> tuple[object, str]:
    services = client.app.state.reportgen.services  # type: ignore[attr-defined]
    principal = services.users.principal(username)
    return principal, services.tokens.list(principal)[0].id


def test_400_lists_each_problem_with_its_field(
    make_app: Callable[..., FastAPI], tokens: dict[str, str]
) -> None:
    app = make_app()

    @app.post("/api/v1/_test/invalid")
    def invalid() -> None:
        raise InvalidInput(["cadence.at: use HH:MM, e.g. 08:00", "pick at least one recipient"])

    with TestClient(app) as client:
        response = client.post("/api/v1/_test/invalid", headers=bearer(tokens["ana"]))

    body = assert_problem(response, 400)
    assert body["errors"] == [
        {"field": "cadence.at", "message": "use HH:MM, e.g. 08:00"},
        {"field": "body", "message": "pick at least one recipient"},
    ]


def test_403_when_the_role_may_not_use_the_dataset(
    client: TestClient, tokens: dict[str, str]
) -> None:
    response = client.get("/api/v1/datasets/customers", headers=bearer(tokens["victor"]))

    body = assert_problem(response, 403)
    assert body["type"] == "urn:reportgen:problem:not-allowed"


def test_404_for_an_unknown_dataset_and_an_unknown_path(
    client: TestClient, tokens: dict[str, str]
) -> None:
    dataset = client.get("/api/v1/datasets/nope", headers=bearer(tokens["ana"]))
    path = client.get("/api/v2/anything")

    assert "there is no dataset 'nope'" in str(assert_problem(dataset, 404)["detail"])
    assert "/api/v1" in str(assert_problem(path, 404)["detail"])


def test_409_for_a_conflict(make_app: Callable[..., FastAPI]) -> None:
    app = make_app()

    @app.put("/_test/conflict")
    def conflict() -> None:
        raise Conflict("schedule s1 was saved by someone else (version 4); reload, then retry")

    with TestClient(app) as client:
        body = assert_problem(client.put("/_test/conflict"), 409)

    assert "reload, then retry" in str(body["detail"])


def test_422_names_each_invalid_field(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/render",
        headers=bearer(tokens["ana"]),
        json={"spec": {"title": "x"}, "formats": ["docx"]},
    )

    body = assert_problem(response, 422)
    fields = {error["field"] for error in body["errors"]}  # type: ignore[attr-defined]
    assert "body.formats.0" in fields
    assert any(field.startswith("body.spec") for field in fields)


def test_429_with_retry_after_once_the_allowance_is_spent(
    client: TestClient, tokens: dict[str, str], ticker: Ticker
) -> None:
    client.app.state.reportgen.limiter = RateLimiter(2, clock=ticker)  # type: ignore[attr-defined]
    headers = bearer(tokens["ana"])

    statuses = [client.get("/api/v1/datasets", headers=headers).status_code for _ in range(2)]
    refused = client.get("/api/v1/datasets", headers=headers)
    other = client.get("/api/v1/datasets", headers=bearer(tokens["victor"]))
    ticker.seconds += 30  # half a minute refills one of two requests
    again = client.get("/api/v1/datasets", headers=headers)

    assert statuses == [200, 200]
    assert_problem(refused, 429)
    assert refused.headers["retry-after"] == "30"
    assert other.status_code == 200
    assert again.status_code == 200


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_500_hides_the_cause_behind_an_incident_id(
    make_app: Callable[..., FastAPI], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()

    @app.get("/_test/boom")
    def boom() -> None:
        raise RuntimeError("secret database password leaked here")

    with TestClient(app) as client:
        response = client.get("/_test/boom")

    body = assert_problem(response, 500)
    incident = str(body["incident"])
    assert len(incident) == 8
    assert incident in str(body["detail"])
    assert "password" not in response.text
    assert any(incident in r.getMessage() and r.exc_info for r in caplog.records)
