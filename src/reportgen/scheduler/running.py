"""`run_scheduler`: the whole scheduler process, from settings to a clean exit.

Builds the services, serves the REST API (leader and standby alike), runs the leadership loop,
and on ``stop`` shuts down in order: no new fire times, runs in flight finish (up to
`DRAIN_S`; an unfinished one is re-queued by the next leader's reaper once its heartbeat
stops), the lock is released, the API stops.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable

from reportgen.bootstrap import Services, build_services
from reportgen.observability import watch_queue
from reportgen.scheduler.leadership import open_leader_lock
from reportgen.scheduler.process import Duties, SchedulerProcess
from reportgen.scheduler.server import ApiServer, api_app
from reportgen.services.workers import WorkerPool
from reportgen.settings import Settings

log = logging.getLogger("reportgen.scheduler")

DRAIN_S = 25.0
"""Seconds a stopping scheduler waits for runs in flight (inside Kubernetes' default 30 s)."""


def new_worker_id() -> str:
    """Unique per process start: host, pid and a random suffix (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def scheduler_duties(services: Services, settings: Settings, worker_id: str) -> Duties:
    """What the scheduler process works with, taken from the wired services."""
    runs = services.runs

    def pool() -> WorkerPool:
        return WorkerPool(
            runs,
            size=settings.scheduler_workers,
            poll_s=settings.scheduler_poll_s,
            worker_id=worker_id,
        )

    return Duties(
        feed=services.schedules,
        ledger=runs,
        queue=runs,
        workers=pool,
        worker_id=worker_id,
        poll_s=settings.scheduler_poll_s,
        drain_s=DRAIN_S,
    )


def run_scheduler(
    settings: Settings,
    stop: threading.Event,
    *,
    announce: Callable[[str], None] = log.info,
) -> None:
    """Run the scheduler process until ``stop`` is set, then shut it down gracefully."""
    # APScheduler announces every job added and every run at INFO: thousands of lines a minute
    # that say nothing our own log lines do not. Its warnings and errors still come through.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.getLogger().level))
    services = build_services(settings)
    try:
        worker_id = new_worker_id()
        process = SchedulerProcess(
            scheduler_duties(services, settings, worker_id), open_leader_lock(settings)
        )
        watch_queue(services.runs.queue_depth)
        server = ApiServer(api_app(services, process.health), settings.api_host, settings.api_port)
        server.start()
        try:
            process.start()
            announce(
                f"Scheduler {worker_id} started; REST API on {server.address}"
                " (it leads when no other scheduler does)."
            )
            stop.wait()
            announce("Scheduler stopping: no new runs; waiting for runs in flight.")
            process.stop(timeout=DRAIN_S)
        finally:
            server.stop()
    finally:
        services.close()
