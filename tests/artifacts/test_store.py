"""The local artifact store: safe keys, atomic and immutable writes, permissions, URLs."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from reportgen.artifacts import (
    ArtifactConflict,
    ArtifactStore,
    LocalArtifactStore,
    open_artifact_store,
)
from reportgen.errors import ConfigurationError, InternalError, InvalidInput, NotFound
from reportgen.settings import Settings

PDF = "application/pdf"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "artifacts"


@pytest.fixture
def store(root: Path) -> LocalArtifactStore:
    return LocalArtifactStore(root)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A permissive umask, to show the store's modes do not depend on the process's umask."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def every_file(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def test_put_then_get_round_trips(store: LocalArtifactStore, root: Path) -> None:
    data = b"%PDF-1.7 fake"
    stored = store.put("renders/exec/2026-10-31/report.pdf", data, PDF)

    assert store.get("renders/exec/2026-10-31/report.pdf") == data
    assert store.exists("renders/exec/2026-10-31/report.pdf")
    assert not store.exists("renders/exec/2026-10-31/other.pdf")
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert (stored.size_bytes, stored.content_type) == (len(data), PDF)
    assert stored.key == "renders/exec/2026-10-31/report.pdf"
    assert stored.uri == store.url_for(stored.key)
    assert stored.uri == (root / stored.key).resolve().as_uri()
    assert (root / "renders/exec/2026-10-31/report.pdf").read_bytes() == data


def test_a_store_is_an_artifact_store(store: LocalArtifactStore) -> None:
    typed: ArtifactStore = store

    assert typed.put("a.txt", b"x", "text/plain").size_bytes == 1


def test_get_of_a_missing_key_is_not_found(store: LocalArtifactStore) -> None:
    store.put("runs/r1/report.pdf", b"x", PDF)

    with pytest.raises(NotFound, match=r"no artifact 'runs/r1/other\.pdf'"):
        store.get("runs/r1/other.pdf")
    with pytest.raises(NotFound):
        store.get("runs/r1")  # a folder is not an artifact


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("", "is empty"),
        ("../outside.pdf", "'..'"),
        ("runs/../../outside.pdf", "'..'"),
        ("runs/..", "'..'"),
        ("./report.pdf", "'.'"),
        ("runs//report.pdf", "empty"),
        ("runs/", "empty"),
        ("/etc/passwd", "absolute"),
        ("C:/Windows/report.pdf", "absolute"),
        ("runs\\..\\outside.pdf", "backslash"),
        ("report.pdf\x00.txt", "NUL"),
        (".hidden", "segment"),
        ("runs/-flag", "segment"),
        ("report q3.pdf", "segment"),
        ("résumé.pdf", "segment"),
        ("runs/%2e%2e/x", "segment"),
        ("a" * 600, "longer than 512"),
        ("runs/" + "a" * 200, "longer than 128"),
    ],
)
def test_unsafe_keys_are_refused_everywhere(
    store: LocalArtifactStore, tmp_path: Path, key: str, reason: str
) -> None:
    for call in (
        lambda: store.put(key, b"x", PDF),
        lambda: store.get(key),
        lambda: store.exists(key),
        lambda: store.url_for(key),
    ):
        with pytest.raises(InvalidInput, match="artifact key") as raised:
            call()
        assert reason in str(raised.value)
    assert every_file(tmp_path) == []


def test_a_symlink_inside_the_store_cannot_lead_out(
    store: LocalArtifactStore, root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root.mkdir()
    (root / "escape").symlink_to(outside)

    with pytest.raises(InvalidInput, match="outside the artifact store"):
        store.put("escape/report.pdf", b"x", PDF)
    assert list(outside.iterdir()) == []


def test_content_type_must_be_a_mime_type(store: LocalArtifactStore) -> None:
    with pytest.raises(InvalidInput, match="MIME type"):
        store.put("a.pdf", b"x", "pdf")


def test_writing_the_same_bytes_again_is_a_no_op(store: LocalArtifactStore, root: Path) -> None:
    first = store.put("runs/r1/report.pdf", b"same", PDF)
    inode = (root / "runs/r1/report.pdf").stat().st_ino

    again = store.put("runs/r1/report.pdf", b"same", PDF)

    assert again == first
    assert (root / "runs/r1/report.pdf").stat().st_ino == inode


def test_writing_other_bytes_to_a_key_is_refused(store: LocalArtifactStore) -> None:
    store.put("runs/r1/report.pdf", b"original", PDF)

    with pytest.raises(ArtifactConflict, match="already exists with other content"):
        store.put("runs/r1/report.pdf", b"changed", PDF)
    assert store.get("runs/r1/report.pdf") == b"original"


def test_a_folder_key_cannot_be_written(store: LocalArtifactStore) -> None:
    store.put("runs/r1/report.pdf", b"x", PDF)

    with pytest.raises(ArtifactConflict, match="folder"):
        store.put("runs/r1", b"x", PDF)


def test_losing_a_race_to_the_same_bytes_is_fine(
    store: LocalArtifactStore, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_link = os.link

    def rival_wins(source: Path, target: Path) -> None:
        Path(target).write_bytes(b"same")  # another writer publishes between check and link
        real_link(source, target)

    monkeypatch.setattr(os, "link", rival_wins)

    assert store.put("runs/r1/report.pdf", b"same", PDF).size_bytes == 4
    assert every_file(root) == [root / "runs/r1/report.pdf"]


def test_losing_a_race_to_other_bytes_never_overwrites(
    store: LocalArtifactStore, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_link = os.link

    def rival_wins(source: Path, target: Path) -> None:
        Path(target).write_bytes(b"rival")
        real_link(source, target)

    monkeypatch.setattr(os, "link", rival_wins)

    with pytest.raises(ArtifactConflict):
        store.put("runs/r1/report.pdf", b"mine", PDF)
    assert (root / "runs/r1/report.pdf").read_bytes() == b"rival"
    assert every_file(root) == [root / "runs/r1/report.pdf"]


def test_a_failure_mid_write_leaves_no_partial_file(
    store: LocalArtifactStore, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_fails(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", disk_fails)

    with pytest.raises(InternalError, match=r"could not write artifact 'runs/r1/report\.pdf'"):
        store.put("runs/r1/report.pdf", b"x" * 100_000, PDF)
    monkeypatch.undo()
    assert not store.exists("runs/r1/report.pdf")
    assert every_file(root) == []  # no temp file left behind either
    assert store.put("runs/r1/report.pdf", b"x", PDF).size_bytes == 1  # a retry succeeds


def test_without_hard_links_the_store_still_publishes(
    store: LocalArtifactStore, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(source: Path, target: Path) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    store.put("runs/r1/report.pdf", b"data", PDF)

    assert store.get("runs/r1/report.pdf") == b"data"
    assert every_file(root) == [root / "runs/r1/report.pdf"]
    with pytest.raises(ArtifactConflict):
        store.put("runs/r1/report.pdf", b"other", PDF)


@pytest.mark.usefixtures("open_umask")
def test_files_are_0640_and_folders_0750(store: LocalArtifactStore, root: Path) -> None:
    store.put("runs/r1/tables/sales.csv", b"a,b\r\n", "text/csv")

    assert stat.S_IMODE((root / "runs/r1/tables/sales.csv").stat().st_mode) == 0o640
    for folder in (root, root / "runs", root / "runs/r1", root / "runs/r1/tables"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o750, folder


def test_open_artifact_store_reads_a_file_url(tmp_path: Path) -> None:
    folder = tmp_path / "with space"
    opened = open_artifact_store(folder.as_uri())

    assert isinstance(opened, LocalArtifactStore)
    opened.put("a.txt", b"x", "text/plain")
    assert (folder / "a.txt").read_bytes() == b"x"
    assert opened.url_for("a.txt") == (folder / "a.txt").as_uri()


def test_open_artifact_store_accepts_the_default_setting(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    opened = open_artifact_store(settings.resolved_artifacts_url)
    opened.put("runs/r1/a.txt", b"x", "text/plain")

    assert (tmp_path / "artifacts/runs/r1/a.txt").is_file()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("s3:///reports", "names no bucket"),
        ("https://example.com/artifacts", "is not supported"),
        ("file://fileserver/share", "names the host 'fileserver'"),
        ("file://", "names no folder"),
    ],
)
def test_open_artifact_store_refuses_other_urls(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match="REPORTGEN_ARTIFACTS_URL") as raised:
        open_artifact_store(url)
    assert message in str(raised.value)


def test_key_of_turns_a_stored_uri_back_into_its_key(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    stored = store.put("renders/q4-board/report.pdf", b"%PDF-1.7", "application/pdf")
    assert store.key_of(stored.uri) == "renders/q4-board/report.pdf"
    assert store.key_of((tmp_path / "elsewhere" / "x.pdf").as_uri()) is None
    assert store.key_of(store.root.as_uri() + "/../escape.pdf") is None
