"""Loopback servers and parcels for the delivery tests: aiosmtpd relays, moto's S3, a PDF."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pypdf import PdfWriter

from reportgen.domain.delivery import Attachment, Parcel

GENERATED_AT = dt.datetime(2026, 11, 2, 7, 0, tzinfo=dt.UTC)
SMTP_USER = "relay-user"
SMTP_PASSWORD = "relay-secret-password-123"
REFUSED = "nobody@example.com"
GREYLISTED = "later@example.com"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tiny_pdf(title: str = "Weekly sales") -> bytes:
    """A one-page PDF with a title in its metadata, made here so the test owns its bytes."""
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def attachment(filename: str, data: bytes, content_type: str) -> Attachment:
    return Attachment(filename, content_type, data, hashlib.sha256(data).hexdigest())


def make_parcel(**overrides: Any) -> Parcel:
    """A parcel as the run service would build it: a PDF and a CSV with a summary and KPIs."""
    values: dict[str, Any] = {
        "delivery_id": "dlv-0001",
        "run_id": "run-42",
        "report_title": "Weekly sales",
        "report_slug": "weekly-sales",
        "schedule_name": "Monday 8:00",
        "recipient": "ana@example.com",
        "generated_at": GENERATED_AT,
        "classification": "internal",
        "files": (
            attachment("report.pdf", tiny_pdf(), "application/pdf"),
            attachment("report.csv", b"region,revenue\nEMEA,1200\n", "text/csv"),
        ),
        "summary": ("Revenue rose 12% to €1.2M.", "EMEA led with <b>€500k</b>."),
        "kpis": (("Revenue", "€1.2M", "+12%"), ("Orders", "3,400", "-2%")),
    }
    values.update(overrides)
    return Parcel(**values)


@dataclass
class Inbox:
    """What one loopback SMTP server received."""

    host: str
    port: int
    envelopes: list[Envelope] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"


class _Recorder:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address == REFUSED:
            return "550 5.1.1 <nobody@example.com>: mailbox unavailable"
        if address == GREYLISTED:
            return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        self.inbox.envelopes.append(envelope)
        return "250 Message accepted"


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost, and contexts to serve and trust it."""

    server: ssl.SSLContext
    client: ssl.SSLContext


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (folder / "cert.pem").write_bytes(cert_pem)
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return Certificate(server, client)


StartSmtp = Callable[..., Inbox]


@pytest.fixture
def smtp_server() -> Iterator[StartSmtp]:
    """Start aiosmtpd relays on loopback; each is stopped when the test ends."""
    controllers: list[Controller] = []

    def start(
        *,
        starttls: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
        auth: bool = False,
    ) -> Inbox:
        inbox = Inbox("127.0.0.1", free_port())
        options: dict[str, Any] = {"ready_timeout": 5.0}
        if starttls is not None:
            options.update(tls_context=starttls, require_starttls=True)
        if implicit_tls is not None:
            options.update(ssl_context=implicit_tls)
        if auth:
            options.update(authenticator=_authenticate, auth_required=True)
        controller = Controller(_Recorder(inbox), hostname=inbox.host, port=inbox.port, **options)
        controller.start()
        controllers.append(controller)
        return inbox

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def delivery_folder(tmp_path: Path) -> Path:
    return tmp_path / "deliveries"
