"""RunRepository and DeliveryRepository on SQLite and PostgreSQL: once-only runs, deliveries
and claims, guarded moves with one history row per step, pages, keys and notices."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from reportgen.domain.principal import Role
from reportgen.domain.runs import DeliveryStatus, IllegalTransition, RunLost, RunStatus, Stage
from reportgen.store import MetadataStore
from reportgen.store.deliveries import DeliveryRepository, NewArtifact
from reportgen.store.runs import RunRepository
from reportgen.store.tables import run_transitions, saved_reports, schedules

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def add_schedule(store: MetadataStore, schedule_id: str = "s1", owner: str = "ana") -> str:
    if store.users.get(owner) is None:
        store.users.add(owner, owner.title(), f"{owner}@example.com", "password1", {Role.AUTHOR})
    with store.engine.begin() as connection:
        if connection.execute(select(saved_reports.c.id)).first() is None:
            connection.execute(
                insert(saved_reports).values(id="r1", name="Sales", owner=owner, dataset="sales")
            )
        seq = len(connection.execute(select(schedules.c.id)).all()) + 1
        connection.execute(
            insert(schedules).values(
                id=schedule_id,
                report_id="r1",
                owner=owner,
                name=f"Schedule {schedule_id}",
                cadence={"kind": "daily", "at": "08:00:00"},
                parameters={},
                recipients=[],
                channels=[{"kind": "email"}],
                formats=["pdf"],
                retry_policy={},
                updated_by=owner,
                change_seq=seq,
            )
        )
    return schedule_id


@pytest.fixture
def repo(store: MetadataStore) -> RunRepository:
    add_schedule(store)
    return RunRepository(store.engine)


@pytest.fixture
def ledger(store: MetadataStore, repo: RunRepository) -> DeliveryRepository:
    return DeliveryRepository(store.engine, repo)


def record(repo: RunRepository, fire_time: datetime = NOW, **extra: object) -> str:
    run = repo.record(
        schedule_id="s1", report_id="r1", fire_time=fire_time, trigger="schedule", now=NOW,
        **extra,  # type: ignore[arg-type]
    )  # fmt: skip
    assert run is not None
    return run.id


def test_a_fire_time_is_recorded_once(repo: RunRepository) -> None:
    first = repo.record(
        schedule_id="s1", report_id="r1", fire_time=NOW, trigger="schedule", now=NOW
    )
    again = repo.record(
        schedule_id="s1", report_id="r1", fire_time=NOW, trigger="schedule", now=NOW
    )
    assert first is not None and first.status is RunStatus.PENDING and first.owner == "ana"
    assert again is None
    assert repo.last_fire_time("s1") == NOW
    assert [t.to_status for t in repo.transitions(first.id)] == [RunStatus.PENDING]


def test_a_skipped_fire_keeps_its_reason_and_is_never_claimed(repo: RunRepository) -> None:
    run = repo.record(
        schedule_id="s1", report_id="r1", fire_time=NOW - timedelta(days=1), trigger="misfire",
        now=NOW, skipped_reason="missed while the scheduler was down (misfire policy: skip)",
    )  # fmt: skip
    assert run is not None and run.status is RunStatus.SKIPPED and run.finished
    assert run.error is not None and "misfire policy" in run.error
    assert repo.claim("w1", NOW) is None
    assert repo.last_fire_time("s1") == NOW - timedelta(days=1)


def test_manual_runs_do_not_count_as_fire_times(repo: RunRepository) -> None:
    repo.record(schedule_id="s1", report_id="r1", fire_time=NOW, trigger="manual", now=NOW)
    assert repo.last_fire_time("s1") is None


def test_claim_takes_the_most_overdue_run_and_logs_the_move(repo: RunRepository) -> None:
    late = record(repo, NOW - timedelta(hours=1))
    record(repo, NOW)
    claimed = repo.claim("w1", NOW + timedelta(seconds=1))
    assert claimed is not None and claimed.id == late
    assert (claimed.status, claimed.stage, claimed.attempt) == (
        RunStatus.RUNNING,
        Stage.QUERYING,
        1,
    )
    assert claimed.worker_id == "w1" and claimed.heartbeat_at is not None
    history = repo.transitions(late)
    assert [(t.from_status, t.to_status) for t in history] == [
        (None, RunStatus.PENDING),
        (RunStatus.PENDING, RunStatus.RUNNING),
    ]
    assert history[-1].detail == "attempt 1 claimed by w1"
    assert repo.queue_depth(NOW + timedelta(seconds=1)) == 1


def test_a_run_not_yet_due_is_not_claimed(repo: RunRepository) -> None:
    record(repo)
    assert repo.claim("w1", NOW - timedelta(seconds=1)) is None
    assert repo.queue_depth(NOW - timedelta(seconds=1)) == 0


def test_moves_are_guarded_by_the_worker_and_the_state_machine(repo: RunRepository) -> None:
    run_id = record(repo)
    assert repo.claim("w1", NOW) is not None
    with pytest.raises(RunLost, match="no longer held by w2"):
        repo.move(run_id, [RunStatus.SUCCEEDED], now=NOW, held_by="w2")
    with pytest.raises(IllegalTransition):
        repo.move(run_id, [RunStatus.DEAD], now=NOW, held_by="w1")
    failed = repo.move(
        run_id,
        [RunStatus.FAILED, RunStatus.RETRYING],
        now=NOW,
        held_by="w1",
        detail="relay down",
        values={"error": "relay down", "next_attempt_at": NOW + timedelta(minutes=1)},
    )
    assert failed.status is RunStatus.RETRYING and failed.error == "relay down"
    statuses = [t.to_status for t in repo.transitions(run_id)]
    assert statuses[-2:] == [RunStatus.FAILED, RunStatus.RETRYING]
    assert repo.claim("w1", NOW) is None  # backing off
    again = repo.claim("w2", NOW + timedelta(minutes=1))
    assert again is not None and again.attempt == 2 and again.worker_id == "w2"


def test_heartbeats_keep_runs_fresh_and_silence_makes_them_stale(repo: RunRepository) -> None:
    run_id = record(repo)
    repo.claim("w1", NOW)
    assert repo.heartbeat("w1", NOW + timedelta(seconds=20)) == 1
    assert repo.stale(NOW + timedelta(seconds=10)) == []
    assert [r.id for r in repo.stale(NOW + timedelta(seconds=21))] == [run_id]


def test_pages_are_newest_first_with_a_cursor_and_owners_only(
    store: MetadataStore, repo: RunRepository
) -> None:
    add_schedule(store, "s2", owner="bob")
    ids = [record(repo, NOW + timedelta(minutes=i)) for i in range(5)]
    other = repo.record(
        schedule_id="s2", report_id="r1", fire_time=NOW, trigger="schedule", now=NOW
    )
    assert other is not None
    first = repo.page(viewer="ana", limit=3)
    assert len(first) == 3 and other.id not in {r.id for r in first}
    last = first[-1]
    rest = repo.page(viewer="ana", after=(last.created_at, last.id), limit=10)
    assert {r.id for r in first} | {r.id for r in rest} == set(ids)
    assert {r.id for r in repo.page(viewer=None, limit=10)} == {*ids, other.id}
    assert [r.id for r in repo.page(viewer="bob")] == [other.id]
    assert repo.page(viewer="ana", status=RunStatus.DEAD) == []


def test_deliveries_are_inserted_once_and_keep_every_attempt(
    repo: RunRepository, ledger: DeliveryRepository
) -> None:
    run_id = record(repo)
    first = ledger.open(run_id, "email", "ana@example.com", NOW)
    same = ledger.open(run_id, "email", "ana@example.com", NOW)
    assert first.id == same.id and first.status is DeliveryStatus.PENDING
    ledger.record_attempt(first.id, outcome="transient", detail="421 try later", now=NOW)
    ledger.record_attempt(first.id, outcome="delivered", detail="<id@reportgen>", now=NOW)
    (delivery,) = ledger.of_runs([run_id], history=True)
    assert delivery.status is DeliveryStatus.DELIVERED and delivery.attempts == 2
    assert [a.outcome for a in delivery.history] == ["transient", "delivered"]
    assert delivery.last_error is None and delivery.delivered_at == NOW


def test_an_idempotency_key_makes_one_run_a_day(
    repo: RunRepository, ledger: DeliveryRepository
) -> None:
    def ask(at: datetime) -> tuple[str, bool]:
        run, made = ledger.request_run(
            username="ana", key="k-1", fresh_after=at - timedelta(days=1),
            schedule_id="s1", report_id="r1", now=at,
        )  # fmt: skip
        assert run.requested_by == "ana" and run.trigger == "manual"
        return run.id, made

    first, made = ask(NOW)
    same, made_again = ask(NOW + timedelta(hours=1))
    fresh, made_fresh = ask(NOW + timedelta(days=2))
    assert made and not made_again and same == first
    assert made_fresh and fresh != first


def test_a_notice_is_claimed_once_until_forgotten(
    repo: RunRepository, ledger: DeliveryRepository
) -> None:
    run_id = record(repo)
    assert ledger.claim_notice("s1", "report_unreadable", run_id, NOW)
    assert not ledger.claim_notice("s1", "report_unreadable", run_id, NOW)
    ledger.forget_notice("s1", "report_unreadable")
    assert ledger.claim_notice("s1", "report_unreadable", run_id, NOW)


def test_replays_are_found_from_their_original(repo: RunRepository) -> None:
    original = record(repo)
    replay = record(repo, NOW + timedelta(hours=1), replay_of=original)
    assert repo.replays_of(original) == [replay]
    assert repo.get(replay) is not None and repo.get(replay).replay_of == original  # type: ignore[union-attr]


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_concurrent_workers_claim_each_run_once(repo: RunRepository) -> None:
    ids = {record(repo, NOW + timedelta(seconds=i)) for i in range(40)}
    claimed: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def work(worker: int) -> None:
        start.wait(timeout=10)
        while (run := repo.claim(f"w{worker}", NOW + timedelta(minutes=5))) is not None:
            with lock:
                claimed.append(run.id)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert sorted(claimed) == sorted(ids)  # every run claimed, none twice
    with repo._engine.connect() as connection:
        moves = (
            connection.execute(
                select(run_transitions.c.run_id).where(run_transitions.c.to_status == "running")
            )
            .scalars()
            .all()
        )
    assert sorted(moves) == sorted(ids)


def test_a_delivery_is_claimed_by_one_attempt_of_a_run_its_worker_holds(
    repo: RunRepository, ledger: DeliveryRepository
) -> None:
    run_id = record(repo)
    assert repo.claim("w1", NOW) is not None
    delivery = ledger.open(run_id, "email", "ana@example.com", NOW)
    assert ledger.claim(delivery.id, worker_id="w2", attempt=1, now=NOW) == "lost"
    assert ledger.claim(delivery.id, worker_id="w1", attempt=2, now=NOW) == "lost"
    assert ledger.claim(delivery.id, worker_id="w1", attempt=1, now=NOW) == "claimed"
    assert ledger.claim(delivery.id, worker_id="w1", attempt=1, now=NOW) == "taken"
    (sending,) = ledger.of_runs([run_id])
    assert sending.status is DeliveryStatus.SENDING
    assert sending.claimed_by == "worker w1 (attempt 1)"
    # The claiming attempt itself never calls its own delivery unknown; a later one does.
    assert ledger.mark_unknown(delivery.id, worker_id="w1", attempt=1, now=NOW) is None
    unknown = ledger.mark_unknown(delivery.id, worker_id="w2", attempt=2, now=NOW)
    assert unknown is not None and unknown.status is DeliveryStatus.UNKNOWN
    assert unknown.last_error is not None and "worker w1 (attempt 1)" in unknown.last_error
    assert ledger.mark_unknown(delivery.id, worker_id="w2", attempt=2, now=NOW) is None


def test_a_failed_delivery_is_reopened_for_a_retry(
    repo: RunRepository, ledger: DeliveryRepository
) -> None:
    run_id = record(repo)
    failed = ledger.open(run_id, "email", "ana@example.com", NOW)
    ledger.record_attempt(failed.id, outcome="permanent", detail="550", now=NOW)
    done = ledger.open(run_id, "email", "bob@example.com", NOW)
    ledger.record_attempt(done.id, outcome="delivered", detail="<id>", now=NOW)
    assert ledger.reopen_failed(run_id) == 1
    statuses = {d.recipient: d.status for d in ledger.of_runs([run_id])}
    assert statuses == {
        "ana@example.com": DeliveryStatus.PENDING,
        "bob@example.com": DeliveryStatus.DELIVERED,
    }


def test_the_reapers_move_needs_the_heartbeat_still_stale(repo: RunRepository) -> None:
    run_id = record(repo)
    repo.claim("w1", NOW)
    repo.heartbeat("w1", NOW + timedelta(seconds=20))
    with pytest.raises(RunLost, match="not stale"):
        repo.move(
            run_id,
            [RunStatus.FAILED, RunStatus.RETRYING],
            now=NOW + timedelta(seconds=25),
            expect=[RunStatus.RUNNING],
            stale_before=NOW + timedelta(seconds=10),
        )
    moved = repo.move(
        run_id,
        [RunStatus.FAILED, RunStatus.RETRYING],
        now=NOW + timedelta(seconds=60),
        expect=[RunStatus.RUNNING],
        stale_before=NOW + timedelta(seconds=30),
    )
    assert moved.status is RunStatus.RETRYING


def test_artifacts_keep_the_audience_they_were_rendered_for(
    repo: RunRepository, ledger: DeliveryRepository
) -> None:
    run_id = record(repo)
    ledger.add_artifacts(
        run_id,
        [NewArtifact("pdf", "runs/a/x.pdf", "0" * 64, 3, "application/pdf", "roles=admin|")],
        NOW,
    )
    (stored,) = ledger.artifacts(run_id)
    assert stored.audience == "roles=admin|"
