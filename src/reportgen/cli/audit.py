"""`reportgen audit ...`: read and verify the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from reportgen.cli._app import audit_app
from reportgen.cli._boundary import err, fail, out, services


@audit_app.command("verify")
def audit_verify() -> None:
    """Prove the audit chain is unbroken; exit 1 naming the first altered or missing event."""
    with services() as svc:
        report = svc.audit.verify()
    if not report.ok:
        where = f" at event {report.first_broken_seq}" if report.first_broken_seq else ""
        fail(f"audit chain broken{where}: {report.reason}")
    out.print(f"Audit chain intact: {report.checked:,} events verified.")
    if report.anchored_seq is not None:
        out.print(f"It reaches event {report.anchored_seq:,}, the head recorded outside the DB.")
    elif report.checked:
        err.print(
            "warning: no head is recorded outside the database yet, so the removal of the newest"
            " events cannot be ruled out.",
            highlight=False,
        )


@audit_app.command("list")
def audit_list(
    actor: Annotated[str | None, typer.Option(help="Only this actor.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action.")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
) -> None:
    """Show recent audit events; a damaged one is shown as such."""
    with services() as svc:
        events = svc.audit.recent(actor=actor, action=action, limit=limit)
    table = Table("seq", "at", "actor", "action", "target", "outcome")
    for e in events:
        when = f"{e.at:%Y-%m-%d %H:%M:%S}" if isinstance(e.at, datetime) else "(unreadable)"
        outcome = f"DAMAGED: {e.damage}" if e.damage else e.outcome
        table.add_row(str(e.seq), when, e.actor, e.action, e.target, outcome)
    out.print(table)
