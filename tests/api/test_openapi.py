"""The OpenAPI document is complete, and the app keeps to it under generated requests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from reportgen.api import PROBLEM_CONTENT_TYPE
from reportgen.api.ratelimit import RateLimiter
from tests.api.conftest import FakeScheduler, TestClient, bearer

UNAUTHENTICATED = {"/healthz", "/readyz", "/metrics"}
MAX_EXAMPLES = 12


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_every_operation_has_an_id_a_summary_and_a_success_response(
    document: dict[str, Any],
) -> None:
    ids = [op.get("operationId") for _, _, op in operations(document)]

    assert all(ids)
    assert len(ids) == len(set(ids))
    for path, method, operation in operations(document):
        assert operation.get("summary"), f"{method} {path} has no summary"
        successes = [code for code in operation["responses"] if code.startswith("2")]
        assert successes, f"{method} {path} documents no success"
        for code in successes:
            if code != "204":
                assert operation["responses"][code].get("content"), f"{method} {path} {code}"


def test_api_routes_need_the_bearer_token_and_document_their_errors(
    document: dict[str, Any],
) -> None:
    scheme = document["components"]["securitySchemes"]["ApiToken"]
    assert scheme == {
        "type": "http",
        "scheme": "bearer",
        "description": scheme["description"],
    }
    for path, method, operation in operations(document):
        if path in UNAUTHENTICATED:
            assert "security" not in operation
            continue
        assert operation["security"] == [{"ApiToken": []}], f"{method} {path}"
        for code in ("401", "403", "404", "422", "429", "500"):
            content = operation["responses"][code]["content"]
            assert list(content) == [PROBLEM_CONTENT_TYPE], f"{method} {path} {code}"
            assert content[PROBLEM_CONTENT_TYPE]["schema"] == {
                "$ref": "#/components/schemas/Problem"
            }
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert {"errors", "incident"} <= document["components"]["schemas"]["Problem"][
        "properties"
    ].keys()


@pytest.fixture
def api_app(make_app: Callable[..., FastAPI], scheduler: FakeScheduler) -> Iterator[FastAPI]:
    app = make_app(scheduler)
    # Generated requests all use one token; the rate limit has its own tests.
    app.state.reportgen.limiter = RateLimiter(1_000_000)
    yield app
    app.state.reportgen.jobs.shutdown()


@pytest.mark.slow
def test_generated_requests_keep_to_the_document(api_app: FastAPI, tokens: dict[str, str]) -> None:
    """schemathesis generates valid requests for every operation: no 5xx, every status and
    body as documented. (Its pytest plugin's lazy fixture loader does not run on pytest 9, so
    the operations are walked here, each with its own bounded Hypothesis run.)"""
    schema = schemathesis.openapi.from_asgi("/openapi.json", api_app)
    headers = bearer(tokens["ana"])
    failures: dict[str, str] = {}
    tried = []
    statuses: list[int] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        tried.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        def keeps_to_the_document(case: schemathesis.Case) -> None:
            response = case.call_and_validate(
                headers=headers,
                checks=[not_a_server_error, response_schema_conformance, status_code_conformance],
            )
            statuses.append(response.status_code)

        try:
            keeps_to_the_document()
        except Exception as exc:  # noqa: BLE001 - collect every failure, then report them all
            failures[operation.label] = f"{type(exc).__name__}: {exc}"

    assert len(tried) >= 20
    assert len(statuses) >= len(tried)
    assert any(200 <= status < 300 for status in statuses)
    assert not failures, "\n\n".join(f"{label}: {error}" for label, error in failures.items())
