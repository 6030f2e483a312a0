"""The SSRF guard for webhooks: a URL may only reach public addresses unless an admin allows it.

`guard_url` parses the URL, resolves its host once and refuses it when any address is private,
loopback, link-local (cloud metadata at 169.254.169.254 included), multicast, reserved or
unspecified, looking through IPv6 forms that embed an IPv4 address (``::ffff:127.0.0.1``,
6to4, Teredo, NAT64). The caller then connects to the address that was checked rather than
resolving the name again, so a DNS answer that changes between the check and the call (DNS
rebinding) cannot move the request inside the network.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from reportgen.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]

ALLOWLIST_VARIABLE = "REPORTGEN_WEBHOOK_ALLOWLIST"
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT, not reachable publicly
_DEFAULT_PORTS = {"http": 80, "https": 443}


class HostUnresolved(InvalidInput):
    """The webhook's host name has no address right now (a typo, or DNS is down)."""


@dataclass(frozen=True)
class Allowlist:
    """Host names and networks webhooks may reach although they are not public."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Allowlist:
        """Read the comma-separated setting; a bad entry names itself and the expected form."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in text.split(","):
            entry = raw.strip()
            if not entry:
                continue
            if any(ch.isdigit() for ch in entry) and ("/" in entry or _is_address(entry)):
                try:
                    networks.append(ipaddress.ip_network(entry, strict=False))
                except ValueError:
                    raise InvalidInput(
                        f"{ALLOWLIST_VARIABLE}: {entry!r} is neither a host name nor a CIDR range"
                        " such as 10.20.0.0/16"
                    ) from None
            else:
                hosts.add(entry.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)


@dataclass(frozen=True)
class GuardedUrl:
    """A URL that passed the guard, with the address to connect to instead of its host name."""

    url: str
    scheme: str
    host: str
    port: int
    address: str


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host` (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def guard_url(url: str, allowlist: Allowlist, *, resolve: Resolver = system_resolver) -> GuardedUrl:
    """Check `url` and resolve it once; raise `InvalidInput` saying why it may not be called.

    `HostUnresolved` (a subclass) means the name has no address at the moment.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidInput(
            f"webhook URL {url} must start with https:// (such as https://hooks.example.com/x)"
        )
    try:
        host = parts.hostname or ""
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        raise InvalidInput(
            f"webhook URL {url} has a port that is not a number from 1 to 65535"
        ) from None
    if not host:
        raise InvalidInput(f"webhook URL {url} names no host; use https://host/path")
    if parts.username or parts.password:
        raise InvalidInput(
            f"webhook URL {url} carries a user name or password; put the secret in the path"
            " or rely on the X-Reportgen-Signature header instead"
        )
    try:
        addresses = [_unscoped(a) for a in ([host] if _is_address(host) else resolve(host, port))]
    except (OSError, UnicodeError) as exc:
        raise HostUnresolved(
            f"webhook URL {url}: the host {host} could not be resolved ({exc}); check the name"
        ) from None
    if not addresses:
        raise HostUnresolved(f"webhook URL {url}: the host {host} has no address; check the name")
    host_allowed = allowlist.allows_host(host) or all(map(allowlist.allows_address, addresses))
    if scheme != "https" and not host_allowed:
        raise InvalidInput(
            f"webhook URL {url} uses http; use https:// so the report travels encrypted"
        )
    for address in addresses:
        kind = non_public_kind(address)
        if kind is not None and not host_allowed and not allowlist.allows_address(address):
            raise InvalidInput(
                f"webhook URL {url} resolves to {address}, {kind}; webhooks may only reach"
                " public addresses. Ask an admin to add the host to"
                f" {ALLOWLIST_VARIABLE} if it is intended."
            )
    return GuardedUrl(url, scheme, host, port, str(addresses[0]))


def non_public_kind(address: IPAddress) -> str | None:
    """Which non-public range `address` (or the IPv4 address it embeds) is in, or None."""
    # The embedded IPv4 address first: ::ffff:127.0.0.1 is best described as loopback.
    for candidate in reversed(_with_embedded(address)):
        kind = _kind(candidate)
        if kind is not None:
            return kind
    return None


def _kind(address: IPAddress) -> str | None:
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (where cloud metadata services live)"
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "a shared (carrier-grade NAT) address"
    if not address.is_global:
        return "a non-public address"
    return None


def _with_embedded(address: IPAddress) -> list[IPAddress]:
    """The address, then any IPv4 address an IPv6 form carries inside it."""
    found: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            found.append(address.ipv4_mapped)
        if address.sixtofour is not None:
            found.append(address.sixtofour)
        if address.teredo is not None:
            found.extend(address.teredo)
        if address in _NAT64:
            found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def _is_address(text: str) -> bool:
    try:
        _unscoped(text)
    except ValueError:
        return False
    return True


def _unscoped(text: str) -> IPAddress:
    """Parse an address, dropping an IPv6 zone (``fe80::1%eth0``) that getaddrinfo may add."""
    return ipaddress.ip_address(text.split("%", 1)[0])
