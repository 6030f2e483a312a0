"""Artifact bundles: files plus a canonical manifest whose checksums vouch for them."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from reportgen.artifacts import (
    MANIFEST_NAME,
    ArtifactConflict,
    BundleFile,
    LocalArtifactStore,
    canonical_json,
    safe_filename,
    verify_bundle,
    write_bundle,
)
from reportgen.errors import InvalidInput

PREFIX = "renders/executive-summary/20261031T063000Z"
MANIFEST: dict[str, Any] = {
    "spec": {"dataset": "sales", "template": "executive_summary"},
    "generated_at": "2026-10-31T06:30:00Z",
    "queries": [{"id": "q-1", "sql": "SELECT 1", "rows": 4}],
    "title": "Résumé exécutif",
}


def bundle_files() -> list[BundleFile]:
    return [
        BundleFile("executive-summary.pdf", b"%PDF-1.7 pages", "application/pdf"),
        BundleFile("tables/sales.csv", b"\xef\xbb\xbfRegion\r\nEMEA\r\n", "text/csv"),
        BundleFile(
            "executive-summary.xlsx",
            b"PK\x03\x04 workbook",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    ]


@pytest.fixture
def store(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "artifacts")


def test_bundle_stores_each_file_under_the_prefix(store: LocalArtifactStore) -> None:
    bundle = write_bundle(store, PREFIX, bundle_files(), MANIFEST)

    assert [stored.key for stored in bundle.files] == [
        f"{PREFIX}/executive-summary.pdf",
        f"{PREFIX}/executive-summary.xlsx",
        f"{PREFIX}/tables/sales.csv",
    ]
    for file in bundle_files():
        assert store.get(f"{PREFIX}/{file.name}") == file.data
    assert bundle.manifest.key == f"{PREFIX}/{MANIFEST_NAME}"
    assert bundle.manifest.content_type == "application/json"


def test_manifest_checksums_match_the_stored_files(store: LocalArtifactStore) -> None:
    write_bundle(store, PREFIX, bundle_files(), MANIFEST)
    manifest = json.loads(store.get(f"{PREFIX}/{MANIFEST_NAME}"))

    assert {key: manifest[key] for key in MANIFEST} == MANIFEST
    assert [entry["name"] for entry in manifest["files"]] == sorted(f.name for f in bundle_files())
    for entry in manifest["files"]:
        data = store.get(f"{PREFIX}/{entry['name']}")
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["size_bytes"] == len(data)
    assert manifest["files"][2]["content_type"] == "text/csv"


def test_manifest_is_canonical_json(store: LocalArtifactStore) -> None:
    bundle = write_bundle(store, PREFIX, bundle_files(), MANIFEST)
    raw = store.get(bundle.manifest.key)
    text = raw.decode("utf-8")

    assert text.endswith("}\n")
    assert '\n  "files": [\n' in text  # two-space indent
    assert '"title": "Résumé exécutif"' in text  # UTF-8, not \u escapes
    top_keys = [line.split('"')[1] for line in text.splitlines() if line.startswith('  "')]
    assert top_keys == sorted(top_keys) == ["files", "generated_at", "queries", "spec", "title"]
    assert raw == canonical_json(json.loads(raw))
    assert bundle.manifest.sha256 == hashlib.sha256(raw).hexdigest()


def test_bundles_are_deterministic(tmp_path: Path) -> None:
    first = LocalArtifactStore(tmp_path / "one")
    second = LocalArtifactStore(tmp_path / "two")
    reordered = dict(reversed(list(MANIFEST.items())))

    one = write_bundle(first, PREFIX, bundle_files(), MANIFEST)
    two = write_bundle(second, PREFIX, list(reversed(bundle_files())), reordered)

    assert first.get(one.manifest.key) == second.get(two.manifest.key)
    assert one.manifest.sha256 == two.manifest.sha256


def test_writing_the_same_bundle_again_is_a_no_op(store: LocalArtifactStore) -> None:
    first = write_bundle(store, PREFIX, bundle_files(), MANIFEST)

    assert write_bundle(store, PREFIX, bundle_files(), MANIFEST) == first


def test_a_different_bundle_under_the_same_prefix_is_refused(store: LocalArtifactStore) -> None:
    write_bundle(store, PREFIX, bundle_files(), MANIFEST)
    changed = [*bundle_files()[:2], BundleFile("executive-summary.xlsx", b"PK other", "x/y")]

    with pytest.raises(ArtifactConflict):
        write_bundle(store, PREFIX, changed, MANIFEST)
    assert verify_bundle(store, PREFIX) == []


def test_every_bad_name_is_reported_before_anything_is_written(
    store: LocalArtifactStore, tmp_path: Path
) -> None:
    files = [
        BundleFile("../../etc/cron.d/evil", b"x", "text/plain"),
        BundleFile("/absolute.pdf", b"x", "application/pdf"),
        BundleFile(MANIFEST_NAME, b"{}", "application/json"),
        BundleFile("report.pdf", b"a", "application/pdf"),
        BundleFile("report.pdf", b"b", "application/pdf"),
    ]

    with pytest.raises(InvalidInput) as raised:
        write_bundle(store, PREFIX, files, {**MANIFEST, "files": []})
    problems = raised.value.problems
    assert len(problems) == 5, problems
    assert any("'..'" in problem for problem in problems)
    assert any("empty" in problem for problem in problems)  # "prefix//absolute.pdf"
    assert any("own manifest" in problem for problem in problems)
    assert any("more than once: report.pdf" in problem for problem in problems)
    assert any("'files' entry" in problem for problem in problems)
    assert not any(path.is_file() for path in tmp_path.rglob("*"))


def test_an_unsafe_prefix_is_refused(store: LocalArtifactStore) -> None:
    with pytest.raises(InvalidInput, match=r"artifact key '\.\./elsewhere'"):
        write_bundle(store, "../elsewhere", bundle_files(), MANIFEST)


def test_a_manifest_that_is_not_json_writes_nothing(
    store: LocalArtifactStore, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match="not plain JSON"):
        write_bundle(store, PREFIX, bundle_files(), {"generated_at": datetime(2026, 10, 31)})
    with pytest.raises(InvalidInput, match="not plain JSON"):
        write_bundle(store, PREFIX, bundle_files(), {"ratio": float("nan")})
    assert not any(path.is_file() for path in tmp_path.rglob("*"))


# --- verify -------------------------------------------------------------------------------------


def test_an_intact_bundle_verifies(store: LocalArtifactStore) -> None:
    write_bundle(store, PREFIX, bundle_files(), MANIFEST)

    assert verify_bundle(store, PREFIX) == []


def test_verify_detects_a_tampered_file(store: LocalArtifactStore) -> None:
    write_bundle(store, PREFIX, bundle_files(), MANIFEST)
    (store.root / PREFIX / "tables/sales.csv").write_bytes(b"Region\r\nAPAC\r\n")

    problems = verify_bundle(store, PREFIX)

    assert len(problems) == 1
    assert problems[0].startswith("checksum mismatch: tables/sales.csv")


def test_verify_detects_a_missing_file(store: LocalArtifactStore) -> None:
    write_bundle(store, PREFIX, bundle_files(), MANIFEST)
    (store.root / PREFIX / "executive-summary.pdf").unlink()

    assert verify_bundle(store, PREFIX) == ["missing file: executive-summary.pdf"]


def test_verify_detects_a_missing_manifest(store: LocalArtifactStore) -> None:
    store.put(f"{PREFIX}/report.pdf", b"x", "application/pdf")

    assert verify_bundle(store, PREFIX) == [f"{PREFIX}/manifest.json is missing"]


def test_verify_detects_an_edited_manifest(store: LocalArtifactStore) -> None:
    write_bundle(store, PREFIX, bundle_files(), MANIFEST)
    path = store.root / PREFIX / MANIFEST_NAME
    manifest = json.loads(path.read_bytes())
    manifest["files"][0]["size_bytes"] += 1
    manifest["files"].append({"name": "../../../etc/passwd", "sha256": "0" * 64})
    manifest["files"].append({"name": "no-checksum.pdf"})
    path.write_bytes(canonical_json(manifest))

    assert verify_bundle(store, PREFIX) == [
        "size mismatch: executive-summary.pdf (manifest 15, file 14)",
        "unsafe file name in the manifest: '../../../etc/passwd'",
        "manifest entry 4 lacks a name or a sha256",
    ]


def test_verify_reports_a_manifest_that_is_not_json(store: LocalArtifactStore) -> None:
    store.put(f"{PREFIX}/{MANIFEST_NAME}", b"{not json", "application/json")

    problems = verify_bundle(store, PREFIX)

    assert len(problems) == 1
    assert "is not valid JSON" in problems[0]


# --- safe file names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "ext", "expected"),
    [
        ("Executive Summary — Q3 2026", "pdf", "executive-summary-q3-2026.pdf"),
        ("Résumé: Zürich / Genève", ".XLSX", "resume-zurich-geneve.xlsx"),
        ("../../etc/passwd", "csv", "etc-passwd.csv"),
        ("C:\\Windows\\system32", "csv", "c-windows-system32.csv"),
        ("売上レポート", "pdf", "report.pdf"),
        ("", "pdf", "report.pdf"),
        ("   ---   ", "html", "report.html"),
        ("Sales\x00\n\tby region", "csv", "sales-by-region.csv"),
    ],
)
def test_safe_filename(title: str, ext: str, expected: str) -> None:
    assert safe_filename(title, ext) == expected


def test_safe_filename_is_bounded_and_a_valid_key(store: LocalArtifactStore) -> None:
    name = safe_filename("word " * 100, "pdf")

    assert len(name) <= 80 + len(".pdf")
    assert not name.removesuffix(".pdf").endswith("-")
    assert store.put(f"{PREFIX}/{name}", b"x", "application/pdf").key.endswith(name)


@pytest.mark.parametrize("ext", ["", "p/df", "..", "toolongextension"])
def test_safe_filename_refuses_bad_extensions(ext: str) -> None:
    with pytest.raises(InvalidInput, match="file extension"):
        safe_filename("Report", ext)
