"""Webhook delivery: a signed JSON POST, or a Slack-compatible message, to a public URL.

The target is the webhook URL; ``slack+https://...`` (see `webhook_target`) asks for Slack's
``{"text", "blocks"}`` shape instead of our JSON, and so does any URL on hooks.slack.com, which
accepts nothing else. Every call carries
``X-Reportgen-Delivery`` (the delivery id, the same on a retry), ``X-Reportgen-Timestamp``
(Unix seconds) and ``X-Reportgen-Signature: sha256=<hex>``, an HMAC-SHA256 with the
deployment's webhook key over ``"<timestamp>.<body>"``, so a receiver can check the sender and
refuse replays.

The URL passes `netguard` at save time (`check_target`) and again at each send; the request
then goes to the address that was checked: the URL's host is swapped for that address, while
the ``Host`` header and the TLS server name (httpcore's ``sni_hostname`` extension, which also
drives certificate verification) keep the original name. That defeats DNS rebinding without a
custom transport. Redirects are never followed and proxy variables are ignored, since either
would send the request somewhere the guard did not check.

Each call has one deadline for everything (connect, TLS, sending, the answer's headers and
body), so a receiver that trickles a byte now and then cannot hold a worker past it; httpx's
own timeouts only bound each read. Each call also opens its own connection and closes it:
connections are pooled by the pinned address, so a pooled connection verified for one host
could otherwise carry the next call to another host on the same address.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import hmac
import json
import ssl
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from reportgen.delivery.netguard import Allowlist, GuardedUrl, HostUnresolved, Resolver, guard_url
from reportgen.delivery.netguard import system_resolver as _system_resolver
from reportgen.domain.delivery import Parcel, Receipt
from reportgen.domain.schedules import SLACK_PREFIX
from reportgen.errors import InvalidInput, PermanentDeliveryError, TransientDeliveryError

T = TypeVar("T")

SLACK_HOST = "hooks.slack.com"
USER_AGENT = "reportgen-webhook/1"


def webhook_target(url: str, *, slack: bool) -> str:
    """The channel target for a schedule's webhook: the URL, marked when Slack's shape is wanted."""
    return f"{SLACK_PREFIX}{url}" if slack else url


def sign(key: str, timestamp: str, body: bytes) -> str:
    """The ``X-Reportgen-Signature`` value for `body` sent at `timestamp`."""
    mac = hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


class WebhookChannel:
    """Delivers parcels to webhook URLs outside our network (kind ``"webhook"``)."""

    kind = "webhook"

    def __init__(
        self,
        *,
        key: str,
        allowlist: Allowlist,
        timeout_s: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        resolve: Resolver = _system_resolver,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._key = key
        self._allowlist = allowlist
        self._clock = clock
        self._resolve = resolve
        self._timeout_s = timeout_s
        self._tls = tls_context or httpx.create_ssl_context(trust_env=False)

    def close(self) -> None:
        """Nothing to release: every call opens and closes its own connection."""

    def check_target(self, target: str) -> None:
        _, url = _split_target(target)
        guard_url(url, self._allowlist, resolve=self._resolve)

    def send(self, parcel: Parcel, target: str) -> Receipt:
        slack, url = _split_target(target)
        shown = _display(url)
        try:
            guarded = guard_url(url, self._allowlist, resolve=self._resolve)
        except HostUnresolved as exc:
            raise TransientDeliveryError(
                f"webhook {shown} for {parcel.recipient}: {_without(exc, url, shown)}"
            ) from None
        except InvalidInput as exc:
            raise PermanentDeliveryError(
                f"webhook {shown} for {parcel.recipient}: {_without(exc, url, shown)}"
            ) from None
        payload = slack_message(parcel) if slack else webhook_payload(parcel)
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(self._clock().timestamp()))
        headers = {
            "Content-Type": "application/json",
            "Host": _host_header(guarded),
            "X-Reportgen-Delivery": parcel.delivery_id,
            "X-Reportgen-Timestamp": timestamp,
            "X-Reportgen-Signature": sign(self._key, timestamp, body),
        }
        pinned = httpx.URL(url).copy_with(host=guarded.address)
        try:
            response = _run_to_completion(self._post(pinned, body, headers, guarded.host))
        except (TimeoutError, httpx.TimeoutException):
            raise TransientDeliveryError(
                f"webhook {shown} for {parcel.recipient} did not answer in time"
                f" ({self._timeout_s:g} s)"
            ) from None
        except httpx.TransportError as exc:
            raise TransientDeliveryError(
                f"webhook {shown} for {parcel.recipient} could not be reached:"
                f" {type(exc).__name__}: {exc}"
            ) from None
        return _receipt(response, shown, parcel.recipient)

    async def _post(
        self, url: httpx.URL, body: bytes, headers: dict[str, str], server_name: str
    ) -> httpx.Response:
        """POST within the call's deadline, on a connection of this call's own."""
        async with (
            asyncio.timeout(self._timeout_s),
            httpx.AsyncClient(
                timeout=httpx.Timeout(self._timeout_s),
                limits=httpx.Limits(max_keepalive_connections=0),
                follow_redirects=False,
                trust_env=False,
                verify=self._tls,
                headers={"User-Agent": USER_AGENT},
            ) as client,
        ):
            return await client.post(
                url, content=body, headers=headers, extensions={"sni_hostname": server_name}
            )


def webhook_payload(parcel: Parcel) -> dict[str, Any]:
    """Our JSON body: what was delivered, its summary, and each file with its checksum."""
    return {
        "report": parcel.report_title,
        "schedule": parcel.schedule_name,
        "run_id": parcel.run_id,
        "delivery_id": parcel.delivery_id,
        "generated_at": parcel.generated_at.astimezone(UTC).isoformat(),
        "classification": parcel.classification,
        "summary": list(parcel.summary),
        "kpis": [
            {"label": label, "value": value, "change": change}
            for label, value, change in parcel.kpis
        ],
        "files": [
            {
                "filename": f.filename,
                "sha256": f.sha256,
                "size": len(f.data),
                "url": parcel.links.get(f.filename),
            }
            for f in parcel.files
        ],
    }


def slack_message(parcel: Parcel) -> dict[str, Any]:
    """Slack's incoming-webhook shape: a fallback ``text`` and Block Kit ``blocks``."""
    title = f"{parcel.report_title} ({parcel.classification})"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
    ]
    if parcel.summary:
        text = "\n".join(_slack_escape(s) for s in parcel.summary)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}})
    if parcel.kpis:
        fields = [
            {"type": "mrkdwn", "text": _slack_escape(f"*{label}*\n{value} {change}".strip())}
            for label, value, change in parcel.kpis[:10]  # Slack allows ten fields a section
        ]
        blocks.append({"type": "section", "fields": fields})
    links = [
        f"<{url}|{_slack_escape(name)}>"
        for name, url in parcel.links.items()
        if url.startswith(("https://", "http://"))
    ]
    if links:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": " · ".join(links)}})
    generated = parcel.generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": _slack_escape(
                        f"{parcel.schedule_name} · generated {generated} · {parcel.classification}"
                    ),
                }
            ],
        }
    )
    return {"text": f"{title}: {parcel.schedule_name}", "blocks": blocks}


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _split_target(target: str) -> tuple[bool, str]:
    if target.startswith(SLACK_PREFIX):
        return True, target.removeprefix(SLACK_PREFIX)
    return (urlsplit(target).hostname or "").lower() == SLACK_HOST, target


def _display(url: str) -> str:
    """The URL without its path and query, which often hold the hook's secret (Slack, Teams)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…"


def _without(exc: Exception, url: str, shown: str) -> str:
    return str(exc).replace(url, shown)


def _host_header(guarded: GuardedUrl) -> str:
    host = f"[{guarded.host}]" if ":" in guarded.host else guarded.host
    default = {"http": 80, "https": 443}[guarded.scheme]
    return host if guarded.port == default else f"{host}:{guarded.port}"


def _receipt(response: httpx.Response, shown: str, recipient: str) -> Receipt:
    status = response.status_code
    if 200 <= status < 300:
        return Receipt(f"webhook {shown} answered HTTP {status}")
    answer = response.text[:200].strip()
    message = f"webhook {shown} for {recipient} answered HTTP {status}" + (
        f": {answer}" if answer else ""
    )
    if status == 429 or status >= 500:
        raise TransientDeliveryError(message)
    if 300 <= status < 400:
        raise PermanentDeliveryError(
            f"{message}; redirects are not followed, so point the schedule at the final URL"
        )
    raise PermanentDeliveryError(message)


def _run_to_completion(call: Coroutine[Any, Any, T]) -> T:
    """Run ``call`` on an event loop of its own, in this thread when it runs no loop already,
    else in a short-lived thread (a caller inside an event loop cannot block on a new one)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(call)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="webhook") as pool:
        return pool.submit(asyncio.run, call).result()
