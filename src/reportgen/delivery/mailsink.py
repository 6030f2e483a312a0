"""A local SMTP sink for demos: accepts every message on loopback and keeps it as an .eml file.

`reportgen up` starts it on the SMTP URL's port so report emails can be opened without a real
relay. Each message is written whole (temporary file, then rename) as
``<folder>/<UTC timestamp>-<message-id>.eml`` and announced by one structured log line.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import tempfile
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from types import TracebackType
from typing import Any

import structlog
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_log = structlog.get_logger(__name__)
_AIOSMTPD_LOG = "mail.log"


class _KeepMessages:
    """aiosmtpd handler writing each message to the sink's folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        headers = BytesHeaderParser(policy=default_policy).parsebytes(content)
        message_id = str(headers.get("Message-ID", "")).strip("<> ")
        slug = _UNSAFE.sub("-", message_id)[:80].strip("-.") or "message"
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.folder / f"{stamp}-{slug}.eml"
        _write_whole(path, content)
        _log.info(
            "mail sink kept a message",
            message_id=message_id,
            recipients=len(envelope.rcpt_tos),
            subject=str(headers.get("Subject", "")),
            size_bytes=len(content),
            path=str(path),
        )
        return "250 Message accepted for delivery"


def _write_whole(path: Path, data: bytes) -> None:
    fd, temp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".eml", dir=path.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        temp.replace(path)
    finally:
        temp.unlink(missing_ok=True)


class _QuietProbe(logging.Filter):
    """Drops aiosmtpd's INFO lines about the connection its Controller makes to start a server.

    `Controller.start` connects once, reads the greeting and hangs up, to check that the server
    answers; aiosmtpd then logs that session ("EOF received", "Connection lost during
    _handle_client()", ...), which reads like a fault at every start. Only that session's
    lines go (found by its peer address): warnings, errors and every real client's lines stay.
    """

    def __init__(self) -> None:
        super().__init__()
        self.starting = False
        self.probe_peer: object = None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        args = record.args
        peer = args[0] if isinstance(args, tuple) and args else None
        if peer is None:  # "Available AUTH mechanisms": the probe's server being made
            return not self.starting
        return bool(peer != self.probe_peer)


class _SinkSMTP(SMTP):
    """aiosmtpd's SMTP session, telling `quiet` which peer the start-up probe came from."""

    def __init__(self, handler: Any, quiet: _QuietProbe, **kwargs: Any) -> None:
        self._quiet = quiet
        self._is_probe = quiet.starting
        super().__init__(handler, **kwargs)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        if self._is_probe:
            self._quiet.probe_peer = peer
        elif peer == self._quiet.probe_peer:  # the probe's port serves a real client now
            self._quiet.probe_peer = None
        super().connection_made(transport)


class _SinkController(Controller):
    """aiosmtpd's controller, with a session that keeps the start-up probe out of the log."""

    def __init__(self, handler: _KeepMessages, host: str, port: int) -> None:
        super().__init__(handler, hostname=host, port=port)
        self.quiet = _QuietProbe()

    def factory(self) -> SMTP:
        return _SinkSMTP(self.handler, self.quiet, **self.SMTP_kwargs)

    def start(self) -> None:
        aiosmtpd_log = logging.getLogger(_AIOSMTPD_LOG)
        aiosmtpd_log.addFilter(self.quiet)
        self.quiet.starting = True
        try:
            super().start()
        except BaseException:
            aiosmtpd_log.removeFilter(self.quiet)
            raise
        finally:
            self.quiet.starting = False

    def stop(self, no_assert: bool = False) -> None:
        try:
            super().stop(no_assert)
        finally:
            logging.getLogger(_AIOSMTPD_LOG).removeFilter(self.quiet)


class MailSink:
    """An aiosmtpd server on `host`:`port` that keeps every message it receives in `folder`."""

    def __init__(self, host: str, port: int, folder: Path) -> None:
        self.host = host
        self.port = port
        self.folder = folder
        self._controller: _SinkController | None = None

    def start(self) -> None:
        """Listen (in a background thread) until `stop`; the folder is created when missing."""
        if self._controller is not None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        controller = _SinkController(_KeepMessages(self.folder), self.host, self.port)
        controller.start()
        self._controller = controller
        _log.info("mail sink listening", host=self.host, port=self.port, folder=str(self.folder))

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[Path]:
        """The kept messages, oldest first."""
        return sorted(self.folder.glob("[0-9]*.eml"))

    def __enter__(self) -> MailSink:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
