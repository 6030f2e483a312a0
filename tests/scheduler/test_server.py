"""The scheduler's HTTP side: the fallback health app, and a port in use said plainly."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from datetime import UTC, datetime

import pytest

from reportgen.errors import ConfigurationError
from reportgen.scheduler.health import SchedulerState
from reportgen.scheduler.server import ApiServer, health_app
from tests.test_up import free_port


def get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def test_health_app_names_the_role_once_the_loop_has_beaten() -> None:
    state = SchedulerState(lambda: 3, clock=lambda: datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    server = ApiServer(health_app(state), "127.0.0.1", free_port())
    server.start()
    try:
        assert get(f"{server.address}/healthz") == (200, {"status": "ok"})
        status, body = get(f"{server.address}/readyz")
        assert (status, body["status"]) == (503, "starting")
        state.beat()
        state.set_leader(True)
        assert get(f"{server.address}/readyz") == (
            200,
            {
                "status": "ready",
                "scheduler": "leader",
                "last_heartbeat": "2026-03-02T08:00:00+00:00",
            },
        )
        state.set_leader(False)
        assert get(f"{server.address}/readyz")[1]["scheduler"] == "standby"
    finally:
        server.stop()
    assert state.queue_depth() == 3


def test_a_port_in_use_is_a_configuration_error_naming_the_setting() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = ApiServer(health_app(SchedulerState(lambda: 0)), "127.0.0.1", port)
        with pytest.raises(ConfigurationError, match="REPORTGEN_API_PORT") as caught:
            server.start(timeout=10)
    assert f"127.0.0.1:{port}" in str(caught.value)
