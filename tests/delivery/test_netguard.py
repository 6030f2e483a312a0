"""The webhook SSRF guard: every non-public range is refused unless an admin allow-lists it."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from reportgen.delivery.netguard import Allowlist, HostUnresolved, guard_url
from reportgen.errors import InvalidInput

NOTHING = Allowlist()


def resolving_to(*addresses: str) -> object:
    def resolve(host: str, port: int) -> Sequence[str]:
        return addresses

    return resolve


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("10.0.0.5", "a private address"),
        ("172.16.4.1", "a private address"),
        ("172.31.255.254", "a private address"),
        ("192.168.1.10", "a private address"),
        ("127.0.0.1", "a loopback address"),
        ("127.8.9.10", "a loopback address"),
        ("[::1]", "a loopback address"),
        ("169.254.169.254", "a link-local address"),
        ("[fe80::1]", "a link-local address"),
        ("[::ffff:127.0.0.1]", "a loopback address"),
        ("[::ffff:10.0.0.1]", "a private address"),
        ("0.0.0.0", "an unspecified address"),  # noqa: S104 - the address under test
        ("[::]", "an unspecified address"),
        ("224.0.0.251", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("100.64.0.1", "a shared (carrier-grade NAT) address"),
        ("[fc00::1]", "a private address"),
        ("[2002:7f00:1::]", "a loopback address"),  # 6to4 wrapping 127.0.0.1
        ("[64:ff9b::a00:1]", "a private address"),  # NAT64 wrapping 10.0.0.1
    ],
)
def test_every_non_public_range_is_refused(address: str, kind: str) -> None:
    url = f"https://{address}/hook"
    with pytest.raises(InvalidInput) as caught:
        guard_url(url, NOTHING)
    message = str(caught.value)
    assert kind in message
    assert message.startswith(f"webhook URL {url} resolves to ")
    assert "REPORTGEN_WEBHOOK_ALLOWLIST" in message


def test_the_message_says_what_is_wrong_and_how_to_fix_it() -> None:
    with pytest.raises(InvalidInput) as caught:
        guard_url("https://10.0.0.5/hook", NOTHING)
    assert str(caught.value) == (
        "webhook URL https://10.0.0.5/hook resolves to 10.0.0.5, a private address; webhooks"
        " may only reach public addresses. Ask an admin to add the host to"
        " REPORTGEN_WEBHOOK_ALLOWLIST if it is intended."
    )


def test_a_host_name_resolving_inside_the_network_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"resolves to 10\.1\.2\.3, a private address"):
        guard_url("https://hooks.example.com/x", NOTHING, resolve=resolving_to("10.1.2.3"))


def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    resolve = resolving_to("93.184.216.34", "192.168.0.7")
    with pytest.raises(InvalidInput, match=r"192\.168\.0\.7"):
        guard_url("https://hooks.example.com/x", NOTHING, resolve=resolve)


def test_localhost_is_refused_through_the_system_resolver() -> None:
    with pytest.raises(InvalidInput, match="a loopback address"):
        guard_url("https://localhost/hook", NOTHING)


def test_a_public_address_passes_and_is_the_one_to_connect_to() -> None:
    guarded = guard_url(
        "https://hooks.example.com:8443/x", NOTHING, resolve=resolving_to("93.184.216.34")
    )
    assert (guarded.host, guarded.port, guarded.address) == (
        "hooks.example.com",
        8443,
        "93.184.216.34",
    )


@pytest.mark.parametrize(
    ("url", "fault"),
    [
        ("ftp://hooks.example.com/x", "must start with https://"),
        ("file:///etc/passwd", "must start with https://"),
        ("http://hooks.example.com/x", "uses http; use https://"),
        ("https:///x", "names no host"),
        ("https://user:pw@hooks.example.com/x", "carries a user name or password"),
        ("https://hooks.example.com:99999/x", "port that is not a number"),
    ],
)
def test_malformed_urls_are_refused(url: str, fault: str) -> None:
    with pytest.raises(InvalidInput, match=fault):
        guard_url(url, NOTHING, resolve=resolving_to("93.184.216.34"))


def test_an_unresolvable_host_is_reported_as_such() -> None:
    with pytest.raises(HostUnresolved, match="could not be resolved"):
        guard_url("https://no-such-host.invalid/x", NOTHING)


def test_allowlisted_hosts_and_ranges_may_be_reached() -> None:
    allow = Allowlist.parse(" hooks.internal , 10.20.0.0/16,127.0.0.1,")
    assert allow.hosts == frozenset({"hooks.internal"})
    guard_url("https://hooks.internal/x", allow, resolve=resolving_to("10.9.9.9"))
    guard_url("https://10.20.3.4/x", allow)
    guard_url("http://127.0.0.1:8080/x", allow)  # http is allowed for an allow-listed host
    with pytest.raises(InvalidInput, match=r"10\.21\.0\.1, a private address"):
        guard_url("https://10.21.0.1/x", allow)
    with pytest.raises(InvalidInput, match="uses http"):
        guard_url("http://10.21.0.1/x", allow)


def test_a_bad_allowlist_entry_names_itself() -> None:
    with pytest.raises(InvalidInput, match=r"'10\.0\.0\.0/33' is neither a host name nor a CIDR"):
        Allowlist.parse("10.0.0.0/33")
