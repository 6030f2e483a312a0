"""The pure keyed chain (reportgen.domain.audit): the sealing recipe and tamper detection."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reportgen.domain.audit import (
    GENESIS_HASH,
    AuditEvent,
    ChainHead,
    event_hash,
    make_event,
    verify_chain,
)

T0 = datetime(2025, 5, 1, 9, 30, tzinfo=UTC)
OUTCOMES = ("allowed", "denied", "succeeded", "failed")
KEY = b"the deployment's audit key, for these tests"

# What actor and target may hold: no NUL (PostgreSQL text cannot), no lone surrogates.
TEXT_CHARACTERS = st.characters(codec="utf-8", exclude_characters="\x00")
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
event_fields = st.fixed_dictionaries(
    {
        "actor": st.text(TEXT_CHARACTERS, min_size=1, max_size=12),
        "action": st.sampled_from(["report.view", "report.export", "schedule.save", "user.add"]),
        "target": st.text(TEXT_CHARACTERS, max_size=12),
        "outcome": st.sampled_from(OUTCOMES),
        "details": st.dictionaries(st.text(max_size=6), json_values, max_size=3),
    }
)


def build_chain(fields: list[dict[str, Any]]) -> list[AuditEvent]:
    chain: list[AuditEvent] = []
    prev_seq, prev_hash = 0, GENESIS_HASH
    for offset, values in enumerate(fields):
        event = make_event(
            prev_seq, prev_hash, key=KEY, at=T0 + timedelta(seconds=offset), **values
        )
        chain.append(event)
        prev_seq, prev_hash = event.seq, event.hash
    return chain


def tamper(event: AuditEvent, field: str) -> AuditEvent:
    """The event with one field changed to a different value (not re-hashed)."""
    changes: dict[str, Any] = {
        "actor": event.actor + "x",
        "action": event.action + "x",
        "target": event.target + "x",
        "outcome": next(o for o in OUTCOMES if o != event.outcome),
        "details": {**event.details, "\x7ftampered": True},
        "at": event.at + timedelta(microseconds=1),
        "prev_hash": ("1" if event.prev_hash[0] == "0" else "0") + event.prev_hash[1:],
        "hash": ("1" if event.hash[0] == "0" else "0") + event.hash[1:],
        "seq+": event.seq + 3,
        "seq-": event.seq - 1,
    }
    key = "seq" if field.startswith("seq") else field
    return event.model_copy(update={key: changes[field]})


def test_the_hash_is_the_documented_hmac() -> None:
    at = datetime(2025, 5, 1, 11, 30, 0, 5, tzinfo=timezone(timedelta(hours=2)))
    details = {"rows": 3, "filters": {"region": ["EMEA"]}, "note": "Zürich"}
    document = (
        '{"action":"report.export","actor":"alice","at":"2025-05-01T09:30:00.000005+00:00",'
        '"details":{"filters":{"region":["EMEA"]},"note":"Zürich","rows":3},'
        '"outcome":"succeeded","prev_hash":"' + GENESIS_HASH + '","seq":1,"target":"report:42"}'
    )
    expected = hmac.new(KEY, document.encode("utf-8"), hashlib.sha256).hexdigest()

    actual = event_hash(
        GENESIS_HASH, 1, at, "alice", "report.export", "report:42", "succeeded", details, key=KEY
    )

    assert actual == expected
    # Not the plain SHA-256 anyone could recompute, and another key gives another chain.
    assert actual != hashlib.sha256(document.encode("utf-8")).hexdigest()
    other = event_hash(
        GENESIS_HASH, 1, at, "alice", "report.export", "report:42", "succeeded", details, key=b"x"
    )
    assert other != actual


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="non-empty key"):
        event_hash(GENESIS_HASH, 1, T0, "a", "b", "c", "allowed", {}, key=b"")


def test_the_hash_does_not_depend_on_key_order_or_time_zone() -> None:
    paris = T0.astimezone(timezone(timedelta(hours=2)))
    first = event_hash(GENESIS_HASH, 1, T0, "a", "b", "c", "allowed", {"x": 1, "y": 2}, key=KEY)
    second = event_hash(GENESIS_HASH, 1, paris, "a", "b", "c", "allowed", {"y": 2, "x": 1}, key=KEY)

    assert first == second


def test_naive_times_and_non_json_details_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        event_hash(GENESIS_HASH, 1, datetime(2025, 1, 1), "a", "b", "c", "allowed", {}, key=KEY)
    with pytest.raises(ValueError, match="JSON"):
        make_event(
            0,
            GENESIS_HASH,
            key=KEY,
            at=T0,
            actor="a",
            action="b",
            target="c",
            outcome="allowed",
            details={"when": T0},
        )
    with pytest.raises(ValueError, match="Out of range float"):
        make_event(
            0,
            GENESIS_HASH,
            key=KEY,
            at=T0,
            actor="a",
            action="b",
            target="c",
            outcome="allowed",
            details={"x": float("nan")},
        )


def test_details_are_stored_as_the_json_they_were_hashed_as() -> None:
    event = make_event(
        0,
        GENESIS_HASH,
        key=KEY,
        at=T0,
        actor="a",
        action="b",
        target="c",
        outcome="denied",
        details={"ids": (1, 2)},
    )

    assert event.details == {"ids": [1, 2]}
    assert event.hash == event.computed_hash(KEY)


def test_an_empty_chain_is_intact() -> None:
    report = verify_chain([], key=KEY)

    assert report.ok
    assert report.checked == 0
    assert report.head_seq is None


def test_the_first_event_must_start_from_genesis() -> None:
    event = make_event(
        0, "f" * 64, key=KEY, at=T0, actor="a", action="b", target="c", outcome="allowed"
    )

    report = verify_chain([event], key=KEY)

    assert not report.ok
    assert report.first_broken_seq == 1
    assert report.reason == "event 1 does not start the chain (prev_hash mismatch)"


def test_a_missing_first_event_is_named() -> None:
    chain = build_chain(
        [{"actor": "a", "action": "b", "target": "c", "outcome": "allowed", "details": {}}] * 3
    )

    report = verify_chain(chain[1:], key=KEY)

    assert report.first_broken_seq == 1
    assert report.reason == "event 1 is missing (the chain starts at 2)"


def test_a_rehashed_event_breaks_the_link_to_the_next() -> None:
    chain = build_chain(
        [{"actor": "a", "action": "b", "target": "c", "outcome": "allowed", "details": {}}] * 3
    )
    forged = tamper(chain[1], "actor")
    chain[1] = forged.model_copy(update={"hash": forged.computed_hash(KEY)})

    report = verify_chain(chain, key=KEY)

    assert report.first_broken_seq == 3
    assert report.reason == "event 3 does not follow event 2 (prev_hash mismatch)"
    assert report.checked == 2


@settings(max_examples=100, deadline=None)
@given(st.lists(event_fields, max_size=8))
def test_any_chain_built_by_make_event_verifies(fields: list[dict[str, Any]]) -> None:
    chain = build_chain(fields)

    report = verify_chain(chain, key=KEY)

    assert report.ok
    assert report.checked == len(chain)
    assert report.head_hash == (chain[-1].hash if chain else None)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(event_fields, min_size=1, max_size=8),
    st.data(),
    st.sampled_from(
        [
            "actor",
            "action",
            "target",
            "outcome",
            "details",
            "at",
            "prev_hash",
            "hash",
            "seq+",
            "seq-",
            "delete",
        ]
    ),
)
def test_tampering_with_any_single_event_is_detected(
    fields: list[dict[str, Any]], data: st.DataObject, how: str
) -> None:
    chain = build_chain(fields)
    # Removing the last event is invisible to the chain alone (that is what head_hash is for).
    last = len(chain) - 1 if how == "delete" else len(chain)
    assume(last >= 1)
    index = data.draw(st.integers(min_value=0, max_value=last - 1), label="index")
    if how == "delete":
        del chain[index]
    else:
        chain[index] = tamper(chain[index], how)

    report = verify_chain(chain, key=KEY)

    assert not report.ok
    assert report.checked == index  # everything before the tampered event is still intact
    assert report.reason is not None
    if how not in ("seq-",):
        assert report.first_broken_seq == index + 1
        assert f"event {index + 1} " in report.reason


@pytest.mark.parametrize("text", ["a\x00b", "\ud800"])
def test_text_no_backend_can_store_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="target"):
        make_event(
            0, GENESIS_HASH, key=KEY, at=T0, actor="a", action="b", target=text, outcome="allowed"
        )


def simple_chain(length: int) -> list[AuditEvent]:
    return build_chain(
        [{"actor": "a", "action": "b", "target": "c", "outcome": "allowed", "details": {}}] * length
    )


def test_a_chain_sealed_with_another_key_is_altered() -> None:
    chain = simple_chain(3)

    report = verify_chain(chain, key=b"another deployment's key")

    assert report.first_broken_seq == 1
    assert report.reason == "event 1 was altered (hash mismatch)"


def test_a_chain_reaching_its_recorded_head_is_intact() -> None:
    chain = simple_chain(4)
    anchor = ChainHead(seq=3, hash=chain[2].hash)  # the head may lag the chain

    report = verify_chain(chain, key=KEY, anchor=anchor)

    assert report.ok
    assert report.anchored_seq == 3
    assert report.head_seq == 4


def test_a_chain_shorter_than_its_recorded_head_lost_its_newest_events() -> None:
    chain = simple_chain(5)
    anchor = ChainHead(seq=5, hash=chain[4].hash)

    report = verify_chain(chain[:3], key=KEY, anchor=anchor)

    assert not report.ok
    assert report.first_broken_seq == 4
    assert report.checked == 3
    assert report.reason == (
        "events after 3 were removed (the head recorded outside the database is event 5)"
    )


def test_a_chain_that_differs_at_its_recorded_head_was_rewritten() -> None:
    chain = simple_chain(4)
    anchor = ChainHead(seq=2, hash="ab" * 32)

    report = verify_chain(chain, key=KEY, anchor=anchor)

    assert not report.ok
    assert report.first_broken_seq == 2
    assert report.checked == 1
    assert report.reason is not None and "not the event recorded as the head" in report.reason


def test_a_damaged_event_is_reported_as_altered_with_its_damage() -> None:
    chain = simple_chain(3)
    stored = chain[1].model_dump() | {"details": "{oops"}
    chain[1] = AuditEvent.damaged("its details are not a JSON object", **stored)

    report = verify_chain(chain, key=KEY)

    assert report.first_broken_seq == 2
    assert report.reason == "event 2 was altered (its details are not a JSON object)"


@settings(max_examples=100, deadline=None)
@given(st.lists(event_fields, min_size=1, max_size=8), st.data())
def test_removing_any_number_of_newest_events_is_detected_with_the_head(
    fields: list[dict[str, Any]], data: st.DataObject
) -> None:
    chain = build_chain(fields)
    anchor = ChainHead(seq=chain[-1].seq, hash=chain[-1].hash)
    kept = data.draw(st.integers(min_value=0, max_value=len(chain) - 1), label="kept")

    report = verify_chain(chain[:kept], key=KEY, anchor=anchor)

    assert not report.ok
    assert report.first_broken_seq == kept + 1
    assert report.reason is not None and f"events after {kept} were removed" in report.reason
