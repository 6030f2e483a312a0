"""Log context: the run a worker is busy with, so every log line it writes names that run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from opentelemetry import trace

_run_id: ContextVar[str | None] = ContextVar("reportgen_run_id", default=None)


@contextmanager
def bind_run(run_id: str) -> Iterator[None]:
    """Within the block, log lines carry ``run_id`` and the current span gets it as attribute."""
    token = _run_id.set(run_id)
    trace.get_current_span().set_attribute("reportgen.run_id", run_id)
    try:
        yield
    finally:
        _run_id.reset(token)


def current_run_id() -> str | None:
    return _run_id.get()
