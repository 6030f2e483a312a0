"""Email delivery over SMTP: plain, STARTTLS or implicit TLS, with optional AUTH.

The relay is named by ``REPORTGEN_SMTP_URL`` (``smtp://user@host:587?starttls=true`` or
``smtps://user@host:465``); the password comes from ``REPORTGEN_SMTP_PASSWORD`` and never
appears in a URL, a log line or an error. Failures are sorted for the retry logic: a relay
that is down, slow or answers 4xx is transient; a 5xx refusal or failed authentication is
permanent. Each message names the recipient and quotes the relay's answer.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from reportgen.delivery.email_body import compose, message_id
from reportgen.domain.delivery import Parcel, Receipt
from reportgen.errors import (
    ConfigurationError,
    DeliveryError,
    InvalidInput,
    PermanentDeliveryError,
    TransientDeliveryError,
)

# A deliberately plain address: local part of atoms separated by dots, a dotted domain with a
# top-level label. No quoted local parts, comments, display names or whitespace of any kind,
# so a target can never smuggle a header or a second recipient.
_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_BYTES_PER_MB = 1024 * 1024
_SMTP_VARIABLE = "REPORTGEN_SMTP_URL"
log = logging.getLogger("reportgen.delivery")


@dataclass(frozen=True)
class Relay:
    """Where and how to reach the SMTP relay, parsed from the SMTP URL."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    user: str | None

    @classmethod
    def parse(cls, url: str) -> Relay:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"}:
            raise ConfigurationError(
                f"{_SMTP_VARIABLE}: {url!r} must start with smtp:// or smtps://, such as"
                " smtp://user@mail.example.com:587?starttls=true"
            )
        if parts.password:
            raise ConfigurationError(
                f"{_SMTP_VARIABLE} carries a password; remove it from the URL and set"
                " REPORTGEN_SMTP_PASSWORD instead"
            )
        implicit = parts.scheme == "smtps"
        options = parse_qs(parts.query)
        flag = options.get("starttls", ["false"])[-1].lower()
        if flag not in {"true", "false"}:
            raise ConfigurationError(f"{_SMTP_VARIABLE}: starttls must be true or false")
        try:
            port = parts.port or (465 if implicit else 25)
        except ValueError:
            raise ConfigurationError(f"{_SMTP_VARIABLE}: the port is not a number") from None
        if not parts.hostname:
            raise ConfigurationError(f"{_SMTP_VARIABLE}: {url!r} names no host")
        user = unquote(parts.username) if parts.username else None
        return cls(parts.hostname, port, implicit, flag == "true" and not implicit, user)

    @property
    def encrypted(self) -> bool:
        return self.implicit_tls or self.starttls


def check_address(address: str) -> None:
    """Raise `InvalidInput` unless `address` is one plain email address."""
    if not _ADDRESS.fullmatch(address) or len(address) > 254:
        shown = address.encode("unicode_escape").decode()[:80]
        raise InvalidInput(
            f"email recipient {shown!r} is not an email address; use a plain address such as"
            " ana@example.com (no names, spaces or line breaks)"
        )


class SmtpChannel:
    """Delivers parcels as emails through one SMTP relay (kind ``"email"``)."""

    kind = "email"

    def __init__(
        self,
        *,
        url: str,
        password: str | None,
        sender: str,
        timeout_s: float,
        attachment_limit_mb: float,
        tls_context: ssl.SSLContext | None = None,
        public_url: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.relay = Relay.parse(url)
        if password and not self.relay.encrypted and self.relay.host not in _LOOPBACK:
            raise ConfigurationError(
                f"{_SMTP_VARIABLE} would send the SMTP password unencrypted to"
                f" {self.relay.host}; use smtps:// or add ?starttls=true"
            )
        if self.relay.user and not password:
            raise ConfigurationError(
                f"{_SMTP_VARIABLE} names the user {self.relay.user!r}; set"
                " REPORTGEN_SMTP_PASSWORD too"
            )
        self._password = password
        self._sender = sender
        self._envelope_from = parseaddr(sender)[1]
        if not self._envelope_from:
            raise ConfigurationError(f"REPORTGEN_SMTP_FROM: {sender!r} holds no email address")
        self._timeout_s = timeout_s
        self._limit_bytes = int(attachment_limit_mb * _BYTES_PER_MB)
        self._tls = tls_context or ssl.create_default_context()
        self._clock = clock
        self._public_url = public_url

    def check_target(self, target: str) -> None:
        check_address(target)

    def send(self, parcel: Parcel, target: str) -> Receipt:
        try:
            check_address(target)
        except InvalidInput as exc:
            raise PermanentDeliveryError(str(exc)) from None
        message = compose(
            parcel,
            sender=self._sender,
            recipient=target,
            limit_bytes=self._limit_bytes,
            now=self._clock(),
            public_url=self._public_url,
        )
        where = f"{self.relay.host}:{self.relay.port}"
        try:
            # Not ``with smtp``: its exit sends QUIT and raises on a bad answer, which would
            # turn a message the relay already accepted into a failure that gets re-sent.
            smtp = self._connect()
            try:
                if self.relay.user and self._password:
                    smtp.login(self.relay.user, self._password)
                smtp.send_message(message, from_addr=self._envelope_from, to_addrs=[target])
            except BaseException:
                smtp.close()
                raise
        except smtplib.SMTPRecipientsRefused as exc:
            code, answer = exc.recipients.get(target, (550, b"refused"))
            raise _by_code(
                code, f"email to {target}: the relay {where} refused it: {_said(code, answer)}"
            ) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentDeliveryError(
                f"email to {target}: the relay {where} refused the login of"
                f" {self.relay.user!r}: {_said(exc.smtp_code, exc.smtp_error)}; check"
                " REPORTGEN_SMTP_URL's user and REPORTGEN_SMTP_PASSWORD"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentDeliveryError(
                f"email to {target}: the relay {where} lacks what {_SMTP_VARIABLE} asks for"
                f" ({exc}); check the URL's user and starttls option"
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise _by_code(
                exc.smtp_code,
                f"email to {target}: the relay {where} answered"
                f" {_said(exc.smtp_code, exc.smtp_error)}",
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise PermanentDeliveryError(
                f"email to {target}: the relay {where}'s TLS certificate was refused"
                f" ({exc.verify_message}); fix the relay's certificate or {_SMTP_VARIABLE}"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientDeliveryError(
                f"email to {target}: the relay {where} could not be reached:"
                f" {type(exc).__name__}: {exc}"
            ) from None
        sent_as = message_id(parcel.delivery_id, self._sender)
        _hang_up(smtp, f"email to {target} ({sent_as})", where)
        return Receipt(f"email to {target} accepted by {where} as {sent_as}")

    def _connect(self) -> smtplib.SMTP:
        relay = self.relay
        smtp: smtplib.SMTP
        if relay.implicit_tls:
            smtp = smtplib.SMTP_SSL(
                relay.host, relay.port, timeout=self._timeout_s, context=self._tls
            )
        else:
            smtp = smtplib.SMTP(relay.host, relay.port, timeout=self._timeout_s)
        try:
            smtp.ehlo()
            if relay.starttls:
                smtp.starttls(context=self._tls)
                smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp


def _hang_up(smtp: smtplib.SMTP, what: str, where: str) -> None:
    """Say QUIT and close. The relay has accepted the message by now, so a QUIT that times
    out, is refused or drops the connection is logged, never raised: the email is delivered."""
    try:
        code, answer = smtp.docmd("QUIT")
        if code != 221:
            log.warning(
                "%s was accepted, but the relay %s answered QUIT with %s",
                what,
                where,
                _said(code, answer),
            )
    except Exception as exc:  # noqa: BLE001 - nothing after DATA may undo the delivery
        log.warning(
            "%s was accepted, but QUIT to the relay %s failed: %s: %s",
            what,
            where,
            type(exc).__name__,
            exc,
        )
    finally:
        try:
            smtp.close()
        except Exception as exc:  # noqa: BLE001 - as above
            log.warning(
                "%s was accepted; closing the connection to %s failed: %s", what, where, exc
            )


def _by_code(code: int, message: str) -> DeliveryError:
    return PermanentDeliveryError(message) if code >= 500 else TransientDeliveryError(message)


def _said(code: int, answer: bytes | str) -> str:
    text = answer.decode(errors="replace") if isinstance(answer, bytes) else answer
    return f"{code} {' '.join(text.split())}"
