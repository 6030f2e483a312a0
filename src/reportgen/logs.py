"""Structured logging for every process: JSON lines for machines, or readable console output.

Every line written inside a span carries its ``trace_id`` and ``span_id`` (OpenTelemetry), and
inside `reportgen.observability.bind_run` the ``run_id``, so one search finds a request's or a
run's whole story across the API, the services and the workers.
"""

from __future__ import annotations

import logging
import sys

import structlog

from reportgen.observability import current_ids, current_run_id
from reportgen.settings import Settings


def add_trace_context(
    _logger: object, _method: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    """Add the current trace and span ids, and the run being worked on, to a log event."""
    ids = current_ids()
    if ids is not None:
        event.setdefault("trace_id", ids[0])
        event.setdefault("span_id", ids[1])
    run_id = current_run_id()
    if run_id is not None:
        event.setdefault("run_id", run_id)
    return event


def configure_logging(settings: Settings) -> None:
    """Route stdlib and structlog records through one renderer at the configured level."""
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        add_trace_context,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            # Standard-library records keep the fields passed as ``extra=``.
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # Migrations, the chart browser and the PDF layout announce every step at INFO; only
    # their problems belong in our log.
    for chatty in ("alembic", "choreographer", "kaleido", "logistro", "weasyprint", "fontTools"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
