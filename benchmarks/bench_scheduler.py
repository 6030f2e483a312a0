"""Benchmark the scheduler process: a start with many stored schedules, and a burst of fires.

Prints, one per line (`BENCH name=value unit`):
- sched.store10k.start_s: in a fresh process (imports done), from building the services to
  every job loaded (the process leads), with 10,000 stored schedules; sched.store10k.rss_mb:
  that process's RSS right after (targets: <= 5 s, <= 300 MB); sched.store10k.rss_after_render_mb:
  the same process's RSS once its first run (one schedule run now: the KPI page as PDF, emailed
  to a local aiosmtpd sink) has rendered and delivered, the figure to expect once it works;
- sched.burst1000.drain_s: 1,000 light schedules (one KPI page as PDF, emailed to a local
  aiosmtpd sink) due in the same minute, from their fire time until the last run finished;
  sched.burst1000.runs_per_min (target >= 60 on 2 cores);
- sched.burst1000.start_lateness_p99_s: for each run, how long it waited after a worker was
  free (replaying the pool's finish times; target <= 2 s);
- sched.burst1000.skipped / .duplicates / .emails: counts that must be 0, 0 and 1,000.

    python benchmarks/bench_scheduler.py [--schedules N] [--burst N] [--rows N]
"""

from __future__ import annotations

import argparse
import heapq
import math
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from reportgen.bootstrap import Services, build_services
from reportgen.delivery.mailsink import MailSink
from reportgen.domain.principal import Principal, Role
from reportgen.domain.runs import Run, RunStatus
from reportgen.domain.schedules import CronCadence, Recipient, RecipientKind, Schedule
from reportgen.logs import configure_logging
from reportgen.rendering.specfiles import spec_from_data
from reportgen.scheduler.leadership import FileLeaderLock
from reportgen.scheduler.process import Duties, SchedulerProcess
from reportgen.services.users import seed_demo_users
from reportgen.services.workers import WorkerPool
from reportgen.settings import Settings
from reportgen.store import new_id
from reportgen.warehouse.demo import demo_warehouse_exists, seed_demo_warehouse

ROOT = Path(__file__).resolve().parents[1]
BENCH_END = date(2026, 10, 31)
PAGE = 200
ADMIN = Principal(username="admin", roles={Role.ADMIN}, attributes={})
ANA = Principal(username="ana", roles={Role.AUTHOR}, attributes={"region": ("EMEA",)})
KPI_PAGE = {
    "spec_version": 1,
    "title": "Burst KPIs",
    "template": "kpi_tracker",
    "dataset": "sales",
    "time_range": {"preset": "last_30_days"},
    "blocks": [{"kind": "kpis", "tiles": [{"measure": "revenue"}, {"measure": "orders"}]}],
}


def emit(name: str, value: float, unit: str) -> None:
    print(f"BENCH {name}={value:.3f} {unit}", flush=True)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], bool], deadline_s: float, what: str) -> None:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > deadline_s:
            raise SystemExit(f"bench_scheduler: {what} did not happen within {deadline_s:.0f} s")
        time.sleep(0.05)


def settings_for(folder: Path, warehouse: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": folder,
        "warehouse_url": f"duckdb:///{warehouse}",
        "catalog_dir": ROOT / "catalog",
        "log_level": "WARNING",
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


def prepare(settings: Settings) -> str:
    """Migrate, seed the demo users and save the KPI page; returns the saved report's id."""
    services = build_services(settings, upgrade=True)
    try:
        seed_demo_users(services.users)
        return services.saved_reports.save(ANA, spec_from_data(KPI_PAGE), name="Burst KPIs").id
    finally:
        services.close()


def store_schedules(settings: Settings, report_id: str, count: int, cron: str) -> None:
    """Store ``count`` schedules straight through the repository (setup, not measured)."""
    services = build_services(settings)
    now = datetime.now(UTC)
    try:
        for number in range(count):
            services.store.schedules.add(
                Schedule(
                    id=new_id(),
                    owner="ana",
                    name=f"bench {number}",
                    report_id=report_id,
                    cadence=CronCadence(expression=cron),
                    recipients=(Recipient(kind=RecipientKind.USER, value="ana"),),
                    created_at=now,
                    updated_at=now,
                )
            )
    finally:
        services.close()


def scheduler_process(services: Services, settings: Settings, worker_id: str) -> SchedulerProcess:
    def pool() -> WorkerPool:
        return WorkerPool(
            services.runs,
            size=settings.scheduler_workers,
            poll_s=settings.scheduler_poll_s,
            worker_id=worker_id,
        )

    duties = Duties(
        feed=services.schedules,
        ledger=services.runs,
        queue=services.runs,
        workers=pool,
        worker_id=worker_id,
        poll_s=settings.scheduler_poll_s,
        drain_s=30,
    )
    return SchedulerProcess(duties, FileLeaderLock(settings.data_dir / "scheduler.lock"))


def measure_start(folder: Path, warehouse: Path) -> None:
    """In a fresh process: build the services, lead, load every job; print seconds and RSS.
    Then run one schedule now and print the RSS once that run has rendered and delivered."""
    port = free_port()
    settings = settings_for(folder, warehouse, smtp_url=f"smtp://127.0.0.1:{port}")
    started = time.perf_counter()
    services = build_services(settings)
    process = scheduler_process(services, settings, "bench-store")
    process.start()
    wait_for(process.health.is_leader, 120, "leading with every job loaded")
    elapsed = time.perf_counter() - started
    memory = rss_mb()
    book = process.jobs
    loaded = book.job_ids() if book else set()
    sink = MailSink("127.0.0.1", port, folder / "mail")
    sink.start()
    try:
        run = services.runs.run_now(ADMIN, min(loaded - {"reconcile"}))
        done = {RunStatus.SUCCEEDED, RunStatus.SKIPPED, RunStatus.DEAD, RunStatus.RETRYING}
        wait_for(lambda: services.runs.get(ADMIN, run.id).run.status in done, 300, "a run")
        status = services.runs.get(ADMIN, run.id).run.status
        if status is not RunStatus.SUCCEEDED:
            raise SystemExit(f"bench_scheduler: the first run ended {status.value}, not rendered")
        print(elapsed, memory, len(loaded), rss_mb(), flush=True)
    finally:
        sink.stop()
        process.stop(timeout=5)
        services.close()


def bench_store(warehouse: Path, count: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-sched-") as tmp:
        settings = settings_for(Path(tmp), warehouse)
        # Daily at 03:17 UTC: loaded, but not due while the benchmark runs (most of the time).
        store_schedules(settings, prepare(settings), count, "17 3 * * *")
        measured = subprocess.run(  # noqa: S603 (this script, fixed arguments)
            [sys.executable, __file__, "--measure-start", tmp, "--warehouse", str(warehouse)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
    elapsed, memory, loaded = float(measured[0]), float(measured[1]), int(measured[2])
    if loaded < count:
        raise SystemExit(f"bench_scheduler: {loaded} jobs loaded of {count}")
    emit("sched.store10k.start_s", elapsed, "s")
    emit("sched.store10k.rss_mb", memory, "MB")
    emit("sched.store10k.rss_after_render_mb", float(measured[3]), "MB")


def every_run(services: Services) -> list[Run]:
    runs: list[Run] = []
    cursor: str | None = None
    while True:
        page = services.runs.list(ADMIN, cursor=cursor, limit=PAGE)
        runs += page.runs
        if page.next_cursor is None:
            return runs
        cursor = page.next_cursor


def start_lateness(runs: list[Run], workers: int) -> list[float]:
    """Seconds each run waited after both its fire time and a free worker (pool replayed)."""
    free_at = [min(run.fire_time for run in runs)] * workers
    heapq.heapify(free_at)
    waits = []
    for run in sorted(runs, key=lambda r: r.started_at or r.fire_time):
        assert run.started_at is not None and run.finished_at is not None
        worker_free = heapq.heappop(free_at)
        waits.append((run.started_at - max(run.fire_time, worker_free)).total_seconds())
        heapq.heappush(free_at, run.finished_at)
    return waits


def bench_burst(warehouse: Path, count: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as tmp:
        folder = Path(tmp)
        port = free_port()
        settings = settings_for(folder, warehouse, smtp_url=f"smtp://127.0.0.1:{port}")
        report_id = prepare(settings)
        fire = (datetime.now(UTC) + timedelta(minutes=2)).replace(second=0, microsecond=0)
        store_schedules(settings, report_id, count, f"{fire.minute} {fire.hour} * * *")
        sink = MailSink("127.0.0.1", port, folder / "mail")
        sink.start()
        services = build_services(settings)
        process = scheduler_process(services, settings, "bench-burst")
        process.start()
        try:
            wait_for(process.health.is_leader, 120, "leading")

            def finished() -> list[Run]:
                done = {RunStatus.SUCCEEDED, RunStatus.SKIPPED, RunStatus.DEAD, RunStatus.FAILED}
                return [run for run in every_run(services) if run.status in done]

            deadline = 180 + count * 10 / settings.scheduler_workers
            wait_for(lambda: len(finished()) >= count, deadline, f"{count} runs finishing")
            runs = finished()
        finally:
            process.stop(timeout=30)
            services.close()
            sink.stop()
        emails = len(sink.messages())
    last = max(run.finished_at for run in runs if run.finished_at is not None)
    drain = (last - fire).total_seconds()
    per_schedule = Counter(run.schedule_id for run in runs)
    waits = sorted(start_lateness([r for r in runs if r.started_at], settings.scheduler_workers))
    emit(f"sched.burst{count}.drain_s", drain, "s")
    emit(f"sched.burst{count}.runs_per_min", count / drain * 60, "runs/min")
    emit(f"sched.burst{count}.start_lateness_p99_s", waits[int(len(waits) * 0.99) - 1], "s")
    emit(f"sched.burst{count}.skipped", sum(r.status is RunStatus.SKIPPED for r in runs), "runs")
    emit(f"sched.burst{count}.duplicates", sum(n - 1 for n in per_schedule.values()), "runs")
    emit(f"sched.burst{count}.emails", emails, "messages")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=10_000)
    parser.add_argument("--burst", type=int, default=1_000)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--measure-start", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--warehouse", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    configure_logging(settings_for(Path(), Path("unused.duckdb")))  # warnings and errors only
    if args.measure_start:
        measure_start(args.measure_start, args.warehouse)
        return
    with tempfile.TemporaryDirectory(prefix="bench-warehouse-") as tmp:
        warehouse = Path(tmp) / "warehouse.duckdb"
        if not demo_warehouse_exists(warehouse):
            seed_demo_warehouse(warehouse, rows=args.rows, end_date=BENCH_END)
        if args.schedules:
            bench_store(warehouse, args.schedules)
        if args.burst:
            bench_burst(warehouse, args.burst)
    sys.exit(0)


if __name__ == "__main__":
    main()
