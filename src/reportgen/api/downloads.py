"""File downloads with a safe ``Content-Disposition`` and the file's SHA-256 in the headers.

Clients check the bytes they got against ``X-Checksum-SHA256`` (hex) or ``Repr-Digest`` /
``Digest`` (RFC 9530 and its predecessor, base64), the same checksum the bundle's manifest and
the run's artifacts record.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from typing import Any
from urllib.parse import quote

from fastapi import Response

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
DOWNLOAD_HEADERS = {
    "Content-Disposition": {
        "description": "attachment, with the file's name",
        "schema": {"type": "string"},
    },
    "X-Checksum-SHA256": {
        "description": "SHA-256 of the body, lowercase hex",
        "schema": {"type": "string"},
    },
    "Repr-Digest": {"description": "RFC 9530 sha-256 digest", "schema": {"type": "string"}},
}


DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        "headers": DOWNLOAD_HEADERS,
        "description": "The file.",
    }
}
"""The OpenAPI description of a download route's answer."""


def ascii_filename(filename: str) -> str:
    """The name with only ASCII letters, digits, '.', '_' and '-', never empty or hidden."""
    folded = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    cleaned = _UNSAFE.sub("-", folded).strip(".-") or "download"
    return cleaned[:150]


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name in UTF-8 (RFC 6266)."""
    return f"attachment; filename=\"{ascii_filename(filename)}\"; filename*=UTF-8''" + quote(
        filename.rsplit("/", 1)[-1], safe=""
    )


def file_response(data: bytes, *, filename: str, content_type: str, sha256: str) -> Response:
    digest = base64.b64encode(bytes.fromhex(sha256)).decode()
    return Response(
        data,
        media_type=content_type,
        headers={
            "Content-Disposition": content_disposition(filename),
            "X-Checksum-SHA256": sha256,
            "Repr-Digest": f"sha-256=:{digest}:",
            "Digest": f"sha-256={digest}",
            "ETag": f'"{sha256}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
