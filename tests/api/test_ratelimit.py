"""The API's rate limits: per valid token after authentication, and per client address for
invalid tokens, so a spray of made-up tokens is throttled and cannot evict real tokens' buckets."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI

from reportgen.api.ratelimit import FAILED_AUTHENTICATIONS_PER_MINUTE, RateLimiter
from reportgen.api.state import ApiState
from reportgen.bootstrap import Services
from tests.api.conftest import FakeScheduler, TestClient, Ticker, bearer
from tests.api.test_problems import assert_problem


def made_up() -> dict[str, str]:
    """A bearer header with a random secret shaped like a real one (so it costs a lookup)."""
    return bearer("rgt_" + secrets.token_urlsafe(32))


@pytest.fixture
def app(make_app: Callable[..., FastAPI], scheduler: FakeScheduler) -> Iterator[FastAPI]:
    built = make_app(scheduler)
    yield built
    built.state.reportgen.jobs.shutdown()


def state_of(app: FastAPI) -> ApiState:
    state: ApiState = app.state.reportgen
    return state


@pytest.fixture
def lookups(services: Services, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every token hash the API looked up in the metadata DB."""
    seen: list[str] = []
    store = services.tokens.store
    by_hash = store.by_hash

    def counted(token_hash: str) -> object:
        seen.append(token_hash)
        return by_hash(token_hash)

    monkeypatch.setattr(store, "by_hash", counted)
    return seen


def test_a_spray_of_invalid_tokens_is_throttled_per_address_before_any_lookup(
    app: FastAPI, tokens: dict[str, str], ticker: Ticker, lookups: list[str]
) -> None:
    with (
        TestClient(app, client=("203.0.113.7", 40000)) as sprayer,
        TestClient(app, client=("198.51.100.2", 40000)) as neighbour,
    ):
        refused = [
            sprayer.get("/api/v1/datasets", headers=made_up()).status_code
            for _ in range(FAILED_AUTHENTICATIONS_PER_MINUTE)
        ]
        throttled = [sprayer.get("/api/v1/datasets", headers=made_up()) for _ in range(50)]
        other_address = neighbour.get("/api/v1/datasets", headers=made_up())
        real_elsewhere = neighbour.get("/api/v1/datasets", headers=bearer(tokens["ana"]))
        ticker.seconds += 60 / FAILED_AUTHENTICATIONS_PER_MINUTE  # one failure refilled
        after_a_while = sprayer.get("/api/v1/datasets", headers=made_up())

    assert refused == [401] * FAILED_AUTHENTICATIONS_PER_MINUTE
    for response in throttled:
        body = assert_problem(response, 429)
        assert response.headers["retry-after"] == "3"
        assert "203.0.113.7 presented more than 20 invalid API tokens" in str(body["detail"])
    # The throttled requests never reached the token table; the other requests did.
    assert len(lookups) == FAILED_AUTHENTICATIONS_PER_MINUTE + 3
    assert other_address.status_code == 401
    assert real_elsewhere.status_code == 200
    assert after_a_while.status_code == 401


def test_invalid_tokens_get_no_bucket_and_cannot_evict_a_real_tokens_bucket(
    app: FastAPI, tokens: dict[str, str], ticker: Ticker
) -> None:
    state = state_of(app)
    state.limiter = RateLimiter(2, clock=ticker, max_keys=3)
    state.failed_auth = RateLimiter(1_000_000)  # this test is about the per-token buckets
    ana = bearer(tokens["ana"])
    with TestClient(app) as client:
        spent = [client.get("/api/v1/datasets", headers=ana).status_code for _ in range(2)]
        sprayed = {client.get("/api/v1/datasets", headers=made_up()).status_code for _ in range(50)}
        still_limited = client.get("/api/v1/datasets", headers=ana)

    assert spent == [200, 200]
    assert sprayed == {401}
    assert len(state.limiter) == 1  # only ana's token is tracked
    assert_problem(still_limited, 429)
    assert still_limited.headers["retry-after"] == "30"
    assert "this token made more than 2 requests in a minute" in still_limited.text


def test_failed_authentications_are_tracked_in_bounded_memory(app: FastAPI, ticker: Ticker) -> None:
    state = state_of(app)
    state.failed_auth = RateLimiter(1, clock=ticker, max_keys=5)
    statuses = []
    for n in range(40):
        with TestClient(app, client=(f"192.0.2.{n}", 40000)) as client:
            statuses.append(client.get("/api/v1/datasets", headers=made_up()).status_code)
            statuses.append(client.get("/api/v1/datasets", headers=made_up()).status_code)

    assert statuses == [401, 429] * 40
    assert len(state.failed_auth) == 5
    assert "192.0.2.39" in state.failed_auth
    assert "192.0.2.0" not in state.failed_auth


def test_a_missing_token_is_not_a_failed_authentication(app: FastAPI) -> None:
    state = state_of(app)
    with TestClient(app) as client:
        statuses = {client.get("/api/v1/datasets").status_code for _ in range(30)}

    assert statuses == {401}
    assert len(state.failed_auth) == 0


def test_wait_looks_without_spending(ticker: Ticker) -> None:
    limiter = RateLimiter(2, clock=ticker)

    assert limiter.wait("a") == 0.0
    assert "a" not in limiter
    assert [limiter.take("a"), limiter.take("a")] == [0.0, 0.0]
    assert limiter.wait("a") == pytest.approx(30.0)
    assert limiter.wait("a") == pytest.approx(30.0)
    ticker.seconds += 30
    assert limiter.wait("a") == 0.0
    assert limiter.take("a") == 0.0
