"""An artifact bundle: a render's files under one prefix, with a manifest that vouches for them.

``manifest.json`` is written last, so its presence means every file it lists was stored. It is
the caller's manifest (spec, SQL, parameters, dataset versions, timings…) plus a ``files`` list
with each file's name, size and SHA-256, as canonical JSON: the same render gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reportgen.artifacts.store import ArtifactStore, StoredArtifact, validate_key
from reportgen.errors import InvalidInput, NotFound

MANIFEST_NAME = "manifest.json"
MANIFEST_CONTENT_TYPE = "application/json"
_SLUG_BREAK = re.compile(r"[^a-z0-9]+")
_EXTENSION = re.compile(r"[a-z0-9]{1,10}")


@dataclass(frozen=True)
class BundleFile:
    name: str  # relative to the bundle's prefix, e.g. "executive-summary.pdf"
    data: bytes
    content_type: str


@dataclass(frozen=True)
class Bundle:
    prefix: str
    files: tuple[StoredArtifact, ...]  # sorted by key
    manifest: StoredArtifact


def canonical_json(document: Mapping[str, Any]) -> bytes:
    """`document` as UTF-8 JSON with sorted keys, 2-space indent and a trailing newline."""
    try:
        text = json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"the manifest is not plain JSON: {exc}") from exc
    return (text + "\n").encode("utf-8")


def _bundle_problems(
    prefix: str, files: list[BundleFile], manifest: Mapping[str, Any]
) -> list[str]:
    problems: list[str] = []
    for key in [prefix, *(f"{prefix}/{file.name}" for file in files)]:
        try:
            validate_key(key)
        except InvalidInput as exc:
            problems.extend(exc.problems)
    names = [file.name for file in files]
    if MANIFEST_NAME in names:
        problems.append(f"{MANIFEST_NAME!r} is the bundle's own manifest; name the file otherwise")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        problems.append(f"the bundle lists these files more than once: {', '.join(repeated)}")
    if "files" in manifest:
        problems.append("the manifest's 'files' entry is written by the bundle; leave it out")
    return problems


def write_bundle(
    store: ArtifactStore, prefix: str, files: list[BundleFile], manifest: Mapping[str, Any]
) -> Bundle:
    """Store `files` under ``prefix/`` and then ``prefix/manifest.json``.

    Every problem with the names or the manifest is reported at once, as `InvalidInput`, before
    anything is written. Writing the same bundle again is a no-op; writing different bytes under
    the same prefix raises `ArtifactConflict`, as the store is immutable.
    """
    problems = _bundle_problems(prefix, files, manifest)
    if problems:
        raise InvalidInput(problems)
    ordered = sorted(files, key=lambda file: file.name)
    listing = [
        {
            "name": file.name,
            "content_type": file.content_type,
            "size_bytes": len(file.data),
            "sha256": hashlib.sha256(file.data).hexdigest(),
        }
        for file in ordered
    ]
    document = canonical_json({**manifest, "files": listing})  # fails before any write
    stored = tuple(
        store.put(f"{prefix}/{file.name}", file.data, file.content_type) for file in ordered
    )
    stored_manifest = store.put(f"{prefix}/{MANIFEST_NAME}", document, MANIFEST_CONTENT_TYPE)
    return Bundle(prefix=prefix, files=stored, manifest=stored_manifest)


def read_manifest(store: ArtifactStore, prefix: str) -> dict[str, Any]:
    """The bundle's manifest; `NotFound` when there is none, `InvalidInput` if it is not JSON."""
    raw = store.get(f"{validate_key(prefix)}/{MANIFEST_NAME}")
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise InvalidInput(f"{prefix}/{MANIFEST_NAME} is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidInput(f"{prefix}/{MANIFEST_NAME} is not a JSON object")
    return document


def verify_bundle(store: ArtifactStore, prefix: str) -> list[str]:
    """Every way the bundle differs from its manifest (missing files, wrong sizes or checksums).

    An empty list means every listed file is present with the bytes the manifest vouches for.
    """
    try:
        manifest = read_manifest(store, prefix)
    except NotFound:
        return [f"{prefix}/{MANIFEST_NAME} is missing"]
    except InvalidInput as exc:
        return list(exc.problems)
    entries = manifest.get("files")
    if not isinstance(entries, list):
        return [f"{prefix}/{MANIFEST_NAME} has no 'files' list"]
    problems: list[str] = []
    for position, entry in enumerate(entries):
        problem = _entry_problem(store, prefix, entry, position)
        if problem is not None:
            problems.append(problem)
    return problems


def _entry_problem(store: ArtifactStore, prefix: str, entry: object, position: int) -> str | None:
    if not isinstance(entry, dict) or not all(
        isinstance(entry.get(field), str) for field in ("name", "sha256")
    ):
        return f"manifest entry {position} lacks a name or a sha256"
    name, expected = entry["name"], entry["sha256"]
    try:
        data = store.get(f"{prefix}/{name}")
    except NotFound:
        return f"missing file: {name}"
    except InvalidInput:
        return f"unsafe file name in the manifest: {name!r}"
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        return f"checksum mismatch: {name} (manifest {expected}, file {actual})"
    if entry.get("size_bytes") != len(data):
        return f"size mismatch: {name} (manifest {entry.get('size_bytes')}, file {len(data)})"
    return None


def slug(title: str, *, max_length: int = 80) -> str:
    """``"Q3 Revenue — EMEA"`` gives ``q3-revenue-emea``: safe in file names and store keys.

    ASCII letters, digits and hyphens only (accents are dropped, not the letters), at most
    `max_length` characters, and "report" when nothing is left.
    """
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    stem = _SLUG_BREAK.sub("-", ascii_title.lower()).strip("-")
    return stem[: max(max_length, 1)].rstrip("-") or "report"


def safe_filename(title: str, ext: str, *, max_length: int = 80) -> str:
    """A file name made from a report title and an extension, e.g. ``q3-revenue-emea.pdf``."""
    extension = ext.lstrip(".").lower()
    if not _EXTENSION.fullmatch(extension):
        raise InvalidInput(f"file extension {ext!r} must be 1 to 10 letters or digits")
    return f"{slug(title, max_length=max_length)}.{extension}"
