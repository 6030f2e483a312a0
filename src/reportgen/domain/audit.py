"""The audit trail as a keyed hash chain: what an event is, how it is sealed and checked.

Each event's ``hash`` is an HMAC-SHA256, keyed by the deployment's audit key, of its own fields
plus the previous event's hash. Altering, removing or reordering any stored event breaks every
check after it, and whoever can write the database but does not hold the key cannot recompute
the chain after a rewrite. Removing the newest events leaves a shorter chain that is intact by
itself: `ChainHead` is the newest event's position, kept outside the database, and
`verify_chain` compares the stored chain against it. Pure: the store persists events and the
head, this module only computes and verifies.

The MAC'd bytes are the UTF-8 of a canonical JSON object with the keys ``action``, ``actor``,
``at``, ``details``, ``outcome``, ``prev_hash``, ``seq`` and ``target``: keys sorted at every
level, no whitespace, non-ASCII kept as is, ``at`` as ISO-8601 UTC with microseconds
(``2024-05-01T09:30:00.000000+00:00``). Anyone holding the key can re-verify an exported log
with that recipe.

`audit_context` adds details to every event recorded inside a block: a door says who really
acted and through what (``operator``, ``via``) without each service passing it along.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    PrivateAttr,
    StringConstraints,
    field_validator,
)

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first event of a chain."""

AuditOutcome = Literal["allowed", "denied", "succeeded", "failed"]

# Bounds match the audit_events columns, so an event that validates fits every backend
# (PostgreSQL text cannot hold NUL characters).
_NO_NUL = r"^[^\x00]*$"
Actor = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=_NO_NUL)]
Action = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=_NO_NUL)]
Target = Annotated[str, StringConstraints(max_length=500, pattern=_NO_NUL)]

_CONTEXT: ContextVar[Mapping[str, JsonValue]] = ContextVar(
    "reportgen_audit_context", default=MappingProxyType({})
)


@contextmanager
def audit_context(**details: JsonValue) -> Iterator[None]:
    """Within the block, every audit event also records ``details`` (nested blocks add up).

    The context's keys win over an event's own details of the same name: the door that set them
    knows who is acting and how better than the service that records the event.
    """
    token = _CONTEXT.set(MappingProxyType({**_CONTEXT.get(), **details}))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def context_details() -> dict[str, JsonValue]:
    """The details the current `audit_context` adds to every event (empty outside one)."""
    return dict(_CONTEXT.get())


def canonical_json(value: object) -> str:
    """The one JSON text of a value: sorted keys, no whitespace. NaN and infinities are refused."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _utc_iso(at: datetime) -> str:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"audit timestamps must be timezone-aware, got {at.isoformat()}")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(  # noqa: PLR0917 - the chain's fields, in the order they are documented
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    outcome: str,
    details: Mapping[str, object],
    *,
    key: bytes,
) -> str:
    """The HMAC-SHA256 (lower-case hex) that chains an event to its predecessor.

    Raises ``ValueError`` for an empty key, a naive ``at`` or details that are not plain JSON.
    """
    if not key:
        raise ValueError("the audit chain needs a non-empty key")
    document = {
        "action": action,
        "actor": actor,
        "at": _utc_iso(at),
        "details": dict(details),
        "outcome": outcome,
        "prev_hash": prev_hash,
        "seq": seq,
        "target": target,
    }
    return hmac.new(key, canonical_json(document).encode("utf-8"), hashlib.sha256).hexdigest()


class AuditEvent(BaseModel):
    """One recorded action: who did what to which thing, whether it was allowed, and when."""

    model_config = ConfigDict(frozen=True)

    seq: int = Field(ge=1)
    at: datetime
    actor: Actor
    action: Action
    target: Target
    outcome: AuditOutcome
    details: dict[str, JsonValue] = Field(default_factory=dict)
    prev_hash: str
    hash: str
    _damage: str | None = PrivateAttr(default=None)

    @field_validator("at")
    @classmethod
    def _at_is_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("must be timezone-aware")
        return value.astimezone(UTC)

    @classmethod
    def damaged(cls, problem: str, **stored: object) -> AuditEvent:
        """A stored row that cannot be read back as an event; its fields hold the raw values."""
        event = cls.model_construct(**stored)  # type: ignore[arg-type]
        event._damage = problem
        return event

    @property
    def damage(self) -> str | None:
        """Why the stored row could not be read (its fields are then raw), or None."""
        return self._damage

    def computed_hash(self, key: bytes) -> str:
        """The MAC this event's fields call for; differs from ``hash`` if it was altered."""
        return event_hash(
            self.prev_hash,
            self.seq,
            self.at,
            self.actor,
            self.action,
            self.target,
            self.outcome,
            self.details,
            key=key,
        )


def make_event(
    prev_seq: int,
    prev_hash: str,
    *,
    key: bytes,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    outcome: AuditOutcome | str,
    details: Mapping[str, object] | None = None,
) -> AuditEvent:
    """The event that follows ``(prev_seq, prev_hash)``; pass ``(0, GENESIS_HASH)`` to start.

    Details are normalised through their canonical JSON first, so what is stored (and read back)
    is exactly what was hashed: tuples become lists, for instance. Raises ``ValueError`` (or
    pydantic's ``ValidationError``, a subclass) when a field is invalid.
    """
    try:
        plain = json.loads(canonical_json(dict(details or {})))
    except TypeError as error:  # an object json cannot encode
        raise ValueError(f"audit details must be plain JSON: {error}") from error
    seq = prev_seq + 1
    draft = AuditEvent(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        target=target,
        outcome=outcome,
        details=plain,
        prev_hash=prev_hash,
        hash=GENESIS_HASH,
    )
    return draft.model_copy(update={"hash": draft.computed_hash(key)})


class ChainHead(BaseModel):
    """The newest event of a chain, as recorded outside the database after each append."""

    model_config = ConfigDict(frozen=True)

    seq: int = Field(ge=1)
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")


class ChainReport(BaseModel):
    """The verdict on a chain: intact, or where and why it first breaks."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    checked: int = Field(description="Events verified intact before the first break (or all).")
    first_broken_seq: int | None = None
    reason: str | None = None
    head_seq: int | None = Field(default=None, description="Last intact event.")
    head_hash: str | None = None
    anchored_seq: int | None = Field(
        default=None, description="The head recorded outside the database, when there is one."
    )


def verify_chain(
    events: Iterable[AuditEvent], *, key: bytes, anchor: ChainHead | None = None
) -> ChainReport:
    """Check events given in ``seq`` order: gap-free from 1, each intact, each linked to the last.

    With an ``anchor`` (the head recorded outside the database) the chain must also reach it and
    hold its hash there: fewer events means the newest were removed. Stops at the first problem.
    """
    prev: AuditEvent | None = None
    checked = 0
    anchored_seq = anchor.seq if anchor else None

    def broken(seq: int, reason: str) -> ChainReport:
        return ChainReport(
            ok=False,
            checked=checked,
            first_broken_seq=seq,
            reason=reason,
            head_seq=prev.seq if prev else None,
            head_hash=prev.hash if prev else None,
            anchored_seq=anchored_seq,
        )

    for event in events:
        expected_seq = prev.seq + 1 if prev else 1
        if event.seq > expected_seq:
            if prev is None:
                return broken(expected_seq, f"event 1 is missing (the chain starts at {event.seq})")
            return broken(
                expected_seq, f"event {expected_seq} is missing (sequence gap after {prev.seq})"
            )
        if event.seq < expected_seq:
            return broken(
                event.seq, f"event {event.seq} is out of order (expected event {expected_seq})"
            )
        if event.damage is not None:
            return broken(event.seq, f"event {event.seq} was altered ({event.damage})")
        try:
            intact = hmac.compare_digest(event.computed_hash(key), event.hash)
        except (TypeError, ValueError, AttributeError):  # a tampered row may not be hashable
            intact = False
        if not intact:
            return broken(event.seq, f"event {event.seq} was altered (hash mismatch)")
        if prev is None and event.prev_hash != GENESIS_HASH:
            return broken(event.seq, "event 1 does not start the chain (prev_hash mismatch)")
        if prev is not None and event.prev_hash != prev.hash:
            return broken(
                event.seq,
                f"event {event.seq} does not follow event {prev.seq} (prev_hash mismatch)",
            )
        if anchor is not None and event.seq == anchor.seq and event.hash != anchor.hash:
            return broken(
                event.seq,
                f"event {event.seq} is not the event recorded as the head outside the database"
                " (the chain was rewritten from here)",
            )
        checked += 1
        prev = event
    if anchor is not None and (prev is None or prev.seq < anchor.seq):
        last = prev.seq if prev else 0
        return broken(
            last + 1,
            f"events after {last} were removed (the head recorded outside the database is"
            f" event {anchor.seq})",
        )
    return ChainReport(
        ok=True,
        checked=checked,
        head_seq=prev.seq if prev else None,
        head_hash=prev.hash if prev else None,
        anchored_seq=anchored_seq,
    )
