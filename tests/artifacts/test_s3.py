"""Artifacts in S3, against moto's S3 API served on loopback."""

from __future__ import annotations

import hashlib
import urllib.request
from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from reportgen.artifacts import ArtifactConflict, open_artifact_store
from reportgen.artifacts.s3 import S3ArtifactStore
from reportgen.errors import InternalError, NotFound

BUCKET = "reportgen-artifacts"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def test_put_get_and_checksum_metadata_with_sse_kms(s3: object, endpoint: str) -> None:
    kms = boto3.client("kms", endpoint_url=endpoint)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    store = open_artifact_store(
        f"s3://{BUCKET}/prod/reports", endpoint_url=endpoint, kms_key_id=key_id
    )
    assert isinstance(store, S3ArtifactStore)
    data = b"%PDF-1.7 quarterly"

    stored = store.put("renders/q4/board.pdf", data, "application/pdf")

    assert stored.uri == f"s3://{BUCKET}/prod/reports/renders/q4/board.pdf"
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert store.get("renders/q4/board.pdf") == data
    assert store.exists("renders/q4/board.pdf")
    head = s3.head_object(Bucket=BUCKET, Key="prod/reports/renders/q4/board.pdf")  # type: ignore[attr-defined]
    assert head["Metadata"]["sha256"] == stored.sha256
    assert head["ServerSideEncryption"] == "aws:kms"
    assert store.key_of(stored.uri) == "renders/q4/board.pdf"
    assert store.key_of(f"s3://{BUCKET}/other/renders/q4/board.pdf") is None
    assert store.key_of("s3://another-bucket/prod/reports/x.pdf") is None
    with urllib.request.urlopen(store.url_for("renders/q4/board.pdf"), timeout=10) as answer:
        assert answer.read() == data


def test_objects_are_immutable(s3: object, endpoint: str) -> None:
    store = open_artifact_store(f"s3://{BUCKET}", endpoint_url=endpoint, kms_key_id=None)
    store.put("a/report.csv", b"x,1\n", "text/csv")
    store.put("a/report.csv", b"x,1\n", "text/csv")  # the same bytes: a no-op
    with pytest.raises(ArtifactConflict, match="already holds other bytes"):
        store.put("a/report.csv", b"x,2\n", "text/csv")
    assert store.get("a/report.csv") == b"x,1\n"


def test_missing_objects_and_buckets_say_so(s3: object, endpoint: str) -> None:
    store = open_artifact_store(f"s3://{BUCKET}", endpoint_url=endpoint, kms_key_id=None)
    with pytest.raises(NotFound, match=r"no artifact 'nothing\.pdf'"):
        store.get("nothing.pdf")
    assert not store.exists("nothing.pdf")
    gone = open_artifact_store("s3://no-such-bucket", endpoint_url=endpoint, kms_key_id=None)
    with pytest.raises(InternalError, match=r"could not write artifact 'a\.pdf' in s3://no-such"):
        gone.put("a.pdf", b"%PDF", "application/pdf")
