"""Misfire policies: every due fire time becomes a run or a skipped run with its reason."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from reportgen.domain.schedules import CronCadence, DailyAt, MisfirePolicy
from reportgen.scheduler.misfires import (
    MAX_RECORDED,
    RUN_ONCE_REASON,
    SKIP_REASON,
    due_times,
    plan_fires,
    summary_reason,
)

NOW = datetime(2026, 3, 6, 8, 0, 20, tzinfo=UTC)
DAILY_8 = DailyAt(at=time(8, 0))
MISSED = [datetime(2026, 3, day, 8, 0, tzinfo=UTC) for day in (3, 4, 5)]
ON_TIME = datetime(2026, 3, 6, 8, 0, tzinfo=UTC)


def test_on_time_fire_is_a_scheduled_run() -> None:
    plan = plan_fires([ON_TIME], NOW, MisfirePolicy.SKIP)
    assert plan.runs == ((ON_TIME, "schedule"),)
    assert plan.skips == ()


def test_run_once_runs_the_newest_missed_time_and_skips_the_others() -> None:
    plan = plan_fires(MISSED, NOW, MisfirePolicy.RUN_ONCE)
    assert plan.runs == ((MISSED[-1], "misfire"),)
    assert plan.skips == tuple((t, RUN_ONCE_REASON) for t in MISSED[:-1])


def test_run_once_with_an_on_time_fire_skips_every_missed_one() -> None:
    plan = plan_fires([*MISSED, ON_TIME], NOW, MisfirePolicy.RUN_ONCE)
    assert plan.runs == ((ON_TIME, "schedule"),)
    assert [t for t, _ in plan.skips] == MISSED


def test_run_all_runs_every_missed_time_in_order() -> None:
    plan = plan_fires([*MISSED, ON_TIME], NOW, MisfirePolicy.RUN_ALL)
    assert plan.runs == (*((t, "misfire") for t in MISSED), (ON_TIME, "schedule"))
    assert plan.skips == ()


def test_skip_records_each_missed_time_with_its_reason() -> None:
    plan = plan_fires(MISSED, NOW, MisfirePolicy.SKIP)
    assert plan.runs == ()
    assert plan.skips == tuple((t, SKIP_REASON) for t in MISSED)


def test_nothing_due_plans_nothing() -> None:
    for policy in MisfirePolicy:
        plan = plan_fires([], NOW, policy)
        assert plan.runs == () and plan.skips == ()


def test_due_times_lists_the_window_exclusive_of_its_start() -> None:
    due = due_times(DAILY_8, "UTC", MISSED[0], NOW)
    assert due.times == (*MISSED[1:], ON_TIME)
    assert due.older_count == 0


def test_a_long_outage_keeps_the_newest_fire_times_and_counts_the_older() -> None:
    every_minute = CronCadence(expression="* * * * *")
    due = due_times(every_minute, "UTC", NOW - timedelta(days=3), NOW)
    assert len(due.times) == MAX_RECORDED
    assert due.times[-1] == datetime(2026, 3, 6, 8, 0, tzinfo=UTC)  # the newest is never lost
    gaps = {b - a for a, b in zip(due.times, due.times[1:], strict=False)}
    assert gaps == {timedelta(minutes=1)}
    assert due.older_count >= MAX_RECORDED
    assert due.older_first == NOW.replace(second=0) - timedelta(days=3) + timedelta(minutes=1)
    assert due.older_last is not None and due.older_last < due.times[0]
    reason = summary_reason(due)
    assert f"at least {due.older_count:,} fire times" in reason
    assert "only the newest 1,000" in reason
