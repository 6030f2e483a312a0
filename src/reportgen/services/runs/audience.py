"""Who a run sends to, and as whom each of them sees the report.

Recipients are resolved to accounts: a username to that user, a role to every enabled user
holding it, an address to the account with that address. With ``run_as=recipient`` (bursting,
the default) recipients are grouped by their effective policy (roles and the attributes row
policies read), so the report is rendered once per group and each recipient gets the version
their permissions allow. An address that maps to no account gets nothing: fail closed. With
``run_as=owner`` everyone gets the owner's view, which the owner chose to share.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from reportgen.domain.catalog import PRINCIPAL_ATTRIBUTES
from reportgen.domain.principal import Principal, User
from reportgen.domain.schedules import (
    Channel,
    RecipientKind,
    RunAs,
    Schedule,
    StorageChannel,
    WebhookChannel,
)

UNMAPPED = "no account maps to this address; the owner has not shared their view"


@dataclass(frozen=True)
class Member:
    """One address a report goes to, and the account behind it (None when there is none)."""

    address: str
    username: str | None


@dataclass(frozen=True)
class Audience:
    """Recipients who see the same thing: one render serves them all."""

    key: str
    principal: Principal
    members: tuple[Member, ...]


@dataclass(frozen=True)
class Unreachable:
    """A recipient who gets nothing, and why."""

    address: str
    reason: str


@dataclass(frozen=True)
class Plan:
    audiences: tuple[Audience, ...]
    unreachable: tuple[Unreachable, ...]
    owner: Audience  # the owner's view: what storage and webhook channels receive


def policy_key(principal: Principal) -> str:
    """The parts of a principal that decide what a report shows, as one stable string."""
    roles = ",".join(sorted(principal.roles))
    attributes = ";".join(
        f"{name}={','.join(sorted(values))}"
        for name, values in sorted(principal.attributes.items())
        if name in PRINCIPAL_ATTRIBUTES
    )
    return f"roles={roles}|{attributes}"


def _group_principal(members: list[User]) -> Principal:
    first = members[0].principal()
    if len(members) == 1:
        return first
    # The document says whom it was made for; a shared render names the group, not one person.
    return first.model_copy(update={"display_name": f"{len(members)} recipients"})


def plan_audience(schedule: Schedule, owner: User, users: Iterable[User]) -> Plan:
    """Resolve the schedule's recipients into audiences (one render each) and the unreachable."""
    active = [u for u in users if not u.disabled]
    by_name = {u.username: u for u in active}
    by_address = {u.email.lower(): u for u in active if u.email}
    found: dict[str, User | None] = {}  # address -> account, in recipient order
    unreachable: dict[str, str] = {}
    for recipient in schedule.recipients:
        match recipient.kind:
            case RecipientKind.USER:
                user = by_name.get(recipient.value)
                if user is None:
                    unreachable[recipient.value] = f"there is no active account {recipient.value!r}"
                elif not user.email:
                    unreachable[user.username] = f"{user.username} has no email address"
                else:
                    found.setdefault(user.email.lower(), user)
            case RecipientKind.ROLE:
                for user in active:
                    if recipient.value in user.roles and user.email:
                        found.setdefault(user.email.lower(), user)
            case RecipientKind.EMAIL:
                address = recipient.value.strip().lower()
                found.setdefault(address, by_address.get(address))
    owner_audience = Audience(
        policy_key(owner.principal()),
        owner.principal(),
        (),
    )
    if schedule.run_as is RunAs.OWNER:
        members = tuple(Member(a, u.username if u else None) for a, u in found.items())
        owner_audience = Audience(owner_audience.key, owner.principal(), members)
        return Plan((owner_audience,) if members else (), _unreachable(unreachable), owner_audience)
    groups: dict[str, list[tuple[str, User]]] = {}
    for address, user in found.items():
        if user is None:
            unreachable[address] = UNMAPPED
            continue
        groups.setdefault(policy_key(user.principal()), []).append((address, user))
    audiences = tuple(
        Audience(
            key,
            _group_principal([u for _, u in pairs]),
            tuple(Member(address, user.username) for address, user in pairs),
        )
        for key, pairs in groups.items()
    )
    return Plan(audiences, _unreachable(unreachable), owner_audience)


def _unreachable(reasons: dict[str, str]) -> tuple[Unreachable, ...]:
    return tuple(Unreachable(address, reason) for address, reason in reasons.items())


def channel_target(channel: Channel) -> tuple[str, str]:
    """(target handed to the channel, recipient recorded on the delivery) for a storage or
    webhook channel. A webhook URL may carry a secret (Slack's do), so only its host and a
    digest are recorded."""
    if isinstance(channel, StorageChannel):
        return channel.prefix, channel.prefix or "/"
    if isinstance(channel, WebhookChannel):
        digest = hashlib.sha256(channel.url.encode()).hexdigest()[:12]
        return channel.target, f"{urlsplit(channel.url).hostname or 'webhook'}#{digest}"
    raise ValueError(f"{channel.kind} channels go to recipients, not to one target")
