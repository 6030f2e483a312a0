"""OpenTelemetry tracing: one tracer provider per process, exporting over OTLP/HTTP when asked.

The provider exists from import, so every span has real trace and span ids (the logs carry
them) even when ``REPORTGEN_OTLP_ENDPOINT`` is unset and nothing is exported. `configure_tracing`
attaches the OTLP exporter; `attach` lets a test watch spans without replacing the provider.
`traced` and `span` are how services and workers mark their steps.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.util.types import AttributeValue

P = ParamSpec("P")
R = TypeVar("R")
INSTRUMENTATION = "reportgen"
OTLP_TRACES_PATH = "/v1/traces"


class _Relay(SpanProcessor):
    """Forwards spans to the processors attached now; they can be attached and detached."""

    def __init__(self) -> None:
        self._processors: tuple[SpanProcessor, ...] = ()
        self._lock = threading.Lock()

    def attach(self, processor: SpanProcessor) -> Callable[[], None]:
        with self._lock:
            self._processors = (*self._processors, processor)

        def detach() -> None:
            with self._lock:
                self._processors = tuple(p for p in self._processors if p is not processor)
            processor.shutdown()

        return detach

    def on_start(self, span: SdkSpan, parent_context: otel_context.Context | None = None) -> None:
        for processor in self._processors:
            processor.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        for processor in self._processors:
            processor.on_end(span)

    def shutdown(self) -> None:
        for processor in self._processors:
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return all(p.force_flush(timeout_millis) for p in self._processors)


_relay = _Relay()
PROVIDER = TracerProvider(resource=Resource.create({"service.name": INSTRUMENTATION}))
PROVIDER.add_span_processor(_relay)
_exporting: dict[str, Callable[[], None]] = {}
_global_lock = threading.Lock()
_global_set = False


def tracer() -> trace.Tracer:
    """The tracer reportgen's own spans come from."""
    return PROVIDER.get_tracer(INSTRUMENTATION)


def attach(processor: SpanProcessor) -> Callable[[], None]:
    """Send every span that ends from now on to ``processor``; call the result to stop."""
    return _relay.attach(processor)


def traces_url(endpoint: str) -> str:
    """Where OTLP/HTTP spans are posted for a collector at ``endpoint``."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(OTLP_TRACES_PATH) else endpoint + OTLP_TRACES_PATH


def configure_tracing(otlp_endpoint: str | None, *, timeout_s: float = 10.0) -> Callable[[], None]:
    """Make reportgen's provider the process's global one and, given an endpoint, export to it.

    Calling again with the same endpoint changes nothing, so every entry point may call it.
    Returns what stops the export (flushing what is buffered), for a clean shutdown.
    """
    global _global_set  # noqa: PLW0603 - the process has one tracer provider, set once
    with _global_lock:
        if not _global_set:
            trace.set_tracer_provider(PROVIDER)
            _global_set = True
        if not otlp_endpoint:
            return lambda: None
        if otlp_endpoint not in _exporting:
            exporter = OTLPSpanExporter(endpoint=traces_url(otlp_endpoint), timeout=timeout_s)
            _exporting[otlp_endpoint] = attach(BatchSpanProcessor(exporter))
        endpoint = otlp_endpoint

    def stop() -> None:
        with _global_lock:
            detach = _exporting.pop(endpoint, None)
        if detach is not None:
            detach()  # shutting the batch processor down exports what it still holds

    return stop


def flush_traces(timeout_s: float = 5.0) -> bool:
    """Export the spans still buffered (call before the process exits)."""
    return PROVIDER.force_flush(int(timeout_s * 1000))


@contextmanager
def span(name: str, **attributes: AttributeValue) -> Iterator[trace.Span]:
    """A span around a block, current while the block runs; an exception marks it failed."""
    with tracer().start_as_current_span(name, attributes=attributes) as current:
        yield current


def traced(name: str, **attributes: AttributeValue) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a function so each call runs inside a span called ``name``."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with span(name, **attributes):
                return function(*args, **kwargs)

        return wrapper

    return decorate


def current_ids() -> tuple[str, str] | None:
    """The current (trace id, span id) as lower-case hex, or ``None`` outside any span."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"
