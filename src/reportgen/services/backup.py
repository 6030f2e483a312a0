"""Back up and restore the metadata database, then prove the restore: audit chain and artifacts.

A backup is only as good as the restore it allows, so `BackupService.restore` ends by checking
what matters after a disaster: the audit chain verifies end to end, and every artifact the
index lists is still in the artifact store with the SHA-256 it was recorded with.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from reportgen.artifacts import ArtifactStore
from reportgen.domain.audit import ChainReport
from reportgen.errors import NotFound
from reportgen.services.ports import AuditSink, BackupSummary, MetadataBackups


@dataclass(frozen=True)
class IntegrityReport:
    """The state of the audit chain and the artifact index, checked together."""

    chain: ChainReport
    artifacts_checked: int
    artifact_problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.artifact_problems


@dataclass(frozen=True)
class RestoreReport:
    summary: BackupSummary
    integrity: IntegrityReport


class BackupService:
    def __init__(
        self, backups: MetadataBackups, artifacts: ArtifactStore, audit: AuditSink
    ) -> None:
        self._backups = backups
        self._artifacts = artifacts
        self._audit = audit

    def backup(self, actor: str, destination: Path) -> BackupSummary:
        """Write an archive of the metadata database to ``destination`` and audit it."""
        summary = self._backups.create(destination)
        self._audit.append(
            actor,
            "backup.create",
            str(summary.path),
            "succeeded",
            {"sha256": summary.sha256, "rows": summary.total_rows, "revision": summary.revision},
        )
        return summary

    def inspect(self, archive: Path) -> BackupSummary:
        """Check every checksum of ``archive`` and summarise it, changing nothing."""
        return self._backups.inspect(archive)

    def restore(self, actor: str, archive: Path) -> RestoreReport:
        """Fill an empty database from ``archive``, then verify the chain and every artifact."""
        summary = self._backups.restore(archive)
        integrity = self.check_integrity()
        self._audit.append(
            actor,
            "backup.restore",
            str(archive),
            "succeeded" if integrity.ok else "failed",
            {
                "sha256": summary.sha256,
                "rows": summary.total_rows,
                "chain_ok": integrity.chain.ok,
                "artifacts_checked": integrity.artifacts_checked,
                "artifact_problems": len(integrity.artifact_problems),
            },
        )
        return RestoreReport(summary, integrity)

    def check_integrity(self) -> IntegrityReport:
        """Verify the audit chain and re-hash every indexed artifact."""
        chain = self._audit.verify()
        problems: list[str] = []
        index = self._backups.artifact_index()
        for entry in index:
            key = self._artifacts.key_of(entry.uri)
            if key is None:
                problems.append(f"artifact {entry.id}: {entry.uri} is not in the artifact store")
                continue
            try:
                data = self._artifacts.get(key)
            except NotFound:
                problems.append(f"artifact {entry.id}: {entry.uri} is missing")
                continue
            if hashlib.sha256(data).hexdigest() != entry.sha256:
                problems.append(
                    f"artifact {entry.id}: {entry.uri} does not match its recorded SHA-256"
                )
        return IntegrityReport(chain, len(index), tuple(problems))
