"""Serving the REST API from the scheduler process, on a uvicorn thread of its own.

The app is `reportgen.api.create_app` when that package provides it; until then a minimal app
answers ``/healthz`` and ``/readyz`` so orchestrators can tell a leader from a standby.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from reportgen.errors import ConfigurationError
from reportgen.scheduler.health import SchedulerHealth

log = logging.getLogger("reportgen.scheduler")


def health_app(health: SchedulerHealth) -> FastAPI:
    """The smallest useful app: liveness, and readiness that names this process's role."""
    app = FastAPI(title="reportgen scheduler", docs_url=None, redoc_url=None)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        beat = health.last_heartbeat()
        body = {
            "status": "ready" if beat is not None else "starting",
            "scheduler": "leader" if health.is_leader() else "standby",
            "last_heartbeat": beat.isoformat() if beat else None,
        }
        return JSONResponse(body, status_code=200 if beat is not None else 503)

    return app


def api_app(services: object, health: SchedulerHealth) -> FastAPI:
    """`reportgen.api.create_app(services, health=health)`, or `health_app` until it exists."""
    module = importlib.import_module("reportgen.api")
    create_app: Callable[..., FastAPI] | None = getattr(module, "create_app", None)
    if create_app is None:
        log.warning("reportgen.api.create_app is not available; serving /healthz and /readyz")
        return health_app(health)
    return create_app(services, health=health)


class ApiServer:
    """uvicorn on a background thread; `stop` asks it to finish its requests and exit."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        config = uvicorn.Config(
            app, host=host, port=port, log_config=None, access_log=False, lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self.address = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._serve, name="reportgen-api", daemon=True)

    def _serve(self) -> None:
        # uvicorn exits the process (sys.exit) when it cannot bind; here it only ends this
        # thread, and `start` turns that into a sentence naming the setting.
        with contextlib.suppress(SystemExit):
            self._server.run()

    def start(self, timeout: float = 15.0) -> None:
        """Start serving; returns once the socket listens (raises when it cannot)."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop(timeout=1)
                raise ConfigurationError(
                    f"the REST API could not listen on {self.address} (is the port in use?);"
                    " choose another with REPORTGEN_API_HOST / REPORTGEN_API_PORT"
                )
            self._thread.join(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
