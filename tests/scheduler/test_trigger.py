"""The APScheduler trigger asks the domain's timing, DST rules included."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from reportgen.domain.schedules import CronCadence, DailyAt
from reportgen.domain.timing import next_fire_times
from reportgen.scheduler.jobs import FIRES, JOB_DEFAULTS, new_scheduler
from reportgen.scheduler.trigger import CadenceTrigger

NEW_YORK_DAILY_0230 = DailyAt(at=time(2, 30))


def test_first_fire_is_the_next_one_after_now() -> None:
    trigger = CadenceTrigger(DailyAt(at=time(8, 0)), "Europe/London")
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, now) == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def test_a_nonexistent_local_time_fires_once_when_the_clocks_jump() -> None:
    # 2026-03-08 02:30 does not exist in New York; the domain fires at 03:00 EDT (07:00 UTC).
    trigger = CadenceTrigger(NEW_YORK_DAILY_0230, "America/New_York")
    now = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    first = trigger.get_next_fire_time(None, now)
    assert first == next_fire_times(NEW_YORK_DAILY_0230, "America/New_York", now, 1)[0]
    assert first == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    second = trigger.get_next_fire_time(first, first)
    assert second == datetime(2026, 3, 9, 6, 30, tzinfo=UTC)


def test_after_a_late_run_the_next_fire_is_after_now_not_a_backlog() -> None:
    trigger = CadenceTrigger(CronCadence(expression="*/5 * * * *"), "UTC")
    previous = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    now = previous + timedelta(hours=3, minutes=1)
    assert trigger.get_next_fire_time(previous, now) == datetime(2026, 3, 2, 11, 5, tzinfo=UTC)


def test_jobs_never_drop_late_runs_and_never_overlap() -> None:
    assert JOB_DEFAULTS == {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
    scheduler = new_scheduler()
    job = scheduler.add_job(
        print, trigger=CadenceTrigger(DailyAt(at=time(8)), "UTC"), id="s", executor=FIRES
    )
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("s")
        assert job.misfire_grace_time is None
        assert job.coalesce is True and job.max_instances == 1
        assert job.next_run_time.hour == 8
    finally:
        scheduler.shutdown(wait=False)
