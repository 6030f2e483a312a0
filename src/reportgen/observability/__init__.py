"""Metrics, traces and log context for every reportgen process.

- `METRICS` (a `Metrics`) holds the Prometheus series in a registry of its own; runs and the
  scheduler report through `record_run(status, seconds)`, `record_delivery(channel, status)`,
  `set_scheduler_lag(seconds)`, `set_leader(bool)` and `watch_queue(depth)`; renders and
  warehouse queries through `record_render(seconds)` and `record_query(dataset, seconds)`.
- `configure_tracing(otlp_endpoint)` installs the tracer provider (OTLP/HTTP export when an
  endpoint is given); `span(name)` and `traced(name)` mark steps; `current_ids()` gives the
  trace and span ids the logs print.
- `bind_run(run_id)` makes every log line written inside it carry the run's id.
"""

from reportgen.observability.context import bind_run, current_run_id
from reportgen.observability.metrics import (
    EXPOSITION_CONTENT_TYPE,
    METRICS,
    Metrics,
    record_delivery,
    record_query,
    record_render,
    record_run,
    set_leader,
    set_scheduler_lag,
    watch_queue,
)
from reportgen.observability.tracing import (
    attach,
    configure_tracing,
    current_ids,
    flush_traces,
    span,
    traced,
    tracer,
)

__all__ = [
    "EXPOSITION_CONTENT_TYPE",
    "METRICS",
    "Metrics",
    "attach",
    "bind_run",
    "configure_tracing",
    "current_ids",
    "current_run_id",
    "flush_traces",
    "record_delivery",
    "record_query",
    "record_render",
    "record_run",
    "set_leader",
    "set_scheduler_lag",
    "span",
    "traced",
    "tracer",
    "watch_queue",
]
