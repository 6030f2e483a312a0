"""SmtpChannel against real aiosmtpd relays on loopback: MIME, TLS, AUTH and failure sorting."""

from __future__ import annotations

import asyncio
import io
import logging
import socket
import ssl
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pypdf import PdfReader

from reportgen.delivery import SmtpChannel, check_address
from reportgen.errors import (
    ConfigurationError,
    InvalidInput,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from tests.delivery.conftest import (
    GREYLISTED,
    REFUSED,
    SMTP_PASSWORD,
    SMTP_USER,
    Certificate,
    Inbox,
    StartSmtp,
    attachment,
    free_port,
    make_parcel,
)

SENDER = "Reportgen <reports@reports.example.com>"


def channel(url: str, **overrides: object) -> SmtpChannel:
    options: dict[str, object] = {
        "url": url,
        "password": None,
        "sender": SENDER,
        "timeout_s": 5.0,
        "attachment_limit_mb": 10.0,
        **overrides,
    }
    return SmtpChannel(**options)  # type: ignore[arg-type]


def received(inbox: Inbox, index: int = 0) -> EmailMessage:
    return cast(
        EmailMessage, message_from_bytes(inbox.envelopes[index].content, policy=policy.default)
    )


def bodies(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return str(cast(EmailMessage, text).get_content()), str(cast(EmailMessage, html).get_content())


def test_email_carries_both_bodies_the_attachments_and_a_stable_message_id(
    smtp_server: StartSmtp,
) -> None:
    inbox = smtp_server()
    receipt = channel(inbox.url).send(make_parcel(), "ana@example.com")

    assert len(inbox.envelopes) == 1
    assert inbox.envelopes[0].rcpt_tos == ["ana@example.com"]
    assert inbox.envelopes[0].mail_from == "reports@reports.example.com"
    message = received(inbox)
    assert message["Message-ID"] == "<dlv-0001@reports.example.com>"
    assert "<dlv-0001@reports.example.com>" in receipt.detail
    assert message["To"] == "ana@example.com"
    assert message["Subject"] == "Weekly sales: Monday 8:00"
    text, html = bodies(message)
    assert "Revenue rose 12% to €1.2M." in text
    assert "- Revenue: €1.2M (+12%)" in text
    assert "[INTERNAL] Weekly sales" in text
    # The HTML part escapes what the narrative holds and shows the KPIs as a table.
    assert "&lt;b&gt;€500k&lt;/b&gt;" in html
    assert "<b>" not in html
    assert '<td class="l">Orders</td><td class="r">3,400</td><td class="r">-2%</td>' in html
    assert "2026-11-02 07:00 UTC" in html
    files = {part.get_filename(): part for part in message.iter_attachments()}
    assert set(files) == {"report.pdf", "report.csv"}
    pdf = PdfReader(io.BytesIO(cast(EmailMessage, files["report.pdf"]).get_content()))
    assert len(pdf.pages) == 1
    assert pdf.metadata is not None and pdf.metadata.title == "Weekly sales"
    assert cast(EmailMessage, files["report.csv"]).get_content() == "region,revenue\nEMEA,1200\n"


def test_the_email_links_to_its_run_in_the_app(smtp_server: StartSmtp) -> None:
    inbox = smtp_server()
    channel(inbox.url, public_url="https://reports.example.com/").send(
        make_parcel(), "ana@example.com"
    )
    without = smtp_server()
    channel(without.url).send(make_parcel(), "ana@example.com")

    text, html = bodies(received(inbox))
    link = f"https://reports.example.com/run-history?run={make_parcel().run_id}"
    assert link in text
    assert f'href="{link}"' in html
    assert "run-history" not in "".join(bodies(received(without)))


def test_a_retried_delivery_reuses_its_message_id(smtp_server: StartSmtp) -> None:
    inbox = smtp_server()
    smtp = channel(inbox.url)
    smtp.send(make_parcel(), "ana@example.com")
    smtp.send(make_parcel(), "ana@example.com")
    smtp.send(make_parcel(delivery_id="dlv-0002"), "ana@example.com")

    ids = [received(inbox, i)["Message-ID"] for i in range(3)]
    assert ids[0] == ids[1] != ids[2]


def test_files_beyond_the_cap_become_links_largest_first(smtp_server: StartSmtp) -> None:
    inbox = smtp_server()
    big = attachment("report.xlsx", b"x" * 4000, "application/vnd.ms-excel")
    bigger = attachment("report.html", b"y" * 9000, "text/html")
    small = attachment("report.csv", b"a,b\n1,2\n", "text/csv")
    parcel = make_parcel(
        files=(small, big, bigger),
        links={
            "report.html": "https://reports.example.com/runs/run-42/report.html",
            "report.xlsx": "javascript:alert(1)",
        },
    )
    channel(inbox.url, attachment_limit_mb=5000 / (1024 * 1024)).send(parcel, "ana@example.com")

    message = received(inbox)
    attached = [part.get_filename() for part in message.iter_attachments()]
    assert attached == ["report.csv", "report.xlsx"]  # the 9 kB file went; the rest fits 5 kB
    text, html = bodies(message)
    assert "- report.html: https://reports.example.com/runs/run-42/report.html" in text
    assert '<a href="https://reports.example.com/runs/run-42/report.html">report.html</a>' in html
    assert "javascript:" not in html


def test_a_file_too_big_without_a_link_is_named_in_the_body(smtp_server: StartSmtp) -> None:
    inbox = smtp_server()
    parcel = make_parcel(files=(attachment("report.pdf", b"%PDF" * 1000, "application/pdf"),))
    channel(inbox.url, attachment_limit_mb=0.001).send(parcel, "ana@example.com")

    message = received(inbox)
    assert list(message.iter_attachments()) == []
    text, _ = bodies(message)
    assert "no download link was available: report.pdf" in text


def test_starttls_with_auth_delivers(smtp_server: StartSmtp, certificate: Certificate) -> None:
    inbox = smtp_server(starttls=certificate.server, auth=True)
    url = f"smtp://{SMTP_USER}@127.0.0.1:{inbox.port}?starttls=true"
    smtp = channel(url, password=SMTP_PASSWORD, tls_context=certificate.client)

    smtp.send(make_parcel(), "ana@example.com")

    assert [e.rcpt_tos for e in inbox.envelopes] == [["ana@example.com"]]


def test_implicit_tls_delivers(smtp_server: StartSmtp, certificate: Certificate) -> None:
    # aiosmtpd does not count implicit TLS as TLS for AUTH, so AUTH is tested over STARTTLS.
    inbox = smtp_server(implicit_tls=certificate.server)
    smtp = channel(f"smtps://127.0.0.1:{inbox.port}", tls_context=certificate.client)

    smtp.send(make_parcel(), "ana@example.com")

    assert len(inbox.envelopes) == 1


def test_an_untrusted_certificate_is_permanent(
    smtp_server: StartSmtp, certificate: Certificate
) -> None:
    inbox = smtp_server(implicit_tls=certificate.server)
    smtp = channel(f"smtps://127.0.0.1:{inbox.port}", tls_context=ssl.create_default_context())

    with pytest.raises(PermanentDeliveryError, match="TLS certificate was refused"):
        smtp.send(make_parcel(), "ana@example.com")
    assert inbox.envelopes == []


def test_a_wrong_password_is_permanent_and_never_shown(
    smtp_server: StartSmtp, certificate: Certificate
) -> None:
    inbox = smtp_server(starttls=certificate.server, auth=True)
    url = f"smtp://{SMTP_USER}@127.0.0.1:{inbox.port}?starttls=true"
    wrong = "not-the-password-at-all"
    smtp = channel(url, password=wrong, tls_context=certificate.client)

    with pytest.raises(PermanentDeliveryError) as caught:
        smtp.send(make_parcel(), "ana@example.com")

    message = str(caught.value)
    assert "ana@example.com" in message and "535" in message and SMTP_USER in message
    assert wrong not in message and SMTP_PASSWORD not in message
    assert inbox.envelopes == []


def test_a_relay_without_auth_is_permanent(smtp_server: StartSmtp) -> None:
    inbox = smtp_server()
    smtp = channel(f"smtp://{SMTP_USER}@127.0.0.1:{inbox.port}", password=SMTP_PASSWORD)
    with pytest.raises(PermanentDeliveryError, match="check the URL's user and starttls"):
        smtp.send(make_parcel(), "ana@example.com")


def test_a_recipient_refused_with_550_is_permanent(smtp_server: StartSmtp) -> None:
    inbox = smtp_server()
    with pytest.raises(PermanentDeliveryError) as caught:
        channel(inbox.url).send(make_parcel(), REFUSED)
    assert REFUSED in str(caught.value)
    assert "550 5.1.1" in str(caught.value)


def test_a_4xx_answer_is_transient(smtp_server: StartSmtp) -> None:
    inbox = smtp_server()
    with pytest.raises(TransientDeliveryError, match=r"451 4\.7\.1 greylisted"):
        channel(inbox.url).send(make_parcel(), GREYLISTED)


class _BrokenQuit:
    """Accepts every message, then spoils the goodbye: a 421 to QUIT, or no answer at all."""

    def __init__(self, quit_answer: str | None) -> None:
        self.quit_answer = quit_answer
        self.messages: list[object] = []
        self.released = asyncio.Event()

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        self.messages.append(envelope.content)
        return "250 Message accepted"

    async def handle_QUIT(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if self.quit_answer is None:
            await self.released.wait()  # silent until the test ends; the client times out
            return "221 Bye"
        return self.quit_answer


@pytest.fixture
def broken_quit_relay() -> Iterator[Callable[[str | None], tuple[_BrokenQuit, str]]]:
    started: list[tuple[Controller, _BrokenQuit]] = []

    def start(quit_answer: str | None) -> tuple[_BrokenQuit, str]:
        handler = _BrokenQuit(quit_answer)
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=5.0)
        controller.start()
        started.append((controller, handler))
        return handler, f"smtp://127.0.0.1:{port}"

    yield start
    for controller, handler in started:
        controller.loop.call_soon_threadsafe(handler.released.set)
        controller.stop()


@pytest.mark.parametrize(
    ("quit_answer", "logged"),
    [("421 4.3.2 shutting down", "421 4.3.2 shutting down"), (None, "timed out")],
    ids=["421", "silent"],
)
def test_a_failed_quit_after_the_message_was_accepted_is_still_delivered(
    broken_quit_relay: Callable[[str | None], tuple[_BrokenQuit, str]],
    caplog: pytest.LogCaptureFixture,
    quit_answer: str | None,
    logged: str,
) -> None:
    handler, url = broken_quit_relay(quit_answer)

    with caplog.at_level(logging.WARNING, logger="reportgen.delivery"):
        receipt = channel(url, timeout_s=1.0).send(make_parcel(), "ana@example.com")

    assert len(handler.messages) == 1
    assert "accepted by 127.0.0.1" in receipt.detail
    [warning] = [r for r in caplog.records if r.name == "reportgen.delivery"]
    assert logged in warning.getMessage()
    assert "<dlv-0001@reports.example.com>" in warning.getMessage()


def test_a_relay_that_is_down_is_transient() -> None:
    smtp = channel(f"smtp://127.0.0.1:{free_port()}")
    with pytest.raises(TransientDeliveryError, match="could not be reached") as caught:
        smtp.send(make_parcel(), "ana@example.com")
    assert "ana@example.com" in str(caught.value)


def test_a_relay_that_never_answers_times_out_as_transient() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts the connection in the backlog, never sends a greeting
        port = silent.getsockname()[1]
        smtp = channel(f"smtp://127.0.0.1:{port}", timeout_s=0.3)
        with pytest.raises(TransientDeliveryError, match="timed out"):
            smtp.send(make_parcel(), "ana@example.com")


@pytest.mark.parametrize(
    "address",
    [
        "",
        "ana",
        "ana@localhost",
        "Ana <ana@example.com>",
        "ana@example.com\r\nBcc: all@example.com",
        "ana@example.com,bob@example.com",
        "ana @example.com",
        "ana@exa_mple.com",
    ],
)
def test_check_target_refuses_anything_but_one_plain_address(address: str) -> None:
    with pytest.raises(InvalidInput, match="is not an email address"):
        check_address(address)


def test_check_target_accepts_plain_addresses() -> None:
    smtp = channel("smtp://127.0.0.1:2525")
    for address in ("ana@example.com", "first.last+reports@mail.example.co.uk"):
        smtp.check_target(address)  # raises on failure


def test_a_header_injection_target_is_refused_before_connecting() -> None:
    smtp = channel(f"smtp://127.0.0.1:{free_port()}")
    with pytest.raises(PermanentDeliveryError, match="not an email address"):
        smtp.send(make_parcel(), "ana@example.com\nBcc: all@example.com")


@pytest.mark.parametrize(
    ("url", "password", "fault"),
    [
        ("http://mail.example.com", None, "must start with smtp:// or smtps://"),
        ("smtp://u:secret@mail.example.com:587", None, "set REPORTGEN_SMTP_PASSWORD instead"),
        ("smtp://u@mail.example.com:587", "pw-123", "unencrypted to mail.example.com"),
        ("smtp://u@mail.example.com:587?starttls=true", None, "set REPORTGEN_SMTP_PASSWORD"),
        ("smtp://mail.example.com:587?starttls=maybe", None, "starttls must be true or false"),
    ],
)
def test_bad_relay_settings_name_the_fix(url: str, password: str | None, fault: str) -> None:
    with pytest.raises(ConfigurationError, match=fault) as caught:
        channel(url, password=password)
    assert "secret" not in str(caught.value) and "pw-123" not in str(caught.value)
