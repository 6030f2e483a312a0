"""RunService end to end on the real render pipeline: bursting, fail-closed recipients,
only-if-changed, retries, the dead letters and replays, owner notices, idempotent run-now and
the reaper. Channels here record parcels; `test_delivery_flow` sends real email."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from reportgen.bootstrap import Services
from reportgen.domain.query import TimeRange
from reportgen.domain.runs import DeliveryStatus, Run, RunStatus
from reportgen.domain.schedules import (
    DailyAt,
    EmailChannel,
    Recipient,
    RecipientKind,
    RetryPolicy,
    RunAs,
    Schedule,
    StorageChannel,
)
from reportgen.domain.spec import KpiBlock, KpiTile, ReportSpec
from reportgen.errors import InvalidInput, NotFound, PermanentDeliveryError, TransientDeliveryError
from reportgen.services.ports import Parcel, Receipt
from reportgen.services.runs import Limits, RunService
from reportgen.store.deliveries import DeliveryRepository
from reportgen.store.runs import RunRepository
from reportgen.store.tables import saved_reports, schedules
from tests.conftest import ADMIN, ANA, VICTOR

FIRE = datetime(2026, 10, 31, 8, 0, tzinfo=UTC)
SPEC = ReportSpec(
    title="Revenue pulse",
    dataset="sales",
    time_range=TimeRange(start=datetime(2026, 10, 1).date(), end=datetime(2026, 11, 1).date()),
    blocks=(KpiBlock(tiles=(KpiTile(measure="revenue", compare=()),)),),
)


@dataclass
class RecordingChannel:
    """A channel that keeps what it was given; fails as told first."""

    kind: str = "email"
    sent: list[tuple[Parcel, str]] = field(default_factory=list)
    failures: dict[str, list[Exception]] = field(default_factory=dict)

    def send(self, parcel: Parcel, target: str) -> Receipt:
        queued = self.failures.get(target)
        if queued:
            raise queued.pop(0)
        self.sent.append((parcel, target))
        return Receipt(f"<{parcel.delivery_id}@test>")

    def check_target(self, target: str) -> None:
        return None

    def to(self, target: str) -> list[Parcel]:
        return [p for p, t in self.sent if t == target]


@dataclass
class SavedReport:
    id: str
    name: str
    owner: str
    version: int
    spec: ReportSpec


@dataclass
class Catalogue:
    """Stands in for ScheduleService.load and SavedReportService.load."""

    schedules: dict[str, Schedule] = field(default_factory=dict)
    reports: dict[str, SavedReport] = field(default_factory=dict)

    def load(self, schedule_id: str) -> Schedule | None:
        return self.schedules.get(schedule_id)


@dataclass
class Reports:
    catalogue: Catalogue

    def load(self, report_id: str, version: int | None = None) -> SavedReport:
        if report_id not in self.catalogue.reports:
            raise NotFound(f"there is no report {report_id}")
        return self.catalogue.reports[report_id]


class Clock:
    def __init__(self) -> None:
        self.now = FIRE

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Harness:
    runs: RunService
    email: RecordingChannel
    storage: RecordingChannel
    catalogue: Catalogue
    clock: Clock
    services: Services
    finished: list[tuple[Run, float]]

    def schedule(self, schedule_id: str = "s1", **fields: object) -> Schedule:
        values: dict[str, object] = {
            "id": schedule_id,
            "name": f"Pulse {schedule_id}",
            "report_id": "r1",
            "owner": "ana",
            "cadence": DailyAt(at=FIRE.time()),
            "recipients": (Recipient(kind=RecipientKind.USER, value="ana"),),
            "formats": ("html",),
            "retry": RetryPolicy(max_attempts=2, base_delay_s=60, max_delay_s=600),
            "created_at": FIRE,
            "updated_at": FIRE,
            **fields,
        }
        schedule = Schedule.model_validate(values)
        with self.services.store.engine.begin() as connection:
            seq = len(self.catalogue.schedules) + 1
            connection.execute(
                insert(schedules).values(
                    id=schedule_id, report_id="r1", owner="ana", name=schedule.name,
                    cadence={"kind": "daily", "at": "08:00:00"}, parameters={}, recipients=[],
                    channels=[], formats=[], retry_policy={}, updated_by="ana", change_seq=seq,
                )
            )  # fmt: skip
        self.catalogue.schedules[schedule_id] = schedule
        return schedule

    def fire_and_run(self, schedule: Schedule, fire: datetime = FIRE) -> Run:
        recorded = self.runs.record_fire(schedule, fire)
        assert recorded is not None
        return self.drain()[-1]

    def drain(self) -> list[Run]:
        done = []
        while (run := self.runs.claim("w1")) is not None:
            done.append(self.runs.execute(run, "w1"))
        return done


@pytest.fixture
def harness(services: Services) -> Harness:
    with services.store.engine.begin() as connection:
        connection.execute(
            insert(saved_reports).values(id="r1", name="Pulse", owner="ana", dataset="sales")
        )
    services.users.set_attribute("victor", "region", ["Americas"])
    services.users.add("erin", "password1", ["author"], email="erin@example.com",
                       attributes={"region": ["EMEA"]})  # fmt: skip
    catalogue = Catalogue(reports={"r1": SavedReport("r1", "Pulse", "ana", 3, SPEC)})
    email, storage = RecordingChannel("email"), RecordingChannel("storage")
    clock = Clock()
    finished: list[tuple[Run, float]] = []
    ledger = RunRepository(services.store.engine)
    jitter = itertools.cycle([0.5])
    runs = RunService(
        ledger,
        DeliveryRepository(services.store.engine, ledger),
        schedules=catalogue,
        reports=Reports(catalogue),
        users=services.store.users,
        render=services.render,
        channels={"email": email, "storage": storage},
        audit=services.store.audit,
        limits=Limits(render_timeout_s=120, deliver_timeout_s=60),
        clock=clock,
        random=lambda: next(jitter),
        on_run_finished=lambda run, seconds: finished.append((run, seconds)),
    )
    return Harness(runs, email, storage, catalogue, clock, services, finished)


def test_bursting_renders_once_per_policy_and_fails_closed(harness: Harness) -> None:
    schedule = harness.schedule(
        recipients=(
            Recipient(kind=RecipientKind.ROLE, value="author"),  # ana and erin: both EMEA
            Recipient(kind=RecipientKind.USER, value="admin"),
            Recipient(kind=RecipientKind.EMAIL, value="stranger@elsewhere.example"),
        ),
        channels=(EmailChannel(), StorageChannel(prefix="pulse")),
    )
    run = harness.fire_and_run(schedule)
    assert run.status is RunStatus.SUCCEEDED, run.error
    sent = {target: parcel for parcel, target in harness.email.sent}
    assert set(sent) == {"ana@example.com", "erin@example.com", "admin@example.com"}
    assert sent["ana@example.com"].files[0].sha256 == sent["erin@example.com"].files[0].sha256
    assert sent["ana@example.com"].files[0].data != sent["admin@example.com"].files[0].data
    assert sent["ana@example.com"].kpis and sent["ana@example.com"].kpis[0][0] == "Revenue"
    # The storage channel gets the owner's (ana's) view.
    ((stored, prefix),) = harness.storage.sent
    assert prefix == "pulse" and stored.files[0].sha256 == sent["ana@example.com"].files[0].sha256
    detail = harness.runs.get(ANA, run.id)
    stranger = next(d for d in detail.deliveries if d.recipient == "stranger@elsewhere.example")
    assert stranger.status is DeliveryStatus.SKIPPED
    assert stranger.last_error == (
        "no account maps to this address; the owner has not shared their view"
    )
    assert run.result_hashes is not None and len(run.result_hashes) == 2  # two policies
    assert [t.stage for t in detail.transitions if t.stage] == [
        "querying",
        "rendering",
        "delivering",
    ]
    assert harness.finished and harness.finished[0][0].id == run.id
    assert {a.kind for a in detail.artifacts} == {"html", "manifest"}


def test_owner_view_is_shared_with_everyone_when_asked(harness: Harness) -> None:
    schedule = harness.schedule(
        run_as=RunAs.OWNER,
        recipients=(Recipient(kind=RecipientKind.EMAIL, value="partner@elsewhere.example"),),
    )
    run = harness.fire_and_run(schedule)
    assert run.status is RunStatus.SUCCEEDED
    assert [t for _, t in harness.email.sent] == ["partner@elsewhere.example"]


def test_unchanged_data_skips_the_run(harness: Harness) -> None:
    schedule = harness.schedule(only_if_changed=True)
    first = harness.fire_and_run(schedule)
    second = harness.fire_and_run(schedule, FIRE + timedelta(days=1))
    assert first.status is RunStatus.SUCCEEDED
    assert second.status is RunStatus.SKIPPED and second.error == f"unchanged since run {first.id}"
    assert len(harness.email.sent) == 1


def test_transient_failures_retry_with_backoff_and_send_once(harness: Harness) -> None:
    schedule = harness.schedule(
        recipients=(
            Recipient(kind=RecipientKind.USER, value="ana"),
            Recipient(kind=RecipientKind.USER, value="admin"),
        ),
    )
    harness.email.failures["admin@example.com"] = [TransientDeliveryError("relay busy (421)")]
    run = harness.fire_and_run(schedule)
    assert run.status is RunStatus.RETRYING and run.error is not None and "421" in run.error
    assert run.next_attempt_at == FIRE + timedelta(seconds=30)  # 60 s cap x jitter 0.5
    assert harness.drain() == []  # backing off
    harness.clock.now += timedelta(seconds=30)
    (again,) = harness.drain()
    assert again.status is RunStatus.SUCCEEDED and again.attempt == 2
    assert sorted(t for _, t in harness.email.sent) == ["admin@example.com", "ana@example.com"]


def test_permanent_refusal_fails_one_delivery_and_replay_resends_only_it(harness: Harness) -> None:
    schedule = harness.schedule(
        recipients=(
            Recipient(kind=RecipientKind.USER, value="ana"),
            Recipient(kind=RecipientKind.USER, value="admin"),
        ),
    )
    harness.email.failures["admin@example.com"] = [PermanentDeliveryError("550 no such user")]
    run = harness.fire_and_run(schedule)
    assert run.status is RunStatus.DEAD and "550 no such user" in (run.error or "")
    assert [t for _, t in harness.email.sent] == ["ana@example.com"]
    assert [r.id for r in harness.runs.dead_letters(ANA)] == [run.id]
    with pytest.raises(NotFound):
        harness.runs.get(VICTOR, run.id)
    harness.clock.now += timedelta(minutes=5)
    replay = harness.runs.replay(ANA, run.id)
    assert replay.trigger == "replay" and replay.replay_of == run.id
    (done,) = harness.drain()
    assert done.status is RunStatus.SUCCEEDED
    assert sorted(t for _, t in harness.email.sent) == ["admin@example.com", "ana@example.com"]


def test_exhausted_retries_go_dead(harness: Harness) -> None:
    schedule = harness.schedule()
    harness.email.failures["ana@example.com"] = [TransientDeliveryError("down")] * 2
    first = harness.fire_and_run(schedule)
    harness.clock.now += timedelta(minutes=10)
    (last,) = harness.drain()
    assert first.status is RunStatus.RETRYING
    assert last.status is RunStatus.DEAD and "gave up after 2 attempts" in (last.error or "")
    retried = harness.runs.retry(ADMIN, last.id)
    assert retried.status is RunStatus.RETRYING


def test_an_unreadable_report_fails_for_good_and_tells_the_owner_once(harness: Harness) -> None:
    schedule = harness.schedule()
    harness.catalogue.reports.clear()  # deleted, or no longer shared with its owner
    first = harness.fire_and_run(schedule)
    second = harness.fire_and_run(schedule, FIRE + timedelta(days=1))
    for run in (first, second):
        assert run.status is RunStatus.DEAD
        assert "can no longer read report r1" in (run.error or "")
    (notice,) = harness.email.to("ana@example.com")
    assert notice.files == () and "can no longer read" in notice.summary[0]


def test_run_now_honours_the_idempotency_key(harness: Harness) -> None:
    schedule = harness.schedule()
    first = harness.runs.run_now(ANA, schedule.id, idempotency_key="abc")
    harness.clock.now += timedelta(hours=2)
    again = harness.runs.run_now(ANA, schedule.id, idempotency_key="abc")
    other = harness.runs.run_now(ANA, schedule.id, idempotency_key="def")
    assert again.id == first.id and other.id != first.id and first.trigger == "manual"
    with pytest.raises(NotFound):
        harness.runs.run_now(VICTOR, schedule.id)
    with pytest.raises(InvalidInput, match="Idempotency-Key"):
        harness.runs.run_now(ANA, schedule.id, idempotency_key=" ")
    assert harness.runs.queue_depth() == 2
    page = harness.runs.list(ANA, limit=1)
    assert len(page.runs) == 1 and page.next_cursor is not None
    rest = harness.runs.list(ANA, cursor=page.next_cursor)
    assert {r.id for r in page.runs + rest.runs} == {first.id, other.id}


def test_the_reaper_requeues_a_silent_workers_run(harness: Harness) -> None:
    schedule = harness.schedule()
    harness.runs.record_fire(schedule, FIRE)
    claimed = harness.runs.claim("dead-worker")
    assert claimed is not None
    harness.clock.now += timedelta(seconds=harness.runs.stale_after_s + 1)
    assert harness.runs.reap() == 1
    reaped = harness.runs.get(ANA, claimed.id).run
    # The schedule's backoff applies to a reaped run too: 60 s cap x jitter 0.5.
    assert reaped.status is RunStatus.RETRYING
    assert reaped.next_attempt_at == harness.clock.now + timedelta(seconds=30)
    assert harness.drain() == []
    harness.clock.now += timedelta(seconds=30)
    (done,) = harness.drain()
    assert done.status is RunStatus.SUCCEEDED and done.attempt == 2
    reasons = [t.detail or "" for t in harness.runs.get(ANA, done.id).transitions]
    assert any(r.startswith("worker dead-worker stopped responding") for r in reasons)
    assert len(harness.email.sent) == 1


def test_the_reaper_sends_a_run_that_keeps_killing_its_worker_to_the_dead_letters(
    harness: Harness,
) -> None:
    schedule = harness.schedule()  # max_attempts=2
    harness.runs.record_fire(schedule, FIRE)
    for attempt in (1, 2):
        claimed = harness.runs.claim(f"crashing-worker-{attempt}")
        assert claimed is not None and claimed.attempt == attempt
        harness.clock.now += timedelta(seconds=harness.runs.stale_after_s + 1)
        assert harness.runs.reap() == 1
        harness.clock.now += timedelta(minutes=10)  # past any backoff
    run = harness.runs.get(ANA, claimed.id).run
    assert run.status is RunStatus.DEAD
    assert run.error == "worker crashing-worker-2 stopped responding (gave up after 2 attempts)"
    assert harness.runs.claim("w1") is None
    assert [r.id for r in harness.runs.dead_letters(ANA)] == [run.id]
    assert harness.email.sent == []


class HeartbeatDuringReap(RunRepository):
    """A ledger whose worker heartbeats just after the reaper looked for stale runs."""

    worker = ""
    at: datetime = FIRE

    def stale(self, heard_before: datetime) -> list[Run]:
        found = super().stale(heard_before)
        self.heartbeat(self.worker, self.at)
        return found


def test_a_heartbeat_between_the_reapers_look_and_its_move_keeps_the_run(
    harness: Harness,
) -> None:
    schedule = harness.schedule()
    harness.runs.record_fire(schedule, FIRE)
    claimed = harness.runs.claim("slow-worker")
    assert claimed is not None
    harness.clock.now += timedelta(seconds=harness.runs.stale_after_s + 1)
    ledger = HeartbeatDuringReap(harness.services.store.engine)
    ledger.worker, ledger.at = "slow-worker", harness.clock.now
    harness.runs.ledger = ledger
    assert harness.runs.reap() == 0
    run = harness.runs.get(ANA, claimed.id).run
    assert (run.status, run.worker_id) == (RunStatus.RUNNING, "slow-worker")


def test_a_delivery_left_sending_by_a_dead_worker_is_unknown_and_not_resent(
    harness: Harness,
) -> None:
    schedule = harness.schedule()
    harness.runs.record_fire(schedule, FIRE)
    claimed = harness.runs.claim("killed-worker")
    assert claimed is not None
    # The killed worker had claimed the email and handed it to the relay when it died.
    deliveries = harness.runs.deliveries
    delivery = deliveries.open(claimed.id, "email", "ana@example.com", FIRE)
    assert deliveries.claim(delivery.id, worker_id="killed-worker", attempt=1, now=FIRE) == (
        "claimed"
    )
    harness.clock.now += timedelta(seconds=harness.runs.stale_after_s + 1)
    assert harness.runs.reap() == 1
    harness.clock.now += timedelta(minutes=10)
    (run,) = harness.drain()
    assert harness.email.sent == []  # not sent a second time
    assert run.status is RunStatus.DEAD
    assert "may or may not have arrived" in (run.error or "") and "replay" in (run.error or "")
    [found] = harness.runs.get(ANA, run.id).deliveries
    assert found.status is DeliveryStatus.UNKNOWN
    assert found.last_error is not None and "killed-worker" in found.last_error
    assert [a.outcome for a in found.history] == ["unknown"]
    assert [r.id for r in harness.runs.dead_letters(ANA)] == [run.id]
    # Only an explicit replay sends it again.
    harness.runs.replay(ANA, run.id)
    (replayed,) = harness.drain()
    assert replayed.status is RunStatus.SUCCEEDED
    assert [t for _, t in harness.email.sent] == ["ana@example.com"]


def test_a_worker_that_lost_its_run_sends_nothing(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    schedule = harness.schedule()
    harness.runs.record_fire(schedule, FIRE)
    claimed = harness.runs.claim("stalled-worker")
    assert claimed is not None
    deliveries = harness.runs.deliveries
    opened = deliveries.open

    def reaped_first(run_id: str, channel: str, recipient: str, now: datetime) -> object:
        # The stalled worker reaches its first delivery after the reaper took the run.
        harness.clock.now = FIRE + timedelta(seconds=harness.runs.stale_after_s + 1)
        harness.runs.reap()
        return opened(run_id, channel, recipient, now)

    monkeypatch.setattr(deliveries, "open", reaped_first)
    left = harness.runs.execute(claimed, "stalled-worker")
    monkeypatch.undo()
    assert left.status is RunStatus.RETRYING and left.worker_id is None
    assert harness.email.sent == []
    harness.clock.now += timedelta(minutes=10)
    (done,) = harness.drain()
    assert done.status is RunStatus.SUCCEEDED
    assert [t for _, t in harness.email.sent] == ["ana@example.com"]


def test_a_failed_delivery_of_an_earlier_pass_makes_the_run_dead(harness: Harness) -> None:
    schedule = harness.schedule(
        recipients=(
            Recipient(kind=RecipientKind.USER, value="ana"),
            Recipient(kind=RecipientKind.USER, value="admin"),
        ),
    )
    harness.email.failures["ana@example.com"] = [TransientDeliveryError("421 busy")]
    harness.email.failures["admin@example.com"] = [PermanentDeliveryError("550 no such user")]
    first = harness.fire_and_run(schedule)
    assert first.status is RunStatus.RETRYING
    harness.clock.now += timedelta(minutes=10)
    (second,) = harness.drain()
    assert second.status is RunStatus.DEAD
    assert "email to admin@example.com (550 no such user)" in (second.error or "")
    assert [t for _, t in harness.email.sent] == ["ana@example.com"]


def test_a_retry_by_hand_sends_the_deliveries_that_failed_for_good(harness: Harness) -> None:
    schedule = harness.schedule(
        recipients=(
            Recipient(kind=RecipientKind.USER, value="ana"),
            Recipient(kind=RecipientKind.USER, value="admin"),
        ),
    )
    harness.email.failures["admin@example.com"] = [PermanentDeliveryError("550 mailbox full")]
    dead = harness.fire_and_run(schedule)
    assert dead.status is RunStatus.DEAD
    harness.runs.retry(ANA, dead.id)  # the mailbox was emptied
    (done,) = harness.drain()
    assert done.status is RunStatus.SUCCEEDED
    assert sorted(t for _, t in harness.email.sent) == ["admin@example.com", "ana@example.com"]


def test_storage_gets_every_file_however_large_and_email_links_beyond_the_cap(
    harness: Harness,
) -> None:
    schedule = harness.schedule(channels=(EmailChannel(), StorageChannel(prefix="pulse")))
    harness.runs.executor.limits = Limits(attachment_limit_bytes=1)  # every file is "too big"
    run = harness.fire_and_run(schedule)
    assert run.status is RunStatus.SUCCEEDED, run.error
    ((stored, _),) = harness.storage.sent
    assert [f.filename.rsplit(".", 1)[-1] for f in stored.files] == ["html"]
    assert stored.files[0].data and stored.links == {}
    (emailed,) = harness.email.to("ana@example.com")
    assert emailed.files == () and list(emailed.links) == [stored.files[0].filename]


def test_the_owner_notice_does_not_take_the_owners_own_delivery(harness: Harness) -> None:
    schedule = harness.schedule()
    saved = harness.catalogue.reports.pop("r1")  # the owner lost access to the report
    dead = harness.fire_and_run(schedule)
    assert dead.status is RunStatus.DEAD
    harness.catalogue.reports["r1"] = saved  # access restored
    harness.runs.retry(ANA, dead.id)
    (done,) = harness.drain()
    assert done.status is RunStatus.SUCCEEDED
    notice, report = harness.email.to("ana@example.com")
    assert notice.files == () and report.files  # the notice, then the report itself
    channels = {d.channel for d in harness.runs.get(ANA, done.id).deliveries}
    assert channels == {"notice", "email"}


def test_a_notice_that_crashes_is_tried_again_by_the_next_run(harness: Harness) -> None:
    schedule = harness.schedule()
    harness.catalogue.reports.clear()
    harness.email.failures["ana@example.com"] = [RuntimeError("socket closed")]
    first = harness.fire_and_run(schedule)
    second = harness.fire_and_run(schedule, FIRE + timedelta(days=1))
    assert first.status is second.status is RunStatus.DEAD
    (notice,) = harness.email.to("ana@example.com")
    assert "can no longer read" in notice.summary[0]


def test_an_idempotency_key_belongs_to_one_schedule(harness: Harness) -> None:
    first = harness.schedule("s1")
    second = harness.schedule("s2")
    run = harness.runs.run_now(ANA, first.id, idempotency_key="abc")
    with pytest.raises(InvalidInput, match="another schedule"):
        harness.runs.run_now(ANA, second.id, idempotency_key="abc")
    assert harness.runs.run_now(ANA, first.id, idempotency_key="abc").id == run.id


def test_workers_stop_claiming_while_timed_out_renders_are_still_running(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    schedule = harness.schedule()
    harness.runs.record_fire(schedule, FIRE)
    harness.runs.record_fire(schedule, FIRE - timedelta(days=1))
    harness.runs.limits = harness.runs.executor.limits = Limits(
        render_timeout_s=0.05, max_abandoned_stages=1
    )
    release = threading.Event()
    real_render = harness.services.render.render

    def stuck(*args: object, **kwargs: object) -> object:
        release.wait(60)
        return real_render(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(harness.services.render, "render", stuck)
    run = harness.runs.claim("w1")
    assert run is not None
    timed_out = harness.runs.execute(run, "w1")
    assert timed_out.status is RunStatus.RETRYING
    assert "rendering took longer than" in (timed_out.error or "")
    assert harness.runs.abandoned_stages == 1
    assert harness.runs.claim("w1") is None  # the other run is due, but a render still runs
    monkeypatch.undo()
    release.set()
    deadline = time.monotonic() + 60
    while harness.runs.abandoned_stages and time.monotonic() < deadline:
        release.wait(0.01)
    assert harness.runs.abandoned_stages == 0
    assert harness.runs.claim("w1") is not None


def test_an_unexpected_error_shows_an_incident_not_its_text(harness: Harness) -> None:
    schedule = harness.schedule()
    harness.email.failures["ana@example.com"] = [
        RuntimeError("connect to postgres://svc:hunter2@db failed")  # pragma: allowlist secret
    ]
    run = harness.fire_and_run(schedule)
    assert run.status is RunStatus.RETRYING
    assert "hunter2" not in (run.error or "") and "incident" in (run.error or "")
    [delivery] = harness.runs.get(ANA, run.id).deliveries
    assert "hunter2" not in (delivery.last_error or "")
    assert "incident" in (delivery.last_error or "")


def test_an_owner_sees_only_their_own_render_of_a_run(harness: Harness) -> None:
    schedule = harness.schedule(
        recipients=(Recipient(kind=RecipientKind.USER, value="admin"),),  # email only
    )
    run = harness.fire_and_run(schedule)
    assert run.status is RunStatus.SUCCEEDED
    assert harness.runs.get(ANA, run.id).artifacts == ()
    admin_files = harness.runs.get(ADMIN, run.id).artifacts
    assert {a.kind for a in admin_files} == {"html", "manifest"}
    for record in admin_files:
        with pytest.raises(NotFound):
            harness.runs.artifact(ANA, run.id, record.filename)
    html = next(a for a in admin_files if a.kind == "html")
    assert harness.runs.artifact(ADMIN, run.id, html.filename).sha256 == html.sha256


def test_with_two_audiences_the_owner_downloads_their_own(harness: Harness) -> None:
    schedule = harness.schedule(
        recipients=(
            Recipient(kind=RecipientKind.USER, value="admin"),
            Recipient(kind=RecipientKind.USER, value="ana"),
        ),
    )
    run = harness.fire_and_run(schedule)
    assert run.status is RunStatus.SUCCEEDED
    ana_files = harness.runs.get(ANA, run.id).artifacts
    assert sorted(a.kind for a in ana_files) == ["html", "manifest"]
    (ana_email,) = harness.email.to("ana@example.com")
    html = next(a for a in ana_files if a.kind == "html")
    got = harness.runs.artifact(ANA, run.id, html.filename)
    assert got.sha256 == ana_email.files[0].sha256 == html.sha256
    assert len(harness.runs.get(ADMIN, run.id).artifacts) == 4
