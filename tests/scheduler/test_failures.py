"""The whole chain under failure: `reportgen scheduler` processes, real SMTP on loopback.

Each test stores schedules whose one fire time was missed a couple of minutes ago (misfire
policy run once), so every scheduler start records one run per schedule at once; the runs
render a one-page KPI report and email it to a local aiosmtpd sink, which the test reads back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path

import pytest

from reportgen.bootstrap import build_services
from reportgen.delivery.mailsink import MailSink
from reportgen.domain.runs import DeliveryStatus, Run, RunStatus
from reportgen.domain.schedules import (
    CronCadence,
    Recipient,
    RecipientKind,
    RetryPolicy,
    Schedule,
)
from reportgen.rendering.specfiles import spec_from_data
from reportgen.settings import Settings
from reportgen.store import new_id
from tests.conftest import ADMIN, ANA, CATALOG_DIR, make_settings
from tests.test_up import free_port

KPI_PAGE = {
    "spec_version": 1,
    "title": "Failure drill",
    "template": "kpi_tracker",
    "dataset": "sales",
    "time_range": {"preset": "last_30_days"},
    "blocks": [{"kind": "kpis", "tiles": [{"measure": "revenue"}, {"measure": "orders"}]}],
}


def wait_for(condition: Callable[[], bool], deadline_s: float, what: str) -> None:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < deadline_s, f"{what} within {deadline_s} s"
        time.sleep(0.2)


class Drill:
    """A data folder with schedules due, a mail sink, and `reportgen scheduler` children."""

    def __init__(self, folder: Path, warehouse: Path, seeded: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "meta.db").write_bytes(seeded.read_bytes())
        self.folder = folder
        self.smtp_port = free_port()
        self.settings: Settings = make_settings(
            folder, warehouse, smtp_url=f"smtp://127.0.0.1:{self.smtp_port}"
        )
        self.sink = MailSink("127.0.0.1", self.smtp_port, folder / "mail")
        self.services = build_services(self.settings)
        self.children: list[subprocess.Popen[bytes]] = []

    def store_missed_schedules(
        self, count: int, *, retry: RetryPolicy | None = None, name: str = "drill"
    ) -> str:
        """``count`` hourly schedules whose latest fire time passed two minutes ago, all of one
        new saved report; returns the report's id."""
        now = datetime.now(UTC)
        fire = (now - timedelta(minutes=2)).replace(second=0, microsecond=0)
        saved_at = now - timedelta(minutes=30)
        report = self.services.saved_reports.save(ANA, spec_from_data(KPI_PAGE), name=name)
        for number in range(count):
            self.services.store.schedules.add(
                Schedule(
                    id=new_id(),
                    owner="ana",
                    name=f"{name} {number}",
                    report_id=report.id,
                    cadence=CronCadence(expression=f"{fire.minute} * * * *"),
                    recipients=(Recipient(kind=RecipientKind.USER, value="ana"),),
                    retry=retry or RetryPolicy(),
                    created_at=saved_at,
                    updated_at=saved_at,
                )
            )
        return report.id

    def start_scheduler(self, workers: int = 4) -> subprocess.Popen[bytes]:
        settings = self.settings
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("REPORTGEN_")},
            "REPORTGEN_DATA_DIR": str(self.folder),
            "REPORTGEN_DATABASE_URL": settings.resolved_database_url,
            "REPORTGEN_WAREHOUSE_URL": settings.resolved_warehouse_url,
            "REPORTGEN_CATALOG_DIR": str(CATALOG_DIR),
            "REPORTGEN_MASK_KEY": "test-mask-key-0123456789abcdef-0123456",
            "REPORTGEN_AUDIT_KEY": "test-audit-key-0123456789abcdef-012345",
            "REPORTGEN_SMTP_URL": settings.smtp_url,
            "REPORTGEN_API_PORT": str(free_port()),
            "REPORTGEN_SCHEDULER_WORKERS": str(workers),
            "REPORTGEN_SCHEDULER_POLL_S": "1",
            "REPORTGEN_LOG_LEVEL": "WARNING",
        }
        child = subprocess.Popen(
            [str(Path(sys.executable).with_name("reportgen")), "scheduler"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.children.append(child)
        return child

    def runs(self) -> list[Run]:
        return self.services.runs.list(ADMIN, limit=500).runs

    def finished_runs(self) -> int:
        """Runs that will send nothing more: succeeded, skipped or dead."""
        done = {RunStatus.SUCCEEDED, RunStatus.SKIPPED, RunStatus.DEAD}
        return sum(run.status in done for run in self.runs())

    def message_ids(self) -> list[str]:
        return [
            str(message_from_bytes(path.read_bytes())["Message-ID"])
            for path in self.sink.messages()
        ]

    def close(self) -> None:
        self.sink.stop()
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in self.children:
            try:
                child.wait(timeout=40)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self.services.close()


@pytest.fixture
def drill(tmp_path: Path, warehouse_path: Path, seeded_metadata: Path) -> Iterator[Drill]:
    built = Drill(tmp_path / "drill", warehouse_path, seeded_metadata)
    yield built
    built.close()


QUICK_RETRIES = RetryPolicy(max_attempts=10, base_delay_s=1, max_delay_s=4)


def delivery_of(message_id: str) -> str:
    """The delivery id a Message-ID was derived from (``<delivery-id@domain>``)."""
    return message_id.strip("<>").split("@", 1)[0]


@pytest.mark.slow
def test_kill_9_with_runs_in_flight_then_restart_sends_no_email_twice(drill: Drill) -> None:
    """Each of the 50 runs has one recipient and so one email delivery. Whenever the kill
    lands, each delivery ends in one of two states after the restart:

    - delivered: its email arrived exactly once (sent before the kill and recorded, or sent by
      the restarted scheduler);
    - unknown: the killed process had claimed it ("sending") and died before recording the
      relay's answer. Its email arrived once or not at all, and it is never resent by itself:
      the run is dead, naming it, for a person to replay.

    So the assertion is exact whatever the timing: delivered + unknown == 50, every delivered
    one has exactly one email, no Message-ID (one per delivery) arrives twice, and no email
    arrives for anything else. Retries are quick so that a reaped run's backoff is short."""
    count = 50
    drill.store_missed_schedules(count, retry=QUICK_RETRIES)
    drill.sink.start()
    first = drill.start_scheduler()
    wait_for(lambda: len(drill.sink.messages()) >= 5, 120, "the first emails")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert len(drill.sink.messages()) < count, "everything was delivered before the kill"
    drill.start_scheduler()
    # Runs the dead process held are re-queued once their heartbeat is stale (15 s).
    wait_for(lambda: drill.finished_runs() == count, 240, "every run settled after restart")
    runs = drill.runs()
    deliveries = drill.services.runs.deliveries.of_runs([run.id for run in runs])
    assert {d.channel for d in deliveries} == {"email"} and len(deliveries) == count
    delivered = {d.id for d in deliveries if d.status is DeliveryStatus.DELIVERED}
    unknown = {d.id for d in deliveries if d.status is DeliveryStatus.UNKNOWN}
    assert len(delivered) + len(unknown) == count
    arrived = [delivery_of(message_id) for message_id in drill.message_ids()]
    assert len(arrived) == len(set(arrived)), "an email was sent twice"
    assert delivered <= set(arrived), "a delivery recorded as delivered never arrived"
    assert set(arrived) <= delivered | unknown
    by_status = Counter(run.status for run in runs)
    assert by_status == Counter(
        {RunStatus.SUCCEEDED: count - len(unknown), RunStatus.DEAD: len(unknown)}
    )
    for run in runs:
        if run.status is RunStatus.DEAD:
            assert run.error is not None and "replay the run" in run.error


@pytest.mark.slow
def test_two_schedulers_started_at_once_deliver_nothing_twice(drill: Drill) -> None:
    count = 20
    drill.store_missed_schedules(count)
    drill.sink.start()
    drill.start_scheduler(workers=2)
    drill.start_scheduler(workers=2)
    wait_for(lambda: drill.finished_runs() == count, 180, "every run finished")
    ids = drill.message_ids()
    assert len(ids) == count
    assert len(set(ids)) == count


@pytest.mark.slow
def test_smtp_down_then_back_delivers_everything_once(drill: Drill) -> None:
    count = 5
    drill.store_missed_schedules(count, retry=QUICK_RETRIES)
    drill.start_scheduler(workers=2)  # nothing listens on the SMTP port yet: connection refused

    def every_run_retried() -> bool:
        runs = drill.runs()
        return len(runs) == count and all(run.attempt >= 2 for run in runs)

    wait_for(every_run_retried, 120, "every run failing on SMTP and retrying")
    assert drill.sink.messages() == []
    drill.sink.start()
    wait_for(lambda: drill.finished_runs() == count, 120, "every run delivered after SMTP is back")
    assert {run.status for run in drill.runs()} == {RunStatus.SUCCEEDED}
    ids = drill.message_ids()
    assert len(ids) == count
    assert len(set(ids)) == count


@pytest.mark.slow
def test_a_poison_schedule_goes_dead_while_the_others_deliver(drill: Drill) -> None:
    healthy = 5
    drill.store_missed_schedules(healthy, retry=QUICK_RETRIES)
    poisoned_report = drill.store_missed_schedules(1, retry=QUICK_RETRIES, name="poison")
    drill.services.saved_reports.delete(ANA, poisoned_report)  # its runs can never render
    drill.sink.start()
    drill.start_scheduler(workers=2)
    wait_for(lambda: drill.finished_runs() == healthy + 1, 120, "every run settled")
    by_status = Counter(run.status for run in drill.runs())
    assert by_status == {RunStatus.SUCCEEDED: healthy, RunStatus.DEAD: 1}
    [dead] = drill.services.runs.dead_letters(ADMIN)
    assert dead.error is not None and "can no longer read report" in dead.error
    subjects = Counter(
        str(message_from_bytes(path.read_bytes())["Subject"]).split(":")[0]
        for path in drill.sink.messages()
    )
    # Each healthy schedule's report once (the subject names the saved report, "drill"), and
    # the owner told once why the poison cannot run.
    assert subjects == {"drill": healthy, "Schedule 'poison 0' cannot run": 1}
