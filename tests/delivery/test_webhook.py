"""WebhookChannel against a real HTTP(S) server on loopback: signature, Slack shape, failures."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from reportgen.delivery import Allowlist, WebhookChannel, webhook_target
from reportgen.errors import InvalidInput, PermanentDeliveryError, TransientDeliveryError
from tests.delivery.conftest import Certificate, free_port, make_parcel

KEY = "webhook-key-for-tests-0123456789abcdef"
NOW = datetime(2026, 11, 2, 7, 0, 5, tzinfo=UTC)
LOOPBACK_ONLY = Allowlist.parse("127.0.0.1")


@dataclass
class Hook:
    """A loopback HTTP server that records each request and answers with `status`."""

    port: int
    status: int = 204
    answer: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)
    hold: bool = False
    trickle: bytes = b""  # when set, the whole answer, sent a byte at a time
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    peers: list[tuple[str, int]] = field(default_factory=list)  # the client end of each request
    trickled: int = 0

    def url(self, path: str = "/hook/T000/secret-token", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


def _handler(hook: Hook, keep_alive: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.1 keeps the connection open for the next request, as most servers do.
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hook.requests.append((self.path, dict(self.headers.items()), body))
            hook.peers.append(self.client_address)
            if hook.hold:
                hook.release.wait(timeout=10)  # a stuck receiver, until the test lets go
            if hook.trickle:
                for byte in hook.trickle:  # a byte every 50 ms: each read is quick, the whole not
                    if hook.release.wait(timeout=0.05):
                        return
                    self.wfile.write(bytes([byte]))
                    hook.trickled += 1
                return
            self.send_response(hook.status)
            for name, value in hook.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(hook.answer)))
            self.end_headers()
            self.wfile.write(hook.answer)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


StartHook = Callable[..., Hook]


@pytest.fixture
def hook_server() -> Iterator[StartHook]:
    servers: list[tuple[ThreadingHTTPServer, Hook]] = []

    def start(tls: Certificate | None = None, *, keep_alive: bool = False) -> Hook:
        hook = Hook(port=0)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hook, keep_alive))
        if tls is not None:
            server.socket = tls.server.wrap_socket(server.socket, server_side=True)
        hook.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        servers.append((server, hook))
        return hook

    yield start
    for server, hook in servers:
        hook.release.set()
        server.shutdown()
        server.server_close()


def webhook(allowlist: Allowlist = LOOPBACK_ONLY, **options: Any) -> WebhookChannel:
    return WebhookChannel(
        key=KEY,
        allowlist=allowlist,
        timeout_s=options.pop("timeout_s", 5.0),
        clock=lambda: NOW,
        **options,
    )


def resolving_to(address: str) -> Callable[[str, int], Sequence[str]]:
    return lambda host, port: [address]


def test_json_body_is_signed_and_describes_every_file(hook_server: StartHook) -> None:
    hook = hook_server()
    parcel = make_parcel(links={"report.pdf": "https://reports.example.com/runs/run-42/report.pdf"})

    receipt = webhook().send(parcel, hook.url())

    assert "HTTP 204" in receipt.detail
    assert "secret-token" not in receipt.detail  # the hook's path is its secret
    [(path, headers, body)] = hook.requests
    assert path == "/hook/T000/secret-token"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Reportgen-Delivery"] == "dlv-0001"
    assert headers["X-Reportgen-Timestamp"] == str(int(NOW.timestamp()))
    expected = hmac.new(
        KEY.encode(), headers["X-Reportgen-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-Reportgen-Signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert payload["report"] == "Weekly sales"
    assert payload["schedule"] == "Monday 8:00"
    assert payload["run_id"] == "run-42"
    assert payload["delivery_id"] == "dlv-0001"
    assert payload["generated_at"] == "2026-11-02T07:00:00+00:00"
    assert payload["classification"] == "internal"
    assert payload["summary"][0] == "Revenue rose 12% to €1.2M."
    assert payload["kpis"][0] == {"label": "Revenue", "value": "€1.2M", "change": "+12%"}
    pdf = next(f for f in parcel.files if f.filename == "report.pdf")
    assert payload["files"][0] == {
        "filename": "report.pdf",
        "sha256": pdf.sha256,
        "size": len(pdf.data),
        "url": "https://reports.example.com/runs/run-42/report.pdf",
    }
    assert payload["files"][1]["url"] is None


def test_a_caller_inside_an_event_loop_can_send(hook_server: StartHook) -> None:
    hook = hook_server()

    async def inside_a_loop() -> str:
        return webhook().send(make_parcel(), hook.url()).detail

    assert "HTTP 204" in asyncio.run(inside_a_loop())
    assert len(hook.requests) == 1


def test_slack_mode_sends_text_and_blocks(hook_server: StartHook) -> None:
    hook = hook_server()
    webhook().send(make_parcel(), webhook_target(hook.url(), slack=True))

    [(_, headers, body)] = hook.requests
    message = json.loads(body)
    assert set(message) == {"text", "blocks"}
    assert message["text"] == "Weekly sales (internal): Monday 8:00"
    kinds = [block["type"] for block in message["blocks"]]
    assert kinds == ["header", "section", "section", "context"]
    assert message["blocks"][0]["text"]["text"] == "Weekly sales (internal)"
    assert "&lt;b&gt;€500k&lt;/b&gt;" in message["blocks"][1]["text"]["text"]
    assert message["blocks"][2]["fields"][0]["text"] == "*Revenue*\n€1.2M +12%"
    assert headers["X-Reportgen-Signature"].startswith("sha256=")


def test_the_request_goes_to_the_checked_address_under_the_original_name(
    hook_server: StartHook,
) -> None:
    # hooks.test exists only in this resolver: the request reaching the server proves httpx
    # connected to the address the guard checked instead of resolving the name again.
    hook = hook_server()
    channel = webhook(Allowlist.parse("hooks.test"), resolve=resolving_to("127.0.0.1"))

    channel.send(make_parcel(), hook.url(host="hooks.test"))

    assert hook.requests[0][1]["Host"] == f"hooks.test:{hook.port}"


def test_tls_is_verified_against_the_original_name(
    hook_server: StartHook, certificate: Certificate
) -> None:
    hook = hook_server(tls=certificate)
    allow = Allowlist.parse("localhost,hooks.test")
    channel = webhook(allow, resolve=resolving_to("127.0.0.1"), tls_context=certificate.client)
    url = f"https://localhost:{hook.port}/hook"

    channel.send(make_parcel(), url)  # the certificate names localhost: accepted
    with pytest.raises(TransientDeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        channel.send(make_parcel(), f"https://hooks.test:{hook.port}/hook")
    assert len(hook.requests) == 1


def test_a_rebinding_host_is_refused_at_send_time(hook_server: StartHook) -> None:
    answers = iter(["93.184.216.34", "10.0.0.5"])
    channel = webhook(Allowlist(), resolve=lambda host, port: [next(answers)])

    channel.check_target("https://hooks.example.com/x")  # public at save time
    with pytest.raises(PermanentDeliveryError, match=r"10\.0\.0\.5, a private address") as caught:
        channel.send(make_parcel(), "https://hooks.example.com/x")
    assert "https://hooks.example.com/…" in str(caught.value)


def test_loopback_is_refused_without_the_allowlist(hook_server: StartHook) -> None:
    hook = hook_server()
    channel = webhook(Allowlist())
    with pytest.raises(InvalidInput, match="uses http"):
        channel.check_target(hook.url())
    with pytest.raises(InvalidInput, match="a loopback address"):
        channel.check_target(f"https://127.0.0.1:{hook.port}/hook")
    with pytest.raises(PermanentDeliveryError, match="a loopback address"):
        channel.send(make_parcel(), f"slack+https://127.0.0.1:{hook.port}/hook")
    assert hook.requests == []


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, TransientDeliveryError),
        (503, TransientDeliveryError),
        (429, TransientDeliveryError),
        (400, PermanentDeliveryError),
        (404, PermanentDeliveryError),
    ],
)
def test_answers_are_sorted_into_transient_and_permanent(
    hook_server: StartHook, status: int, error: type[Exception]
) -> None:
    hook = hook_server()
    hook.status, hook.answer = status, b"no thanks"
    with pytest.raises(error, match=f"answered HTTP {status}: no thanks") as caught:
        webhook().send(make_parcel(), hook.url())
    assert "ana@example.com" in str(caught.value)
    assert "secret-token" not in str(caught.value)


def test_redirects_are_not_followed(hook_server: StartHook) -> None:
    hook = hook_server()
    hook.status, hook.headers = 302, {"Location": "http://169.254.169.254/latest/meta-data"}
    with pytest.raises(PermanentDeliveryError, match="redirects are not followed"):
        webhook().send(make_parcel(), hook.url())
    assert len(hook.requests) == 1


def test_a_receiver_that_does_not_answer_in_time_is_transient(hook_server: StartHook) -> None:
    hook = hook_server()
    hook.hold = True
    with pytest.raises(TransientDeliveryError, match="did not answer in time"):
        webhook(timeout_s=0.3).send(make_parcel(), hook.url())
    hook.release.set()


TRICKLED_HEADERS = b"HTTP/1.1 204 No Content\r\nX-Padding: " + b"x" * 100 + b"\r\n\r\n"
TRICKLED_BODY = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 100


@pytest.mark.parametrize("answer", [TRICKLED_HEADERS, TRICKLED_BODY], ids=["headers", "body"])
def test_a_receiver_trickling_its_answer_is_cut_off_at_the_deadline(
    hook_server: StartHook, answer: bytes
) -> None:
    # Each byte arrives well within the per-read timeout; only a deadline for the whole call
    # stops the trickle (without one the call takes 50 ms a byte, seconds in all, and succeeds).
    hook = hook_server()
    hook.trickle = answer
    with pytest.raises(TransientDeliveryError, match=r"did not answer in time \(0\.5 s\)"):
        webhook(timeout_s=0.5).send(make_parcel(), hook.url())
    assert 0 < hook.trickled < len(answer)
    hook.release.set()


def test_two_hosts_on_one_address_never_share_a_connection(hook_server: StartHook) -> None:
    # Both names resolve to the same pinned address, and the server keeps connections open:
    # a pooled connection opened (and, over TLS, verified) for one host must not carry the
    # other's call.
    hook = hook_server(keep_alive=True)
    channel = webhook(
        Allowlist.parse("a.hooks.test,b.hooks.test"), resolve=resolving_to("127.0.0.1")
    )

    channel.send(make_parcel(), hook.url(host="a.hooks.test"))
    channel.send(make_parcel(), hook.url(host="b.hooks.test"))
    channel.send(make_parcel(), hook.url(host="a.hooks.test"))

    hosts = [headers["Host"] for _, headers, _ in hook.requests]
    assert hosts == [
        f"{name}:{hook.port}" for name in ("a.hooks.test", "b.hooks.test", "a.hooks.test")
    ]
    assert len(set(hook.peers)) == 3  # a fresh connection for every call


def test_a_receiver_that_is_down_is_transient() -> None:
    with pytest.raises(TransientDeliveryError, match="could not be reached"):
        webhook().send(make_parcel(), f"http://127.0.0.1:{free_port()}/hook")


def test_a_slack_hook_url_gets_slack_shape_without_the_marker(hook_server: StartHook) -> None:
    hook = hook_server()
    channel = webhook(Allowlist.parse("hooks.slack.com"), resolve=resolving_to("127.0.0.1"))

    channel.send(make_parcel(), hook.url(host="hooks.slack.com"))

    assert set(json.loads(hook.requests[0][2])) == {"text", "blocks"}
