"""Storage delivery: a run's files written to a folder or an S3 bucket, by report and date.

``REPORTGEN_DELIVERY_URL`` names the place (``file:///folder`` or ``s3://bucket/prefix``);
each file lands under ``{prefix}/{target}/{report_slug}/{YYYY}/{MM}/{DD}/{run_id}/{filename}``,
where the target is the schedule's own prefix (possibly empty) and the date is the run's
generation date in UTC. Sending the same delivery again writes the same keys with the same
bytes, so a retry is harmless. Each file's SHA-256 travels with it: S3 object metadata, or a
``.sha256`` sidecar (``sha256sum`` format) beside a local file.
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import UTC
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit
from urllib.request import url2pathname

from reportgen.domain.delivery import Attachment, Parcel, Receipt
from reportgen.errors import (
    ConfigurationError,
    InvalidInput,
    PermanentDeliveryError,
    TransientDeliveryError,
)

_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_DELIVERY_VARIABLE = "REPORTGEN_DELIVERY_URL"
FILE_MODE = 0o640
FOLDER_MODE = 0o750


class StorageBackend(Protocol):
    """Writes one object; raises Transient/PermanentDeliveryError naming the place and cause."""

    def put(self, key: str, file: Attachment) -> str:
        """Store `file` under `key` (overwriting identical bytes); returns the object's URI."""
        ...


def check_prefix(prefix: str, *, what: str = "storage prefix") -> list[str]:
    """The prefix's folder names; `InvalidInput` when one is not a plain, safe name."""
    segments = [s for s in prefix.strip("/").split("/") if s] if prefix else []
    for segment in segments:
        if not _SEGMENT.fullmatch(segment):
            raise InvalidInput(
                f"{what} {prefix!r} has the folder name {segment!r}: use letters, digits, '.',"
                " '_' and '-', starting with a letter or digit, such as finance/monthly"
            )
    return segments


def object_key(base: list[str], target: str, parcel: Parcel, filename: str) -> str:
    """Where one file of `parcel` goes, as a relative POSIX key."""
    day = parcel.generated_at.astimezone(UTC)
    parts = [
        *base,
        *check_prefix(target),
        *check_prefix(parcel.report_slug, what="report slug"),
        f"{day:%Y}",
        f"{day:%m}",
        f"{day:%d}",
        *check_prefix(parcel.run_id, what="run id"),
    ]
    if not _SEGMENT.fullmatch(filename):
        raise InvalidInput(f"file name {filename!r} is not a plain file name such as report.pdf")
    return "/".join([*parts, filename])


class StorageChannel:
    """Delivers parcels as files in the deployment's delivery storage (kind ``"storage"``)."""

    kind = "storage"

    def __init__(self, backend: StorageBackend, *, base: str = "") -> None:
        self._backend = backend
        self._base = check_prefix(base, what="delivery URL prefix")

    def check_target(self, target: str) -> None:
        check_prefix(target)

    def send(self, parcel: Parcel, target: str) -> Receipt:
        try:
            keys = [(object_key(self._base, target, parcel, f.filename), f) for f in parcel.files]
        except InvalidInput as exc:
            raise PermanentDeliveryError(
                f"storage delivery of run {parcel.run_id}: {exc}"
            ) from None
        uris = [self._backend.put(key, file) for key, file in keys]
        return Receipt("stored " + ", ".join(uris))


class LocalFolder:
    """Files under a root folder, each written whole (temporary file, fsync, rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def put(self, key: str, file: Attachment) -> str:
        path = self.root / key
        try:
            path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
            # Keys cannot climb out lexically; refuse a symlinked folder planted inside too.
            if not path.parent.resolve().is_relative_to(self.root):
                raise PermanentDeliveryError(
                    f"storage delivery: {key!r} leads outside {self.root} through a link"
                )
            _write_whole(path, file.data)
            sidecar = f"{file.sha256}  {path.name}\n".encode()
            _write_whole(path.with_name(path.name + ".sha256"), sidecar)
        except OSError as exc:
            raise TransientDeliveryError(
                f"storage delivery could not write {path}: {type(exc).__name__}: {exc}"
            ) from None
        return path.as_uri()


def _write_whole(path: Path, data: bytes) -> None:
    fd, temp_name = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), FILE_MODE)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        temp.replace(path)
    finally:
        temp.unlink(missing_ok=True)


def open_storage(url: str, *, endpoint_url: str | None, kms_key_id: str | None) -> StorageChannel:
    """The storage channel for ``REPORTGEN_DELIVERY_URL`` (``file:///…`` or ``s3://…``)."""
    parts = urlsplit(url)
    match parts.scheme:
        case "file":
            if parts.netloc not in {"", "localhost"} or not parts.path:
                raise ConfigurationError(
                    f"{_DELIVERY_VARIABLE}: {url!r} must name a local folder, such as"
                    " file:///var/reportgen/deliveries"
                )
            return StorageChannel(LocalFolder(Path(url2pathname(parts.path))))
        case "s3":
            if not parts.netloc:
                raise ConfigurationError(
                    f"{_DELIVERY_VARIABLE}: {url!r} names no bucket; use s3://bucket/prefix"
                )
            try:
                check_prefix(parts.path, what="delivery URL prefix")
            except InvalidInput as exc:
                raise ConfigurationError(f"{_DELIVERY_VARIABLE}: {exc}") from None
            # boto3 costs about 20 MB and a quarter of a second to import; only S3 needs it.
            from reportgen.delivery.storage_s3 import S3Bucket  # noqa: PLC0415

            bucket = S3Bucket(parts.netloc, endpoint_url=endpoint_url, kms_key_id=kms_key_id)
            return StorageChannel(bucket, base=parts.path)
        case _:
            raise ConfigurationError(
                f"{_DELIVERY_VARIABLE}: {url!r} is not supported; use file:///folder or"
                " s3://bucket/prefix"
            )
