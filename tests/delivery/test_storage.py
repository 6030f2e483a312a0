"""StorageChannel into a local folder and into moto's S3 server on loopback."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from reportgen.delivery.storage import open_storage
from reportgen.errors import (
    ConfigurationError,
    InvalidInput,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from tests.delivery.conftest import free_port, make_parcel

DAY = "2026/11/02"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, moto_endpoint: str) -> str:
    """Credentials for moto (it accepts any) and the endpoint; nothing reaches AWS."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto_endpoint


def s3(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint)


def test_local_files_land_under_report_and_date_with_a_checksum_sidecar(tmp_path: Path) -> None:
    channel = open_storage(tmp_path.as_uri(), endpoint_url=None, kms_key_id=None)
    parcel = make_parcel()

    receipt = channel.send(parcel, "finance/monthly")

    folder = tmp_path / "finance/monthly/weekly-sales" / DAY / "run-42"
    assert sorted(p.name for p in folder.iterdir()) == [
        "report.csv",
        "report.csv.sha256",
        "report.pdf",
        "report.pdf.sha256",
    ]
    for file in parcel.files:
        assert (folder / file.filename).read_bytes() == file.data
        assert (folder / f"{file.filename}.sha256").read_text() == (
            f"{hashlib.sha256(file.data).hexdigest()}  {file.filename}\n"
        )
        assert (folder / file.filename).as_uri() in receipt.detail
    assert (folder / "report.pdf").stat().st_mode & 0o777 == 0o640


def test_resending_a_delivery_rewrites_the_same_bytes(tmp_path: Path) -> None:
    channel = open_storage(tmp_path.as_uri(), endpoint_url=None, kms_key_id=None)
    first = channel.send(make_parcel(), "")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}

    second = channel.send(make_parcel(), "")

    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert first == second
    assert before == after
    assert len(after) == 4  # two files and their sidecars, no temporary leftovers
    assert (tmp_path / "weekly-sales" / DAY / "run-42" / "report.pdf").is_file()


@pytest.mark.parametrize("target", ["../escape", "a/../../b", ".hidden", "a b", "a\\b", "~/x"])
def test_unsafe_targets_are_refused(tmp_path: Path, target: str) -> None:
    channel = open_storage(tmp_path.as_uri(), endpoint_url=None, kms_key_id=None)
    with pytest.raises(InvalidInput, match="use letters, digits"):
        channel.check_target(target)
    with pytest.raises(PermanentDeliveryError, match="run-42"):
        channel.send(make_parcel(), target)
    assert list(tmp_path.iterdir()) == []


def test_an_unsafe_run_id_or_file_name_is_refused(tmp_path: Path) -> None:
    channel = open_storage(tmp_path.as_uri(), endpoint_url=None, kms_key_id=None)
    with pytest.raises(PermanentDeliveryError, match="run id"):
        channel.send(make_parcel(run_id="../../etc"), "")
    parcel = make_parcel()
    renamed = make_parcel(files=(parcel.files[0].__class__("../x.pdf", "a/b", b"x", "00"),))
    with pytest.raises(PermanentDeliveryError, match="not a plain file name"):
        channel.send(renamed, "")
    assert list(tmp_path.iterdir()) == []


def test_a_link_planted_inside_the_folder_cannot_lead_out(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "planted").symlink_to(outside, target_is_directory=True)
    channel = open_storage(root.as_uri(), endpoint_url=None, kms_key_id=None)

    with pytest.raises(PermanentDeliveryError, match="through a link"):
        channel.send(make_parcel(), "planted")
    assert list(outside.rglob("*.pdf")) == []


@pytest.mark.parametrize(
    ("url", "fault"),
    [
        ("file://server/share", "must name a local folder"),
        ("s3:///prefix", "names no bucket"),
        ("s3://bucket/../up", "use letters, digits"),
        ("gs://bucket/x", "is not supported"),
    ],
)
def test_bad_delivery_urls_name_the_variable(url: str, fault: str) -> None:
    with pytest.raises(ConfigurationError, match=fault) as caught:
        open_storage(url, endpoint_url=None, kms_key_id=None)
    assert "REPORTGEN_DELIVERY_URL" in str(caught.value)


def test_s3_objects_carry_the_layout_checksum_and_sse_s3(aws: str) -> None:
    s3(aws).create_bucket(Bucket="plain-bucket")
    channel = open_storage("s3://plain-bucket/reports", endpoint_url=aws, kms_key_id=None)
    parcel = make_parcel()

    receipt = channel.send(parcel, "finance")

    key = f"reports/finance/weekly-sales/{DAY}/run-42/report.pdf"
    assert f"s3://plain-bucket/{key}" in receipt.detail
    head = s3(aws).head_object(Bucket="plain-bucket", Key=key)
    pdf = parcel.files[0]
    assert head["Metadata"] == {"sha256": pdf.sha256}
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentType"] == "application/pdf"
    body = s3(aws).get_object(Bucket="plain-bucket", Key=key)["Body"].read()
    assert body == pdf.data


def test_s3_uses_sse_kms_with_the_configured_key_and_resends_idempotently(aws: str) -> None:
    key_id = boto3.client("kms", endpoint_url=aws).create_key()["KeyMetadata"]["KeyId"]
    s3(aws).create_bucket(Bucket="kms-bucket")
    channel = open_storage("s3://kms-bucket", endpoint_url=aws, kms_key_id=key_id)

    channel.send(make_parcel(), "")
    first = s3(aws).list_objects_v2(Bucket="kms-bucket")["Contents"]
    channel.send(make_parcel(), "")
    second = s3(aws).list_objects_v2(Bucket="kms-bucket")["Contents"]

    assert [o["Key"] for o in first] == [
        f"weekly-sales/{DAY}/run-42/report.csv",
        f"weekly-sales/{DAY}/run-42/report.pdf",
    ]
    assert [(o["Key"], o["ETag"]) for o in first] == [(o["Key"], o["ETag"]) for o in second]
    head = s3(aws).head_object(Bucket="kms-bucket", Key=first[1]["Key"])
    assert head["ServerSideEncryption"] == "aws:kms"
    assert key_id in head["SSEKMSKeyId"]


def test_a_missing_bucket_is_permanent_and_named(aws: str) -> None:
    channel = open_storage("s3://no-such-bucket/x", endpoint_url=aws, kms_key_id=None)
    with pytest.raises(PermanentDeliveryError, match="the bucket no-such-bucket does not exist"):
        channel.send(make_parcel(), "")


def test_an_unreachable_endpoint_is_transient(aws: str) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    channel = open_storage("s3://any-bucket", endpoint_url=down, kms_key_id=None)
    with pytest.raises(TransientDeliveryError, match="s3://any-bucket/weekly-sales"):
        channel.send(make_parcel(), "")
