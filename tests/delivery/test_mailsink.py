"""The demo mail sink keeps each message as a file; build_channels wires all three channels."""

from __future__ import annotations

import logging
import socket
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import structlog

from reportgen.delivery import (
    SmtpChannel,
    StorageChannel,
    WebhookChannel,
    build_channels,
)
from reportgen.delivery.mailsink import MailSink
from reportgen.errors import ConfigurationError, TransientDeliveryError
from reportgen.settings import Settings
from tests.delivery.conftest import free_port, make_parcel


def settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(data_dir=tmp_path, **overrides)  # type: ignore[arg-type]


def test_the_sink_keeps_each_email_as_an_eml_file(tmp_path: Path) -> None:
    port = free_port()
    folder = tmp_path / "mail"
    channels = build_channels(
        settings(tmp_path, smtp_url=f"smtp://127.0.0.1:{port}"), webhook_key="k" * 32
    )
    with structlog.testing.capture_logs() as logs, MailSink("127.0.0.1", port, folder) as sink:
        channels["email"].send(make_parcel(), "ana@example.com")
        channels["email"].send(make_parcel(delivery_id="dlv-0002"), "bob@example.com")
        kept = sink.messages()

    assert [p.name.split("-", 1)[1] for p in kept] == [
        "dlv-0001-localhost.eml",
        "dlv-0002-localhost.eml",
    ]
    first = message_from_bytes(kept[0].read_bytes(), policy=policy.default)
    assert first["Message-ID"] == "<dlv-0001@localhost>"
    assert first["To"] == "ana@example.com"
    assert next(e for e in logs if e["event"] == "mail sink kept a message") == {
        "event": "mail sink kept a message",
        "log_level": "info",
        "message_id": "dlv-0001@localhost",
        "recipients": 1,
        "subject": "Weekly sales: Monday 8:00",
        "size_bytes": kept[0].stat().st_size,
        "path": str(kept[0]),
    }
    assert not list(folder.glob(".tmp-*"))


def test_the_sink_stops_listening(tmp_path: Path) -> None:
    port = free_port()
    sink = MailSink("127.0.0.1", port, tmp_path / "mail")
    sink.start()
    sink.stop()
    channel = build_channels(
        settings(tmp_path, smtp_url=f"smtp://127.0.0.1:{port}"), webhook_key="k" * 32
    )["email"]
    with pytest.raises(TransientDeliveryError, match="could not be reached"):
        channel.send(make_parcel(), "ana@example.com")
    assert sink.messages() == []


def test_build_channels_makes_one_channel_per_kind(tmp_path: Path) -> None:
    channels = build_channels(settings(tmp_path), webhook_key="k" * 32)

    assert {kind: type(c) for kind, c in channels.items()} == {
        "email": SmtpChannel,
        "storage": StorageChannel,
        "webhook": WebhookChannel,
    }
    assert all(kind == channel.kind for kind, channel in channels.items())
    channels["storage"].send(make_parcel(), "")
    assert (tmp_path / "deliveries/weekly-sales/2026/11/02/run-42/report.pdf").is_file()


def test_a_bad_allowlist_stops_the_wiring_with_the_variable_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"REPORTGEN_WEBHOOK_ALLOWLIST: '300\.1\.1\.1/8'"):
        build_channels(settings(tmp_path, webhook_allowlist="300.1.1.1/8"), webhook_key="k" * 32)


def test_no_warning_is_logged_while_the_sink_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING), MailSink("127.0.0.1", free_port(), tmp_path / "m"):
        pass
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def mail_log(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "mail.log"]


def test_the_start_up_probe_leaves_no_line_in_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # aiosmtpd's Controller connects once and hangs up to see the server answer; that session
    # used to be logged ("Connection lost during _handle_client()") at every start.
    port = free_port()
    channel = build_channels(
        settings(tmp_path, smtp_url=f"smtp://127.0.0.1:{port}"), webhook_key="k" * 32
    )["email"]
    with caplog.at_level(logging.DEBUG, logger="mail.log"), MailSink("127.0.0.1", port, tmp_path):
        channel.send(make_parcel(), "ana@example.com")  # a real client, after the probe
    records = mail_log(caplog)

    # aiosmtpd's session lines start with the peer's (host, port).
    peers = {a[0] for a in (r.args for r in records) if isinstance(a, tuple) and a[0:1] != ()}
    peers = {peer for peer in peers if isinstance(peer, tuple)}
    assert len(peers) == 1, peers  # the real client's session alone
    (peer,) = peers
    assert f"Peer: {peer!r}" in [r.getMessage() for r in records]
    servers = [r for r in records if r.getMessage().startswith("Available AUTH mechanisms")]
    assert len(servers) == 1  # aiosmtpd makes one per connection


def test_a_client_that_hangs_up_is_still_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    with (
        caplog.at_level(logging.INFO, logger="mail.log"),
        MailSink("127.0.0.1", port, tmp_path),
        socket.create_connection(("127.0.0.1", port), timeout=10) as client,
    ):
        peer = client.getsockname()
        assert client.recv(1024).startswith(b"220 ")
        client.shutdown(socket.SHUT_WR)
        while client.recv(1024):  # the sink closes its end once it has logged the hang-up
            pass
    lines = [r.getMessage() for r in mail_log(caplog)]
    assert f"{peer!r} Connection lost during _handle_client()" in lines
