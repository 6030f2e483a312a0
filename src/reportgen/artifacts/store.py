"""Where rendered files live: an immutable key-value store of bytes.

Keys are relative POSIX paths (``renders/<report>/<run>/report.pdf``) that are valid as local
paths and as S3 object keys alike. A key, once written, never changes: writing the same bytes
again is a no-op (so a retried run is harmless) and writing different bytes is refused.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from reportgen.errors import ConfigurationError, InternalError, InvalidInput, NotFound

FILE_MODE = 0o640
FOLDER_MODE = 0o750
MAX_KEY_LENGTH = 512
MAX_SEGMENT_LENGTH = 128
# A segment starts with a letter or digit (so never ".", ".." or a hidden temp file) and holds
# only characters that need no escaping on any file system or in an S3 key.
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_CONTENT_TYPE = re.compile(r"[\w.+-]+/[\w.+-]+(\s*;.*)?")
_TEMP_PREFIX = ".tmp-"
_CHUNK = 1 << 20


class ArtifactConflict(InternalError):
    """A key already holds different bytes; artifacts are immutable, so this is a bug of ours
    (a key reused for other content, or a render that is not deterministic)."""


@dataclass(frozen=True)
class StoredArtifact:
    uri: str  # where the store keeps it: file:///… or s3://bucket/…
    key: str
    sha256: str  # lowercase hex
    size_bytes: int
    content_type: str


class ArtifactStore(Protocol):
    """Immutable storage for rendered files, addressed by relative POSIX keys.

    Every method raises `InvalidInput` for a key that is not a safe relative path.
    """

    def put(self, key: str, data: bytes, content_type: str) -> StoredArtifact:
        """Store `data` under `key` atomically: readers see all of it or nothing.

        The same bytes again is a no-op; different bytes raise `ArtifactConflict`. A storage
        failure raises `InternalError` and leaves nothing under `key`.
        """
        ...

    def get(self, key: str) -> bytes:
        """The bytes under `key`; `NotFound` when there are none."""
        ...

    def exists(self, key: str) -> bool: ...

    def url_for(self, key: str) -> str:
        """A URL for the artifact under `key` (``file://`` locally; for S3, a presigned URL)."""
        ...

    def key_of(self, uri: str) -> str | None:
        """The key of the artifact a `StoredArtifact.uri` names; ``None`` when it is not ours."""
        ...


def validate_key(key: str) -> str:
    """`key` itself when it is a safe relative POSIX path; otherwise `InvalidInput` saying why."""
    problem = _key_problem(key)
    if problem is not None:
        raise InvalidInput(f"artifact key {key!r} {problem}")
    return key


def _key_problem(key: str) -> str | None:
    if not key:
        return "is empty"
    if len(key) > MAX_KEY_LENGTH:
        return f"is longer than {MAX_KEY_LENGTH} characters"
    if "\x00" in key:
        return "contains a NUL character"
    if "\\" in key:
        return "contains a backslash; use / between folders"
    if key.startswith("/") or re.match(r"[A-Za-z]:", key):
        return "is absolute; keys are relative to the store"
    for segment in key.split("/"):
        if segment in {"", ".", ".."}:
            return "has an empty, '.' or '..' segment"
        if len(segment) > MAX_SEGMENT_LENGTH:
            return f"has a segment longer than {MAX_SEGMENT_LENGTH} characters"
        if not _SEGMENT.fullmatch(segment):
            return (
                f"has the segment {segment!r}: use letters, digits, '.', '_' and '-',"
                " starting with a letter or digit"
            )
    return None


def _check_content_type(content_type: str) -> None:
    if not _CONTENT_TYPE.fullmatch(content_type):
        raise InvalidInput(f"content type {content_type!r} is not a MIME type such as text/csv")


class LocalArtifactStore:
    """Artifacts as files under `root`: files 0o640, folders 0o750, published atomically.

    A file is written to a hidden temporary file in its folder, flushed to disk and then linked
    to its key, which fails if the key exists: two writers racing on one key cannot overwrite
    each other. Where the file system has no hard links it falls back to `os.replace`.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = self.root / validate_key(key)
        # Keys cannot climb out lexically; refuse a symlink planted inside the root too.
        if not path.parent.resolve().is_relative_to(self.root):
            raise InvalidInput(f"artifact key {key!r} leads outside the artifact store")
        return path

    def url_for(self, key: str) -> str:
        return self._path(key).as_uri()

    def key_of(self, uri: str) -> str | None:
        root = self.root.as_uri() + "/"
        if not uri.startswith(root):
            return None
        key = unquote(uri.removeprefix(root))
        return key if _key_problem(key) is None else None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise NotFound(f"there is no artifact {key!r} in {self.root}") from None
        except OSError as exc:
            raise InternalError(f"could not read artifact {key!r}: {exc}") from exc

    def put(self, key: str, data: bytes, content_type: str) -> StoredArtifact:
        _check_content_type(content_type)
        path = self._path(key)
        digest = hashlib.sha256(data).hexdigest()
        stored = StoredArtifact(path.as_uri(), key, digest, len(data), content_type)
        if path.is_file():
            self._check_same(path, key, digest)
            return stored
        try:
            self._make_folders(path.parent)
            self._publish(path, data)
        except FileExistsError:
            self._check_same(path, key, digest)  # a concurrent writer got there first
        except OSError as exc:
            raise InternalError(f"could not write artifact {key!r}: {exc}") from exc
        return stored

    def _check_same(self, path: Path, key: str, digest: str) -> None:
        if not path.is_file():
            raise ArtifactConflict(f"artifact key {key!r} is a folder of other artifacts")
        existing = _sha256_file(path)
        if existing != digest:
            raise ArtifactConflict(
                f"artifact {key!r} already exists with other content (sha256 {existing},"
                f" new {digest}); artifacts are immutable, so write to a new key"
            )

    def _make_folders(self, folder: Path) -> None:
        missing = []
        while not folder.exists():
            missing.append(folder)
            if folder == folder.parent:
                break
            folder = folder.parent
        for created in reversed(missing):
            try:
                created.mkdir()
            except FileExistsError:
                continue  # made by a concurrent writer
            created.chmod(FOLDER_MODE)  # mkdir's mode is filtered by the umask; chmod is not

    def _publish(self, path: Path, data: bytes) -> None:
        fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=path.parent)
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as file:
                os.fchmod(file.fileno(), FILE_MODE)
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            try:
                os.link(temp, path)  # unlike os.replace, never overwrites a key
            except OSError as exc:
                if isinstance(exc, FileExistsError) or path.exists():
                    raise FileExistsError(path) from None
                temp.replace(path)  # os.replace: no hard links here (some network and FUSE mounts)
            _fsync_folder(path.parent)
        finally:
            temp.unlink(missing_ok=True)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def open_artifact_store(
    url: str, *, endpoint_url: str | None = None, kms_key_id: str | None = None
) -> ArtifactStore:
    """The store `url` names (`Settings.resolved_artifacts_url`): a folder or an S3 bucket.

    ``endpoint_url`` points S3 at a compatible store; ``kms_key_id`` encrypts with SSE-KMS.
    """
    parts = urlsplit(url)
    match parts.scheme:
        case "file":
            if parts.netloc not in {"", "localhost"}:
                raise ConfigurationError(
                    f"REPORTGEN_ARTIFACTS_URL: {url!r} names the host {parts.netloc!r};"
                    " a file URL must name a local folder, such as file:///var/reportgen/artifacts"
                )
            if not parts.path:
                raise ConfigurationError(f"REPORTGEN_ARTIFACTS_URL: {url!r} names no folder")
            return LocalArtifactStore(Path(url2pathname(parts.path)))  # url2pathname unquotes
        case "s3":
            from reportgen.artifacts.s3 import open_s3_artifact_store  # noqa: PLC0415

            return open_s3_artifact_store(url, endpoint_url=endpoint_url, kms_key_id=kms_key_id)
        case _:
            raise ConfigurationError(
                f"REPORTGEN_ARTIFACTS_URL: {url!r} is not supported; use file:///folder or s3://bucket/prefix"
            )
