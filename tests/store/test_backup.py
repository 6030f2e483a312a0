"""Backups round-trip every table and the audit head, across backends, and refuse damage."""

from __future__ import annotations

import gzip
import io
import tarfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

from reportgen.domain.principal import Role
from reportgen.errors import InvalidInput
from reportgen.store import MetadataStore
from reportgen.store.backup import create_backup, read_backup, restore_backup
from reportgen.store.tables import ALL_TABLES, artifacts, new_id
from tests.store.conftest import AUDIT_KEY, BCRYPT_ROUNDS


def _fill(store: MetadataStore) -> None:
    store.users.add(
        "ana",
        display_name="Ana",
        email="ana@example.com",
        password="a-long-enough-password",
        roles={Role.AUTHOR},
        attributes={"region": ["EMEA"]},
    )
    for n in range(3):
        store.audit.append("ana", "report.render", "sales", "succeeded", {"n": n})
    with store.engine.begin() as connection:
        connection.execute(
            artifacts.insert().values(
                id=new_id(),
                kind="pdf",
                uri="file:///tmp/a.pdf",
                sha256="0" * 64,
                size_bytes=10,
                content_type="application/pdf",
                created_at=datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
            )
        )


def _rows(store: MetadataStore) -> dict[str, list[dict[str, object]]]:
    with store.engine.connect() as connection:
        return {
            t.name: [
                dict(r) for r in connection.execute(select(t).order_by(*t.primary_key)).mappings()
            ]
            for t in ALL_TABLES
        }


def test_a_backup_restores_into_an_empty_database_with_its_audit_chain(
    store: MetadataStore, empty_store: MetadataStore, tmp_path: Path
) -> None:
    _fill(store)
    summary = create_backup(store, tmp_path / "meta.tar.gz")
    assert summary.rows["users"] == 1
    assert summary.rows["audit_events"] == 3
    assert summary.revision == store.current_revision()

    restored = restore_backup(empty_store, summary.path)

    assert restored.sha256 == summary.sha256
    assert _rows(empty_store) == _rows(store)
    assert empty_store.audit_head is not None
    assert store.audit_head is not None
    assert empty_store.audit_head.read_bytes() == store.audit_head.read_bytes()
    report = empty_store.audit.verify()
    assert report.ok, report.reason
    assert report.checked == 3
    # New rows after a restore neither collide with restored ids nor break the chain.
    empty_store.audit.append("admin", "backup.restore", str(summary.path), "succeeded")
    assert empty_store.audit.verify().checked == 4


@pytest.mark.postgres
def test_a_sqlite_backup_restores_into_postgresql(tmp_path: Path, postgres_url: str) -> None:
    schema = f"restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    target_url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    source = MetadataStore(
        f"sqlite:///{tmp_path / 'src.db'}",
        bcrypt_rounds=BCRYPT_ROUNDS,
        audit_key=AUDIT_KEY,
        audit_head=tmp_path / "src.head",
    )
    target = MetadataStore(
        target_url.render_as_string(False),
        bcrypt_rounds=BCRYPT_ROUNDS,
        audit_key=AUDIT_KEY,
        audit_head=tmp_path / "dst.head",
    )
    try:
        source.upgrade()
        _fill(source)
        restore_backup(target, create_backup(source, tmp_path / "x.tar.gz").path)
        assert _rows(target) == _rows(source)
        assert target.audit.verify().ok
    finally:
        source.dispose()
        target.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def test_a_damaged_archive_is_refused_and_nothing_is_written(
    store: MetadataStore, empty_store: MetadataStore, tmp_path: Path
) -> None:
    _fill(store)
    good = create_backup(store, tmp_path / "good.tar.gz").path
    members: dict[str, bytes] = {}
    with tarfile.open(good, "r:gz") as archive:
        for member in archive.getmembers():
            handle = archive.extractfile(member)
            assert handle is not None
            members[member.name] = handle.read()
    members["tables/users.jsonl"] = members["tables/users.jsonl"].replace(b"EMEA", b"APAC")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(buffer.getvalue())

    with pytest.raises(InvalidInput, match=r"tables/users.jsonl does not match its checksum"):
        restore_backup(empty_store, bad)
    assert empty_store.current_revision() is None  # not even migrated


def test_a_file_that_is_not_a_backup_says_so(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(gzip.compress(b"not a tar"))
    with pytest.raises(InvalidInput, match="not a readable reportgen backup"):
        read_backup(junk)


def test_restoring_over_data_is_refused(store: MetadataStore, tmp_path: Path) -> None:
    _fill(store)
    archive = create_backup(store, tmp_path / "b.tar.gz").path
    with pytest.raises(InvalidInput, match=r"is not empty \(rows in .*users"):
        restore_backup(store, archive)
    with store.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(artifacts)).scalar_one() == 1


def test_a_database_without_schema_cannot_be_backed_up(
    empty_store: MetadataStore, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match="nothing to back up"):
        create_backup(empty_store, tmp_path / "none.tar.gz")
    assert not (tmp_path / "none.tar.gz").exists()
