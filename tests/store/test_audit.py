"""AuditLog on both backends: the stored chain, its filters, tamper detection and concurrency."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from reportgen.domain.audit import GENESIS_HASH, ChainHead, audit_context, event_hash
from reportgen.errors import ConfigurationError, InternalError, InvalidInput
from reportgen.store import AuditLog, MetadataStore
from reportgen.store.audit_head import HeadAnchor
from reportgen.store.tables import ALL_TABLES, audit_events

from .conftest import AUDIT_KEY, clear_store

SQL = Callable[..., None]


def append_five(store: MetadataStore) -> None:
    for n in range(1, 6):
        store.audit.append(
            actor="alice" if n % 2 else "bob",
            action="report.view" if n < 4 else "report.export",
            target=f"report:{n}",
            outcome="allowed",
            details={"n": n, "filters": {"region": ["EMEA"]}},
        )


def stored_seqs(store: MetadataStore) -> list[int]:
    with store.engine.connect() as connection:
        return list(connection.execute(select(audit_events.c.seq).order_by("seq")).scalars())


def test_append_builds_a_valid_chain(store: MetadataStore) -> None:
    first = store.audit.append("alice", "report.view", "report:1", "allowed")
    second = store.audit.append("bob", "report.export", "report:1", "succeeded", {"rows": 10})

    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert second.hash == second.computed_hash(AUDIT_KEY)
    assert second.details == {"rows": 10}
    assert store.audit.list() == [second, first]  # read back exactly as returned
    report = store.audit.verify()
    assert report.ok
    assert report.checked == 2
    assert report.head_hash == second.hash


def test_details_round_trip_as_json(store: MetadataStore) -> None:
    details = {"ids": (1, 2), "nested": {"ok": True, "none": None, "ratio": 0.1}, "name": "Zoë"}

    event = store.audit.append("alice", "report.export", "report:7", "succeeded", details)

    assert event.details == {
        "ids": [1, 2],
        "nested": {"ok": True, "none": None, "ratio": 0.1},
        "name": "Zoë",
    }
    assert store.audit.list() == [event]
    assert store.audit.verify().ok


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"outcome": "maybe"}, "outcome"),
        ({"actor": ""}, "actor"),
        ({"actor": "x" * 201}, "actor"),
        ({"target": "report:\x00"}, "target"),
        ({"details": {"x": float("nan")}}, "invalid audit event"),
        ({"details": {"when": object()}}, "plain JSON"),
    ],
)
def test_malformed_events_are_refused(
    store: MetadataStore, fields: dict[str, Any], message: str
) -> None:
    values: dict[str, Any] = {
        "actor": "alice",
        "action": "report.view",
        "target": "report:1",
        "outcome": "allowed",
    }
    values.update(fields)
    with pytest.raises(InvalidInput, match=message):
        store.audit.append(**values)

    assert store.audit.count() == 0


def test_list_is_newest_first_and_filters(store: MetadataStore) -> None:
    append_five(store)
    everything = store.audit.list()

    assert [event.seq for event in everything] == [5, 4, 3, 2, 1]
    assert [e.seq for e in store.audit.list(actor="alice")] == [5, 3, 1]
    assert [e.seq for e in store.audit.list(action="report.export")] == [5, 4]
    assert [e.seq for e in store.audit.list(actor="bob", action="report.view")] == [2]
    assert [e.seq for e in store.audit.list(target="report:3")] == [3]
    assert [e.seq for e in store.audit.list(limit=2)] == [5, 4]
    third = everything[2].at
    assert [e.seq for e in store.audit.list(since=third)] == [
        e.seq for e in everything if e.at >= third
    ]
    assert [e.seq for e in store.audit.list(until=third)] == [
        e.seq for e in everything if e.at < third
    ]
    assert store.audit.list(since=everything[0].at + timedelta(seconds=1)) == []


def test_list_limit_is_bounded(store: MetadataStore) -> None:
    with pytest.raises(InvalidInput, match="limit"):
        store.audit.list(limit=0)


def test_an_empty_log_verifies(store: MetadataStore) -> None:
    report = store.audit.verify()

    assert report.ok
    assert report.checked == 0


@pytest.mark.parametrize("batch_size", [1, 2, 5, 1000])
def test_verify_reads_in_batches(store: MetadataStore, batch_size: int) -> None:
    append_five(store)

    report = store.audit.verify(batch_size=batch_size)

    assert report.ok
    assert report.checked == 5
    assert report.head_seq == 5


def test_verify_names_an_altered_row(store: MetadataStore, sql: SQL) -> None:
    append_five(store)
    sql("UPDATE audit_events SET details = :details WHERE seq = 3", details='{"n": 300}')

    report = store.audit.verify()

    assert not report.ok
    assert report.first_broken_seq == 3
    assert report.reason == "event 3 was altered (hash mismatch)"
    assert report.checked == 2


def test_verify_names_a_deleted_row(store: MetadataStore, sql: SQL) -> None:
    append_five(store)
    sql("DELETE FROM audit_events WHERE seq = 3")

    report = store.audit.verify(batch_size=2)

    assert not report.ok
    assert report.first_broken_seq == 3
    assert report.reason == "event 3 is missing (sequence gap after 2)"


def test_verify_names_an_altered_hash(store: MetadataStore, sql: SQL) -> None:
    append_five(store)
    sql("UPDATE audit_events SET hash = :hash WHERE seq = 4", hash="ab" * 32)

    report = store.audit.verify()

    assert report.first_broken_seq == 4
    assert report.reason == "event 4 was altered (hash mismatch)"


def test_verify_sees_a_rewritten_and_rehashed_row(store: MetadataStore, sql: SQL) -> None:
    append_five(store)
    # Even a tamperer holding the key breaks the link to the next event.
    forged = store.audit.list(target="report:2")[0].model_copy(update={"actor": "mallory"})
    sql(
        "UPDATE audit_events SET actor = 'mallory', hash = :hash WHERE seq = 2",
        hash=forged.computed_hash(AUDIT_KEY),
    )

    report = store.audit.verify()

    assert report.first_broken_seq == 3
    assert report.reason == "event 3 does not follow event 2 (prev_hash mismatch)"


def test_a_row_too_damaged_to_load_is_still_listed_and_reported(
    store: MetadataStore, sql: SQL
) -> None:
    append_five(store)
    sql("UPDATE audit_events SET actor = '' WHERE seq = 2")

    assert [event.seq for event in store.audit.list()] == [5, 4, 3, 2, 1]
    report = store.audit.verify()
    assert report.first_broken_seq == 2
    assert report.reason == "event 2 was altered (hash mismatch)"


def test_the_table_refuses_a_forked_chain(store: MetadataStore) -> None:
    append_five(store)
    second = store.audit.list(target="report:2")[0]
    fork = second.model_dump() | {"seq": 99, "actor": "mallory"}
    same_seq = second.model_dump() | {"prev_hash": "cd" * 32}

    for row in (fork, same_seq):
        with pytest.raises(IntegrityError), store.engine.begin() as connection:
            connection.execute(insert(audit_events).values(**row))

    assert stored_seqs(store) == [1, 2, 3, 4, 5]


def test_the_log_offers_no_way_to_change_history() -> None:
    public = {name for name in dir(AuditLog) if not name.startswith("_")}

    assert public == {"append", "list", "verify", "count"}


def test_a_stale_tail_is_retried(store: MetadataStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer that read an outdated tail (a lost race) collides on the keys and retries."""
    append_five(store)
    real_tail = AuditLog._tail
    calls: list[tuple[int, str]] = []

    def stale_once(log: AuditLog, connection: Any) -> tuple[int, str]:
        tail = real_tail(log, connection)
        if not calls:
            stale = store.audit.list(target="report:3")[0]
            tail = (stale.seq, stale.hash)
        calls.append(tail)
        return tail

    monkeypatch.setattr(AuditLog, "_tail", stale_once)

    event = store.audit.append("alice", "report.view", "report:9", "allowed")

    assert [seq for seq, _ in calls] == [3, 5]
    assert event.seq == 6
    assert store.audit.verify().ok


def test_a_permanently_stale_tail_gives_up(
    store: MetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    append_five(store)
    monkeypatch.setattr(AuditLog, "_tail", lambda _log, _connection: (0, GENESIS_HASH))

    with pytest.raises(InternalError, match="could not append"):
        store.audit.append("alice", "report.view", "report:9", "allowed")

    assert stored_seqs(store) == [1, 2, 3, 4, 5]
    assert store.audit.verify().ok


def test_concurrent_appends_from_threads_form_one_chain(store: MetadataStore) -> None:
    threads_count, per_thread = 4, 25
    start = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            start.wait(timeout=30)
            for n in range(per_thread):
                store.audit.append(name, "report.view", f"report:{n}", "allowed", {"n": n})
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(f"user{t}",)) for t in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert stored_seqs(store) == list(range(1, threads_count * per_thread + 1))
    report = store.audit.verify(batch_size=30)
    assert report.ok
    assert report.checked == threads_count * per_thread
    assert report.anchored_seq == threads_count * per_thread
    for t in range(threads_count):
        assert len(store.audit.list(actor=f"user{t}")) == per_thread


WRITER_PROCESS = """
import sys
from pathlib import Path
from reportgen.store import MetadataStore
store = MetadataStore(sys.argv[1], audit_key=sys.argv[4], audit_head=Path(sys.argv[5]))
for n in range(int(sys.argv[3])):
    store.audit.append(sys.argv[2], "report.view", f"report:{n}", "allowed", {"n": n})
store.dispose()
"""


@pytest.mark.slow
def test_concurrent_appends_from_processes_form_one_chain(
    store: MetadataStore, database_url: str
) -> None:
    processes, per_process = 3, 15
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRITER_PROCESS,
                database_url,
                f"proc{p}",
                str(per_process),
                AUDIT_KEY.decode(),
                str(store.audit_head),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in range(processes)
    ]
    outputs = [writer.communicate(timeout=120) for writer in writers]

    assert [writer.returncode for writer in writers] == [0] * processes, outputs
    assert stored_seqs(store) == list(range(1, processes * per_process + 1))
    report = store.audit.verify()
    assert report.ok
    # The recorded head never moved backwards, however the writers interleaved.
    assert report.anchored_seq == processes * per_process


# Text the columns can hold on both backends: no NUL, no lone surrogates (not UTF-8).
TEXT_CHARACTERS = st.characters(codec="utf-8", exclude_characters="\x00")
TAMPERS = {
    "actor": "UPDATE audit_events SET actor = actor || 'x' WHERE seq = :seq",
    "target": "UPDATE audit_events SET target = target || 'x' WHERE seq = :seq",
    "outcome": "UPDATE audit_events SET outcome = CASE WHEN outcome = 'denied'"
    " THEN 'allowed' ELSE 'denied' END WHERE seq = :seq",
    "details": "UPDATE audit_events SET details = '{\"tampered\": true}' WHERE seq = :seq",
    # Always a different hash: a plain 'ff' prefix left one in 256 hashes unchanged.
    "hash": "UPDATE audit_events SET hash = CASE WHEN substr(hash, 1, 2) = 'ff' THEN 'ee'"
    " ELSE 'ff' END || substr(hash, 3) WHERE seq = :seq",
    "delete": "DELETE FROM audit_events WHERE seq = :seq",
}
event_fields = st.fixed_dictionaries(
    {
        "actor": st.text(TEXT_CHARACTERS, min_size=1, max_size=10),
        "action": st.sampled_from(["report.view", "schedule.save"]),
        "target": st.text(TEXT_CHARACTERS, max_size=10),
        "outcome": st.sampled_from(["allowed", "denied", "succeeded", "failed"]),
        "details": st.dictionaries(
            st.text(max_size=5),
            st.none()
            | st.booleans()
            | st.integers()
            | st.floats(allow_nan=False, allow_infinity=False)
            | st.text(),
            max_size=3,
        ),
    }
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(event_fields, min_size=2, max_size=6),
    st.data(),
    st.sampled_from(sorted(TAMPERS)),
)
def test_stored_chains_verify_and_any_single_tampering_is_caught(
    store: MetadataStore, fields: list[dict[str, Any]], data: st.DataObject, how: str
) -> None:
    clear_store(store)
    for values in fields:
        store.audit.append(**values)
    assert store.audit.verify().ok

    # The head recorded outside the database makes deleting the newest event visible too.
    seq = data.draw(st.integers(min_value=1, max_value=len(fields)), label="seq")
    with store.engine.begin() as connection:
        connection.execute(text(TAMPERS[how]), {"seq": seq})
    report = store.audit.verify(batch_size=2)

    assert not report.ok
    assert report.first_broken_seq == seq
    assert report.checked == seq - 1


# -- the keyed chain and its head recorded outside the database --------------------------------


def rewrite_chain(store: MetadataStore, key: bytes, *, drop: int, forge_tail: bool = False) -> None:
    """What a tamperer with write access does: delete an event, renumber the rest and recompute
    every hash with the public recipe, optionally appending a forged event to restore the count."""
    kept = [e for e in reversed(store.audit.list()) if e.seq != drop]
    if forge_tail:
        kept.append(kept[-1].model_copy(update={"actor": "mallory", "target": "report:99"}))
    rows, prev_hash = [], GENESIS_HASH
    for seq, event in enumerate(kept, start=1):
        fields = event.model_dump(exclude={"seq", "prev_hash", "hash"})
        digest = event_hash(
            prev_hash, seq, event.at, event.actor, event.action, event.target, event.outcome,
            event.details, key=key,
        )  # fmt: skip
        rows.append({**fields, "seq": seq, "prev_hash": prev_hash, "hash": digest})
        prev_hash = digest
    with store.engine.begin() as connection:
        connection.execute(audit_events.delete())
        connection.execute(insert(audit_events), rows)


def test_removing_the_newest_events_is_detected(store: MetadataStore, sql: SQL) -> None:
    append_five(store)
    sql("DELETE FROM audit_events WHERE seq >= 4")

    report = store.audit.verify()

    assert not report.ok
    assert report.first_broken_seq == 4
    assert report.reason == (
        "events after 3 were removed (the head recorded outside the database is event 5)"
    )
    assert report.checked == 3
    assert report.anchored_seq == 5


def test_removing_every_event_is_detected(store: MetadataStore, sql: SQL) -> None:
    append_five(store)
    sql("DELETE FROM audit_events")

    report = store.audit.verify()

    assert not report.ok
    assert report.first_broken_seq == 1
    assert report.reason is not None and report.reason.startswith("events after 0 were removed")


def test_a_chain_rewritten_without_the_key_is_detected(store: MetadataStore) -> None:
    append_five(store)

    rewrite_chain(store, b"the tamperer's own guess at the key", drop=3)

    report = store.audit.verify()
    assert not report.ok
    assert report.first_broken_seq == 1
    assert report.reason == "event 1 was altered (hash mismatch)"


def test_a_chain_rewritten_with_the_key_is_caught_by_the_recorded_head(
    store: MetadataStore,
) -> None:
    append_five(store)

    rewrite_chain(store, AUDIT_KEY, drop=3)

    report = store.audit.verify()
    assert not report.ok
    assert report.first_broken_seq == 5
    assert report.reason is not None and report.reason.startswith("events after 4 were removed")


def test_a_rewritten_chain_padded_to_its_old_length_is_caught(store: MetadataStore) -> None:
    append_five(store)

    rewrite_chain(store, AUDIT_KEY, drop=3, forge_tail=True)

    report = store.audit.verify()
    assert not report.ok
    assert report.first_broken_seq == 5
    assert report.reason is not None and "not the event recorded as the head" in report.reason


def test_the_database_never_holds_the_key(store: MetadataStore) -> None:
    append_five(store)
    key = AUDIT_KEY.decode()

    with store.engine.connect() as connection:
        for table in ALL_TABLES:
            for row in connection.execute(select(table)):
                assert key not in repr(tuple(row))


def test_appends_and_verification_need_the_key(database_url: str, store: MetadataStore) -> None:
    keyless = MetadataStore(database_url)
    try:
        with pytest.raises(ConfigurationError, match="REPORTGEN_AUDIT_KEY"):
            keyless.audit.append("alice", "report.view", "report:1", "allowed")
        with pytest.raises(ConfigurationError, match="audit key"):
            keyless.audit.verify()
    finally:
        keyless.dispose()


def test_a_store_without_a_recorded_head_says_so(database_url: str, store: MetadataStore) -> None:
    unanchored = MetadataStore(database_url, audit_key=AUDIT_KEY)
    try:
        unanchored.audit.append("alice", "report.view", "report:1", "allowed")
        report = unanchored.audit.verify()
    finally:
        unanchored.dispose()

    assert report.ok
    assert report.anchored_seq is None


def test_the_head_file_holds_the_newest_event(store: MetadataStore) -> None:
    append_five(store)
    newest = store.audit.list(limit=1)[0]

    assert store.audit_head is not None
    assert json.loads(store.audit_head.read_text()) == {"seq": 5, "hash": newest.hash}


def test_the_head_never_moves_backwards(tmp_path: Path) -> None:
    anchor = HeadAnchor(tmp_path / "audit.head")
    anchor.advance(ChainHead(seq=7, hash="7" * 64))
    anchor.advance(ChainHead(seq=3, hash="3" * 64))  # a slower writer, arriving late

    assert anchor.read() == ChainHead(seq=7, hash="7" * 64)
    anchor.advance(ChainHead(seq=8, hash="8" * 64))
    assert anchor.read() == ChainHead(seq=8, hash="8" * 64)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.head", "audit.head.lock"]


def test_a_damaged_head_fails_verification_and_is_not_overwritten(
    store: MetadataStore, caplog: pytest.LogCaptureFixture
) -> None:
    append_five(store)
    assert store.audit_head is not None
    store.audit_head.write_text("{not a head", encoding="utf-8")

    with caplog.at_level(logging.ERROR, logger="reportgen.audit"):
        store.audit.append("alice", "report.view", "report:6", "allowed")  # still recorded

    assert store.audit_head.read_text(encoding="utf-8") == "{not a head"
    assert any("anchor is damaged" in record.getMessage() for record in caplog.records)
    report = store.audit.verify()
    assert not report.ok
    assert report.reason is not None and "recorded audit head is damaged" in report.reason


def test_the_audit_context_is_recorded_with_every_event(store: MetadataStore) -> None:
    with audit_context(operator="root", via="cli"):
        inside = store.audit.append("ana", "dataset.query", "sales", "allowed", {"rows": 3})
        with audit_context(via="api"):
            nested = store.audit.append("ana", "dataset.query", "sales", "allowed", {"via": "x"})
    outside = store.audit.append("ana", "dataset.query", "sales", "allowed", {"rows": 3})

    assert inside.details == {"rows": 3, "operator": "root", "via": "cli"}
    assert nested.details == {"operator": "root", "via": "api"}
    assert outside.details == {"rows": 3}
    assert store.audit.verify().ok


# -- damaged rows: listed and reported, never a crash ----------------------------------------


@pytest.fixture
def loose_columns(store: MetadataStore, backend: str) -> Iterator[None]:
    """On PostgreSQL, ``at`` and ``details`` turned into text for the test (as a tamperer with
    DDL rights could), so they can hold what SQLite's columns accept anyway."""
    if backend != "postgres":
        yield
        return
    with store.engine.begin() as connection:
        connection.exec_driver_sql(
            "ALTER TABLE audit_events ALTER COLUMN details TYPE text,"
            " ALTER COLUMN at TYPE text USING at::text"
        )
    try:
        yield
    finally:
        with store.engine.begin() as connection:
            connection.execute(audit_events.delete())
            connection.exec_driver_sql(
                "ALTER TABLE audit_events ALTER COLUMN details TYPE json USING details::json,"
                " ALTER COLUMN at TYPE timestamptz USING at::timestamptz"
            )


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("details", "{not json", "its details are not a JSON object"),
        ("details", "[1, 2]", "its details are not a JSON object"),
        ("at", "yesterday-ish", "its time is unreadable"),
    ],
)
@pytest.mark.usefixtures("loose_columns")
def test_a_row_with_unreadable_columns_is_reported_as_altered(
    store: MetadataStore, sql: SQL, column: str, value: str, problem: str
) -> None:
    append_five(store)
    sql(f"UPDATE audit_events SET {column} = :value WHERE seq = 3", value=value)

    listed = store.audit.list()
    report = store.audit.verify(batch_size=2)

    assert [event.seq for event in listed] == [5, 4, 3, 2, 1]
    assert [event.damage for event in listed] == [None, None, problem, None, None]
    assert not report.ok
    assert report.first_broken_seq == 3
    assert report.reason == f"event 3 was altered ({problem})"
    assert report.checked == 2
