"""Reading and proving the audit log."""

from __future__ import annotations

from reportgen.domain.audit import AuditEvent, ChainReport
from reportgen.services.ports import AuditSink


class AuditService:
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
        """Walk the whole chain; the report names the first altered or missing event."""
        return self.sink.verify()
