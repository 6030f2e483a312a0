"""`reportgen backup` and `reportgen restore`: the metadata database, archived and verified."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from reportgen.bootstrap import build_backups
from reportgen.cli._app import app
from reportgen.cli._boundary import err, fail, operator, out, sentences, settings
from reportgen.services.audit import audit_context
from reportgen.services.backup import IntegrityReport


def _print_integrity(integrity: IntegrityReport) -> None:
    chain = integrity.chain
    if chain.ok:
        out.print(f"Audit chain intact: {chain.checked:,} events verified.")
    else:
        where = f" at event {chain.first_broken_seq}" if chain.first_broken_seq else ""
        err.print(f"Audit chain broken{where}: {chain.reason}", highlight=False)
    out.print(f"Artifacts checked against their SHA-256: {integrity.artifacts_checked:,}.")
    for problem in integrity.artifact_problems:
        err.print(f"  - {problem}", highlight=False)


@app.command("backup")
def backup(
    out_path: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Archive to write. Default: data_dir/backups/reportgen-<UTC time>.tar.gz."
        ),
    ] = None,
    check: Annotated[
        Path | None,
        typer.Option("--check", help="Only verify an existing archive's checksums; write nothing."),
    ] = None,
) -> None:
    """Archive the metadata database (every table and the audit head) with checksums."""
    config = settings()
    with sentences(), audit_context(operator=operator(), via="cli"):
        service, store = build_backups(config)
        try:
            if check is not None:
                summary = service.inspect(check)
                taken = f"{summary.created_at:%Y-%m-%d %H:%M} UTC"
                out.print(
                    f"{summary.path}: every checksum matches; {summary.total_rows:,} rows at"
                    f" schema revision {summary.revision}, taken {taken}."
                )
                return
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            target = out_path or config.data_dir / "backups" / f"reportgen-{stamp}.tar.gz"
            summary = service.backup(operator(), target)
        finally:
            store.dispose()
    out.print(f"Backed up {summary.total_rows:,} rows to {summary.path}")
    out.print(f"SHA-256 {summary.sha256}")


@app.command("restore")
def restore(
    archive: Annotated[Path, typer.Argument(help="A backup written by `reportgen backup`.")],
) -> None:
    """Fill an empty metadata database from a backup, then verify the audit chain and artifacts."""
    config = settings()
    with sentences(), audit_context(operator=operator(), via="cli"):
        service, store = build_backups(config)
        try:
            report = service.restore(operator(), archive)
        finally:
            store.dispose()
    out.print(
        f"Restored {report.summary.total_rows:,} rows from {archive}"
        f" (schema revision {report.summary.revision})."
    )
    _print_integrity(report.integrity)
    if not report.integrity.ok:
        fail("the restore finished but the checks above failed; investigate before going live")
