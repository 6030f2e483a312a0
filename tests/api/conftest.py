"""Fixtures for the API tests: the app over the test services, tokens for the demo users."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog
from fastapi import FastAPI
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its test client; the pinned httpx works the same here.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from reportgen.api import SchedulerHealth, create_app
from reportgen.bootstrap import Services
from reportgen.logs import configure_logging
from reportgen.observability import Metrics
from tests.conftest import ADMIN, ANA, VICTOR, make_settings

NOW = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


class Ticker:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


@dataclass
class FakeScheduler:
    """A scheduler's health as the scheduler process would report it."""

    leader: bool = True
    heartbeat: datetime | None = NOW
    depth: int = 3
    calls: list[str] = field(default_factory=list)

    def is_leader(self) -> bool:
        return self.leader

    def last_heartbeat(self) -> datetime | None:
        return self.heartbeat

    def queue_depth(self) -> int:
        self.calls.append("queue_depth")
        return self.depth


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def scheduler() -> FakeScheduler:
    return FakeScheduler()


@pytest.fixture
def make_app(services: Services, metrics: Metrics, ticker: Ticker) -> Callable[..., FastAPI]:
    def build(health: SchedulerHealth | None = None) -> FastAPI:
        return create_app(
            services, health=health, metrics=metrics, clock=lambda: NOW, rate_clock=ticker
        )

    return build


@pytest.fixture
def client(make_app: Callable[..., FastAPI], scheduler: FakeScheduler) -> Iterator[TestClient]:
    with TestClient(make_app(scheduler)) as test_client:
        yield test_client


@pytest.fixture
def tokens(services: Services) -> dict[str, str]:
    """A bearer secret for each demo user: admin, ana (author, EMEA), victor (viewer)."""
    return {
        principal.username: services.tokens.create(principal, "tests")[0]
        for principal in (ADMIN, ANA, VICTOR)
    }


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def json_logs(tmp_path: Path, warehouse_path: Path) -> Iterator[Callable[[], None]]:
    """Starts JSON logging to the current stderr; called inside the test, where capsys has
    replaced stderr (during setup its stream is another, closed by the time the test runs)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level

    def start() -> None:
        configure_logging(make_settings(tmp_path, warehouse_path, log_format="json"))

    try:
        yield start
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.reset_defaults()
