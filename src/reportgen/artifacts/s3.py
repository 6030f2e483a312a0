"""Artifacts in an S3 bucket (or any S3-compatible store), immutable like the local folder.

Each object carries its SHA-256 in its metadata and is encrypted at rest (SSE-KMS with the
configured key, else SSE-S3). Writing a key that holds other bytes is refused as a conflict;
writing the same bytes again is a no-op. Downloads go through short-lived presigned URLs.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from reportgen.artifacts.store import ArtifactConflict, StoredArtifact, validate_key
from reportgen.errors import ConfigurationError, InternalError, InvalidInput, NotFound

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

PRESIGNED_URL_TTL_S = 3600
_MISSING = {"404", "NoSuchKey", "NotFound"}


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class S3ArtifactStore:
    """Artifacts under ``s3://bucket/prefix/``."""

    def __init__(
        self, client: S3Client, bucket: str, prefix: str = "", *, kms_key_id: str | None = None
    ) -> None:
        self._client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._kms_key_id = kms_key_id

    def _object_key(self, key: str) -> str:
        key = validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def url_for(self, key: str) -> str:
        return self._client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self._object_key(key)},
            ExpiresIn=PRESIGNED_URL_TTL_S,
        )

    def key_of(self, uri: str) -> str | None:
        parts = urlsplit(uri)
        if parts.scheme != "s3" or parts.netloc != self.bucket:
            return None
        path = parts.path.lstrip("/")
        if self.prefix:
            if not path.startswith(self.prefix + "/"):
                return None
            path = path.removeprefix(self.prefix + "/")
        try:
            return validate_key(path)
        except InvalidInput:
            return None

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            return dict(self._client.head_object(Bucket=self.bucket, Key=self._object_key(key)))
        except ClientError as error:
            if _code(error) in _MISSING:
                return None
            raise self._failure("read", key, error) from error
        except BotoCoreError as error:
            raise self._failure("read", key, error) from error

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def get(self, key: str) -> bytes:
        try:
            answer = self._client.get_object(Bucket=self.bucket, Key=self._object_key(key))
            return answer["Body"].read()
        except ClientError as error:
            if _code(error) in _MISSING:
                raise NotFound(f"there is no artifact {key!r} in s3://{self.bucket}") from None
            raise self._failure("read", key, error) from error
        except BotoCoreError as error:
            raise self._failure("read", key, error) from error

    def put(self, key: str, data: bytes, content_type: str) -> StoredArtifact:
        object_key = self._object_key(key)
        digest = hashlib.sha256(data).hexdigest()
        stored = StoredArtifact(
            f"s3://{self.bucket}/{object_key}", key, digest, len(data), content_type
        )
        head = self._head(key)
        if head is not None:
            if head.get("Metadata", {}).get("sha256") != digest:
                raise ArtifactConflict(
                    f"artifact {key!r} already holds other bytes in s3://{self.bucket}"
                )
            return stored
        extra: dict[str, Any] = (
            {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self._kms_key_id}
            if self._kms_key_id
            else {"ServerSideEncryption": "AES256"}
        )
        try:
            self._client.put_object(
                Bucket=self.bucket,
                Key=object_key,
                Body=data,
                ContentType=content_type,
                Metadata={"sha256": digest},
                **extra,
            )
        except (ClientError, BotoCoreError) as error:
            raise self._failure("write", key, error) from error
        return stored

    def _failure(self, verb: str, key: str, error: Exception) -> InternalError:
        return InternalError(f"could not {verb} artifact {key!r} in s3://{self.bucket}: {error}")


def open_s3_artifact_store(
    url: str, *, endpoint_url: str | None, kms_key_id: str | None
) -> S3ArtifactStore:
    """The store an ``s3://bucket/prefix`` URL names, with credentials from the environment."""
    import boto3  # noqa: PLC0415 - boto3 is slow to import and only S3 deployments need it

    parts = urlsplit(url)
    if not parts.netloc:
        raise ConfigurationError(
            f"REPORTGEN_ARTIFACTS_URL: {url!r} names no bucket; use s3://bucket/prefix"
        )
    client = boto3.client("s3", endpoint_url=endpoint_url)
    return S3ArtifactStore(client, parts.netloc, parts.path, kms_key_id=kms_key_id)
