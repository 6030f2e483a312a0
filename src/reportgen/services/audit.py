"""Reading and proving the audit log, and saying who acts through which door.

`audit_context` (from `reportgen.domain.audit`) is how a door adds details to every event its
work records, e.g. the CLI's ``operator`` (the OS account that ran ``reportgen query --as ana``)
and ``via``; the audit log merges them into each event it appends.
"""

from __future__ import annotations

from reportgen.domain.audit import AuditEvent, ChainReport, audit_context
from reportgen.services.ports import AuditSink

__all__ = ["AuditService", "audit_context"]


class AuditService:
    """Record events by hand, list recent ones, verify the whole chain."""

    def __init__(self, sink: AuditSink) -> None:
        self.sink = sink

    def record(
        self, actor: str, action: str, target: str, outcome: str, **details: object
    ) -> AuditEvent:
        return self.sink.append(actor, action, target, outcome, details or None)

    def recent(
        self, actor: str | None = None, action: str | None = None, limit: int = 100
    ) -> list[AuditEvent]:
        return self.sink.list(actor=actor, action=action, limit=limit)

    def verify(self) -> ChainReport:
        """Walk the whole chain; the report names the first altered or missing event, and
        events removed from its end."""
        return self.sink.verify()
