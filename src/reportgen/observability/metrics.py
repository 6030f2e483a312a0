"""Prometheus metrics of every reportgen process, in one dedicated registry.

RED for the API (`http_requests_total`, `http_request_duration_seconds`), runs and deliveries
by outcome, the dead-letter count, and the scheduler's health (`queue_depth`,
`scheduler_lag_seconds`, `reportgen_scheduler_leader`). Runs and scheduler code call the small
functions at the bottom (`record_run`, `record_delivery`, ...), which update `METRICS`, the
process's instance; tests build their own `Metrics` to start from zero.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

log = logging.getLogger("reportgen.metrics")

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
RUN_BUCKETS = (1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 3600.0)
EXPOSITION_CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """Every metric reportgen exports, registered in a `CollectorRegistry` of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.http_requests = Counter(
            "http_requests_total",
            "HTTP requests answered, by route template and status code.",
            ["service", "method", "route", "status"],
            registry=registry,
        )
        self.http_duration = Histogram(
            "http_request_duration_seconds",
            "Seconds from receiving a request to sending the last byte of its answer.",
            ["service", "method", "route"],
            buckets=HTTP_BUCKETS,
            registry=registry,
        )
        self.runs = Counter(
            "reportgen_runs_total",
            "Runs that reached an outcome (succeeded, skipped, failed, retrying, dead).",
            ["status"],
            registry=registry,
        )
        self.run_duration = Histogram(
            "reportgen_run_duration_seconds",
            "Seconds a run took from its start to its outcome.",
            buckets=RUN_BUCKETS,
            registry=registry,
        )
        self.deliveries = Counter(
            "reportgen_deliveries_total",
            "Delivery attempts by channel (email, storage, webhook) and outcome.",
            ["channel", "status"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "reportgen_dead_letters_total",
            "Runs that landed in the dead-letter list.",
            registry=registry,
        )
        self.queue_depth = Gauge(
            "queue_depth",
            "Runs waiting for a worker (pending or due for retry), read at scrape time.",
            registry=registry,
        )
        self.scheduler_lag = Gauge(
            "scheduler_lag_seconds",
            "How late the scheduler recorded its latest fire time, in seconds.",
            registry=registry,
        )
        self.scheduler_leader = Gauge(
            "reportgen_scheduler_leader",
            "1 while this process holds the scheduler leader lock, 0 on standby.",
            registry=registry,
        )
        self.render_duration = Histogram(
            "reportgen_render_duration_seconds",
            "Seconds one report render took (queries, charts and every file format).",
            buckets=HTTP_BUCKETS,
            registry=registry,
        )
        self.query_duration = Histogram(
            "reportgen_query_duration_seconds",
            "Seconds the warehouse took to answer one query (cache hits are not counted).",
            ["dataset"],
            buckets=HTTP_BUCKETS,
            registry=registry,
        )
        self.queue_depth.set(math.nan)

    def watch_queue(self, depth: Callable[[], int]) -> None:
        """Read `queue_depth` from ``depth`` at every scrape; a failing read shows NaN."""

        def read() -> float:
            try:
                return float(depth())
            except Exception:  # a scrape must not fail because the database hiccuped
                log.warning("could not read the queue depth for /metrics", exc_info=True)
                return math.nan

        self.queue_depth.set_function(read)

    def exposition(self) -> bytes:
        """The registry in Prometheus's text format."""
        return generate_latest(self.registry)


METRICS = Metrics()
"""The process's metrics: what ``/metrics`` serves unless an app is given its own."""


def record_run(status: str, seconds: float | None = None, *, metrics: Metrics = METRICS) -> None:
    """Count a run outcome and, when known, how long the run took."""
    metrics.runs.labels(status=status).inc()
    if seconds is not None:
        metrics.run_duration.observe(max(0.0, seconds))
    if status == "dead":
        metrics.dead_letters.inc()


def record_delivery(channel: str, status: str, *, metrics: Metrics = METRICS) -> None:
    """Count one delivery attempt's outcome on a channel."""
    metrics.deliveries.labels(channel=channel, status=status).inc()


def record_render(seconds: float, *, metrics: Metrics = METRICS) -> None:
    """Observe how long one report render took."""
    metrics.render_duration.observe(max(0.0, seconds))


def record_query(dataset: str, seconds: float, *, metrics: Metrics = METRICS) -> None:
    """Observe how long the warehouse took to answer one query on ``dataset``."""
    metrics.query_duration.labels(dataset=dataset).observe(max(0.0, seconds))


def set_scheduler_lag(seconds: float, *, metrics: Metrics = METRICS) -> None:
    metrics.scheduler_lag.set(max(0.0, seconds))


def set_leader(leader: bool, *, metrics: Metrics = METRICS) -> None:
    metrics.scheduler_leader.set(1 if leader else 0)


def watch_queue(depth: Callable[[], int], *, metrics: Metrics = METRICS) -> None:
    metrics.watch_queue(depth)
