"""Delivered files as S3 objects, encrypted at rest and carrying their SHA-256.

Objects are written with SSE-KMS when ``REPORTGEN_S3_KMS_KEY_ID`` names a key, else SSE-S3
(AES256). The SHA-256 goes both into the object's metadata (``x-amz-meta-sha256``, hex, for
people and tools) and into S3's own checksum (``ChecksumSHA256``), so S3 refuses an upload
that arrives damaged. botocore's own retries are kept short: the run's retry policy, with its
backoff and dead-letter list, is where retrying belongs.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from reportgen.domain.delivery import Attachment
from reportgen.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

_TRANSIENT_CODES = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "ServiceUnavailable",
    "InternalError",
    "KMS.ThrottlingException",
}
_ACCESS_CODES = {"AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch"}


class S3Bucket:
    """One bucket of an S3-compatible store, written through boto3."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None,
        kms_key_id: str | None,
        client: S3Client | None = None,
    ) -> None:
        self.bucket = bucket
        self._kms_key_id = kms_key_id
        self._client: S3Client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            config=Config(
                retries={"max_attempts": 2, "mode": "standard"},
                connect_timeout=10,
                read_timeout=60,
            ),
        )

    def put(self, key: str, file: Attachment) -> str:
        encryption: dict[str, Any] = (
            {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self._kms_key_id}
            if self._kms_key_id
            else {"ServerSideEncryption": "AES256"}
        )
        try:
            self._client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=file.data,
                ContentType=file.content_type,
                Metadata={"sha256": file.sha256},
                ChecksumSHA256=base64.b64encode(bytes.fromhex(file.sha256)).decode(),
                **encryption,
            )
        except ClientError as exc:
            raise self._client_error(exc, key) from None
        except NoCredentialsError:
            raise PermanentDeliveryError(
                f"storage delivery to s3://{self.bucket}: no AWS credentials were found; give the"
                " scheduler a role or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            ) from None
        except BotoCoreError as exc:
            raise TransientDeliveryError(
                f"storage delivery to s3://{self.bucket}/{key} failed: {type(exc).__name__}: {exc}"
            ) from None
        return f"s3://{self.bucket}/{key}"

    def _client_error(self, exc: ClientError, key: str) -> DeliveryError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        said = f"{code}: {error.get('Message', '')}".strip(": ")
        where = f"s3://{self.bucket}/{key}"
        if code in _TRANSIENT_CODES or status >= 500 or status == 429:
            return TransientDeliveryError(f"storage delivery to {where} failed ({said}); retrying")
        if code == "NoSuchBucket":
            return PermanentDeliveryError(
                f"storage delivery: the bucket {self.bucket} does not exist ({said}); create it"
                " or fix REPORTGEN_DELIVERY_URL"
            )
        if code in _ACCESS_CODES or status == 403 or code.startswith("KMS."):
            needed = "s3:PutObject on arn:aws:s3:::" + f"{self.bucket}/*"
            if self._kms_key_id:
                needed += f" and kms:GenerateDataKey on the key {self._kms_key_id}"
            return PermanentDeliveryError(
                f"storage delivery to {where} was refused ({said}): the scheduler's credentials"
                f" need {needed}"
            )
        return PermanentDeliveryError(f"storage delivery to {where} failed ({said})")
