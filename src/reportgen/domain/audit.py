"""The audit trail as a hash chain: what an event is, how it is hashed, how a chain is checked.

Each event's ``hash`` is the SHA-256 of its own fields plus the previous event's hash, so
altering, removing or reordering any stored event breaks every check after it. Pure: the store
persists events, this module only computes and verifies.

The hashed bytes are the UTF-8 of a canonical JSON object with the keys ``action``, ``actor``,
``at``, ``details``, ``outcome``, ``prev_hash``, ``seq`` and ``target``: keys sorted at every
level, no whitespace, non-ASCII kept as is, ``at`` as ISO-8601 UTC with microseconds
(``2024-05-01T09:30:00.000000+00:00``). Anyone can re-verify an exported log with that recipe.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints, field_validator

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first event of a chain."""

AuditOutcome = Literal["allowed", "denied", "succeeded", "failed"]

# Bounds match the audit_events columns, so an event that validates fits every backend
# (PostgreSQL text cannot hold NUL characters).
_NO_NUL = r"^[^\x00]*$"
Actor = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=_NO_NUL)]
Action = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=_NO_NUL)]
Target = Annotated[str, StringConstraints(max_length=500, pattern=_NO_NUL)]


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
) -> str:
    """The SHA-256 (lower-case hex) that chains an event to its predecessor.

    Raises ``ValueError`` for a naive ``at`` or details that are not plain JSON.
    """
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
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


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

    @field_validator("at")
    @classmethod
    def _at_is_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("must be timezone-aware")
        return value.astimezone(UTC)

    def computed_hash(self) -> str:
        """The hash this event's fields call for; differs from ``hash`` if it was altered."""
        return event_hash(
            self.prev_hash,
            self.seq,
            self.at,
            self.actor,
            self.action,
            self.target,
            self.outcome,
            self.details,
        )


def make_event(
    prev_seq: int,
    prev_hash: str,
    *,
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
    return draft.model_copy(update={"hash": draft.computed_hash()})


class ChainReport(BaseModel):
    """The verdict on a chain: intact, or where and why it first breaks."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    checked: int = Field(description="Events verified intact before the first break (or all).")
    first_broken_seq: int | None = None
    reason: str | None = None
    head_seq: int | None = Field(
        default=None, description="Last intact event: anchor it elsewhere to detect truncation."
    )
    head_hash: str | None = None


def verify_chain(events: Iterable[AuditEvent]) -> ChainReport:
    """Check events given in ``seq`` order: gap-free from 1, each intact, each linked to the last.

    Stops at the first problem. Removing events from the end of a chain cannot be seen from the
    chain alone; compare ``head_seq``/``head_hash`` with a copy kept elsewhere for that.
    """
    prev: AuditEvent | None = None
    checked = 0

    def broken(seq: int, reason: str) -> ChainReport:
        return ChainReport(
            ok=False,
            checked=checked,
            first_broken_seq=seq,
            reason=reason,
            head_seq=prev.seq if prev else None,
            head_hash=prev.hash if prev else None,
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
        try:
            intact = event.computed_hash() == event.hash
        except (TypeError, ValueError):  # a tampered row may not even be hashable
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
        checked += 1
        prev = event
    return ChainReport(
        ok=True,
        checked=checked,
        head_seq=prev.seq if prev else None,
        head_hash=prev.hash if prev else None,
    )
