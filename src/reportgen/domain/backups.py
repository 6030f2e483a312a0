"""Metadata backups as the services see them: what an archive holds and what it indexes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class BackupSummary:
    """What a metadata backup archive holds, read from its manifest after checking it."""

    path: Path
    created_at: datetime
    revision: str
    rows: Mapping[str, int]
    sha256: str  # of the whole archive

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


@dataclass(frozen=True)
class IndexedArtifact:
    """One row of the artifact index: where a stored file is and the SHA-256 it must have."""

    id: str
    uri: str
    sha256: str
