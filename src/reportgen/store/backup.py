"""Backups of the metadata database: one portable archive, checked before anything is restored.

An archive is a gzipped tar holding ``manifest.json`` (format, schema revision, the row count
and SHA-256 of every table file), one ``tables/<name>.jsonl`` per table and the audit chain's
head anchor under ``files/``. It is written under a temporary name and renamed into place, so
a crash never leaves half an archive under the final name. It moves between backends: a backup
of the SQLite file restores into PostgreSQL and back.

Restoring checks every checksum first and writes nothing when one is wrong; it fills an empty
database at the archive's schema revision (migrating a new one there first) in one transaction.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, func, select, text

from reportgen.domain.backups import BackupSummary, IndexedArtifact
from reportgen.errors import InvalidInput
from reportgen.store.database import MetadataStore
from reportgen.store.tables import ALL_TABLES, UtcDateTime, artifacts

FORMAT = "reportgen-metadata-backup/1"
_MANIFEST = "manifest.json"
_AUDIT_HEAD = "files/audit.head"
_BATCH = 1000


def _encode(table: Table, row: Mapping[Any, Any]) -> dict[str, Any]:
    encoded = dict(row)
    for column in table.columns:
        value = encoded.get(column.name)
        if isinstance(column.type, UtcDateTime) and value is not None:
            encoded[column.name] = value.isoformat()
    return encoded


def _decode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    for column in table.columns:
        value = row.get(column.name)
        if isinstance(column.type, UtcDateTime) and value is not None:
            row[column.name] = datetime.fromisoformat(value)
    return row


def _dump_table(connection: Connection, table: Table, folder: Path) -> tuple[Path, int, str]:
    path = folder / f"{table.name}.jsonl"
    digest = hashlib.sha256()
    count = 0
    order = list(table.primary_key.columns) or list(table.columns)
    result = connection.execution_options(yield_per=_BATCH).execute(select(table).order_by(*order))
    with path.open("wb") as handle:
        for row in result.mappings():
            line = (json.dumps(_encode(table, row), sort_keys=True) + "\n").encode("utf-8")
            handle.write(line)
            digest.update(line)
            count += 1
    return path, count, digest.hexdigest()


@contextmanager
def _snapshot(store: MetadataStore) -> Iterator[Connection]:
    """One connection that sees a single consistent state of every table."""
    engine = store.engine
    if engine.dialect.name == "postgresql":
        options: dict[str, Any] = {
            "isolation_level": "REPEATABLE READ",
            "postgresql_readonly": True,
        }
        with engine.connect().execution_options(**options) as connection, connection.begin():
            yield connection
    else:
        with engine.connect() as connection, connection.begin():
            # A deferred SQLite transaction snapshots at its first read: read one row now.
            connection.execute(text("SELECT 1 FROM sqlite_master LIMIT 1"))
            yield connection


def create_backup(store: MetadataStore, destination: Path) -> BackupSummary:
    """Write an archive of every table and the audit head to ``destination`` atomically."""
    destination = destination.resolve()
    destination.parent.mkdir(parents=True, exist_ok=True)
    revision = store.current_revision()
    if revision is None:
        raise InvalidInput(
            f"the metadata database {store.safe_url} has no schema; there is nothing to back up"
        )
    created = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=destination.parent) as work:
        folder = Path(work)
        tables: dict[str, dict[str, Any]] = {}
        files: list[tuple[str, Path]] = []
        with _snapshot(store) as connection:
            for table in ALL_TABLES:
                path, count, digest = _dump_table(connection, table, folder)
                tables[table.name] = {"rows": count, "sha256": digest}
                files.append((f"tables/{table.name}.jsonl", path))
        extra: dict[str, str] = {}
        head = store.audit_head
        if head is not None and head.is_file():
            data = head.read_bytes()
            extra[_AUDIT_HEAD] = hashlib.sha256(data).hexdigest()
            copy = folder / "audit.head"
            copy.write_bytes(data)
            files.append((_AUDIT_HEAD, copy))
        manifest = {
            "format": FORMAT,
            "created_at": created.isoformat(),
            "revision": revision,
            "backend": store.engine.dialect.name,
            "tables": tables,
            "files": extra,
        }
        partial = folder / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as archive:
            body = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
            info = tarfile.TarInfo(_MANIFEST)
            info.size, info.mtime, info.mode = len(body), int(created.timestamp()), 0o600
            archive.addfile(info, io.BytesIO(body))
            for name, path in files:
                archive.add(path, arcname=name, recursive=False, filter=_owned_by_nobody)
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        partial.chmod(0o600)
        partial.replace(destination)
    return read_backup(destination)


def _owned_by_nobody(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o600
    return info


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _read_members(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest and every member's bytes, after checking each against the manifest."""
    try:
        with tarfile.open(path, "r:gz") as archive:
            members: dict[str, bytes] = {}
            for member in archive.getmembers():
                if not member.isfile():
                    raise InvalidInput(f"{path}: unexpected entry {member.name!r} in the archive")
                handle = archive.extractfile(member)
                assert handle is not None
                members[member.name] = handle.read()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InvalidInput(f"{path} is not a readable reportgen backup ({exc})") from None
    try:
        manifest = json.loads(members.pop(_MANIFEST))
    except (KeyError, ValueError):
        raise InvalidInput(
            f"{path} has no valid {_MANIFEST}; it is not a reportgen backup"
        ) from None
    if manifest.get("format") != FORMAT:
        raise InvalidInput(
            f"{path} is a {manifest.get('format')!r} archive; this release reads {FORMAT!r}"
        )
    problems = []
    expected = {
        f"tables/{name}.jsonl": entry["sha256"] for name, entry in manifest["tables"].items()
    }
    expected.update(manifest.get("files", {}))
    for name, digest in expected.items():
        data = members.get(name)
        if data is None:
            problems.append(f"{name} is missing from the archive")
        elif hashlib.sha256(data).hexdigest() != digest:
            problems.append(f"{name} does not match its checksum: the archive is damaged")
    problems += [
        f"{name} is not listed in the manifest" for name in members if name not in expected
    ]
    if problems:
        raise InvalidInput([f"{path}: {p}" for p in problems])
    return manifest, members


def read_backup(path: Path) -> BackupSummary:
    """Check every checksum in the archive at ``path`` and summarise it."""
    manifest, _ = _read_members(path)
    return BackupSummary(
        path=path,
        created_at=datetime.fromisoformat(manifest["created_at"]),
        revision=manifest["revision"],
        rows={name: entry["rows"] for name, entry in manifest["tables"].items()},
        sha256=_sha256_file(path),
    )


def restore_backup(store: MetadataStore, source: Path) -> BackupSummary:
    """Fill the empty database behind ``store`` from the archive at ``source``.

    A database without schema is first migrated to the archive's revision; one at another
    revision, or holding any row, is refused with the steps that make it restorable.
    """
    manifest, members = _read_members(source)
    revision = manifest["revision"]
    known = {table.name for table in ALL_TABLES}
    unknown = sorted(set(manifest["tables"]) - known)
    if unknown:
        raise InvalidInput(
            f"{source} holds tables this release does not know ({', '.join(unknown)}); restore"
            " it with the release that made it"
        )
    current = store.current_revision()
    if current is None:
        store.upgrade(revision)
    elif current != revision:
        raise InvalidInput(
            f"the backup was taken at schema revision {revision} but {store.safe_url} is at"
            f" {current}; restore into a new, empty database (it is migrated to {revision}),"
            " then run `reportgen db upgrade`"
        )
    with store.engine.begin() as connection:
        busy = [
            t.name
            for t in ALL_TABLES
            if connection.execute(select(func.count()).select_from(t)).scalar_one()
        ]
        if busy:
            raise InvalidInput(
                f"{store.safe_url} is not empty (rows in {', '.join(busy)}); restore into a new,"
                " empty database so nothing is overwritten"
            )
        for table in ALL_TABLES:
            data = members.get(f"tables/{table.name}.jsonl", b"")
            rows = [_decode(table, json.loads(line)) for line in data.splitlines() if line]
            for start in range(0, len(rows), _BATCH):
                connection.execute(table.insert(), rows[start : start + _BATCH])
        if connection.dialect.name == "postgresql":
            _advance_identities(connection)
    head = members.get(_AUDIT_HEAD)
    if head is not None and store.audit_head is not None:
        store.audit_head.parent.mkdir(parents=True, exist_ok=True)
        partial = store.audit_head.with_name(f".{store.audit_head.name}.restore")
        partial.write_bytes(head)
        partial.replace(store.audit_head)
    return read_backup(source)


def _advance_identities(connection: Connection) -> None:
    """Move each identity sequence past the restored ids, so new rows do not collide."""
    for table in ALL_TABLES:
        for column in table.primary_key.columns:
            if column.identity is None:
                continue
            following = select(func.coalesce(func.max(column), 0) + 1).scalar_subquery()
            sequence = func.pg_get_serial_sequence(table.name, column.name)
            connection.execute(select(func.setval(sequence, following, False)))


class MetadataBackups:
    """`reportgen.services.ports.MetadataBackups` over one `MetadataStore`."""

    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    def create(self, destination: Path) -> BackupSummary:
        return create_backup(self._store, destination)

    def restore(self, source: Path) -> BackupSummary:
        return restore_backup(self._store, source)

    def inspect(self, path: Path) -> BackupSummary:
        return read_backup(path)

    def artifact_index(self) -> list[IndexedArtifact]:
        with self._store.engine.connect() as connection:
            rows = connection.execute(
                select(artifacts.c.id, artifacts.c.uri, artifacts.c.sha256).order_by(artifacts.c.id)
            )
            return [IndexedArtifact(id=r.id, uri=r.uri, sha256=r.sha256) for r in rows]
