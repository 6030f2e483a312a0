"""Structured logging for every process: JSON lines for machines, or readable console output."""

from __future__ import annotations

import logging
import sys

import structlog

from reportgen.settings import Settings


def configure_logging(settings: Settings) -> None:
    """Route stdlib and structlog records through one renderer at the configured level."""
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
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
            foreign_pre_chain=shared,
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
