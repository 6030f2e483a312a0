"""Delivery channels: email over SMTP, object storage, webhooks; and a local mail sink.

Each channel is a `reportgen.services.ports.DeliveryChannel`: ``send(parcel, target)`` returns a
`Receipt` or raises `TransientDeliveryError` (worth retrying) or `PermanentDeliveryError`, and
``check_target(target)`` raises `InvalidInput` at save time for a target that can never work.
Targets by kind:

- ``"email"`` (`SmtpChannel`): one plain email address.
- ``"storage"`` (`StorageChannel`): the schedule's folder prefix, possibly empty.
- ``"webhook"`` (`WebhookChannel`): the URL; ``webhook_target(url, slack=True)`` gives
  ``"slack+https://…"`` for Slack's message shape.

`build_channels(settings, webhook_key)` builds all three from the settings.
`reportgen.delivery.mailsink.MailSink` is the demo SMTP server that keeps messages as files
(not imported here: only the demo's process runs it); `netguard` is the webhook SSRF guard.
"""

from __future__ import annotations

from reportgen.delivery.email import SmtpChannel, check_address
from reportgen.delivery.netguard import Allowlist, guard_url
from reportgen.delivery.storage import StorageChannel, open_storage
from reportgen.delivery.webhook import WebhookChannel, sign, webhook_target
from reportgen.errors import ConfigurationError, InvalidInput
from reportgen.settings import Settings

__all__ = [
    "Allowlist",
    "AnyChannel",
    "SmtpChannel",
    "StorageChannel",
    "WebhookChannel",
    "build_channels",
    "check_address",
    "guard_url",
    "sign",
    "webhook_target",
]

AnyChannel = SmtpChannel | StorageChannel | WebhookChannel
"""Each is a `DeliveryChannel`; named here because adapters may not import the services' ports."""


def build_channels(settings: Settings, webhook_key: str) -> dict[str, AnyChannel]:
    """The deployment's channels by kind; a bad setting raises `ConfigurationError` naming it.

    The result fits wherever a ``Mapping[str, DeliveryChannel]`` is expected.
    """
    try:
        allowlist = Allowlist.parse(settings.webhook_allowlist)
    except InvalidInput as exc:
        raise ConfigurationError(str(exc)) from None
    password = settings.smtp_password
    return {
        "email": SmtpChannel(
            url=settings.smtp_url,
            password=password.get_secret_value() if password else None,
            sender=settings.smtp_from,
            timeout_s=settings.smtp_timeout_s,
            attachment_limit_mb=settings.email_attachment_limit_mb,
            public_url=settings.public_url,
        ),
        "storage": open_storage(
            settings.resolved_delivery_url,
            endpoint_url=settings.s3_endpoint_url,
            kms_key_id=settings.s3_kms_key_id,
        ),
        "webhook": WebhookChannel(
            key=webhook_key, allowlist=allowlist, timeout_s=settings.webhook_timeout_s
        ),
    }
