"""Recording fire times: each once, with the misfire policy applied, across restarts and rivals."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from reportgen.bootstrap import Services
from reportgen.domain.runs import Run, RunStatus
from reportgen.domain.schedules import CronCadence, MisfirePolicy, Schedule
from reportgen.observability import METRICS
from reportgen.scheduler.firing import Dispatcher
from reportgen.scheduler.misfires import MAX_RECORDED, RUN_ONCE_REASON, SKIP_REASON
from tests.conftest import ADMIN
from tests.scheduler.conftest import ManualClock
from tests.scheduler.fixtures import new_schedule, saved_report_id

HOURLY = CronCadence(expression="0 * * * *")


def runs_of(services: Services, schedule: Schedule) -> list[Run]:
    runs: list[Run] = []
    cursor: str | None = None
    while True:
        page = services.runs.list(ADMIN, schedule_id=schedule.id, cursor=cursor, limit=500)
        runs += page.runs
        if page.next_cursor is None:
            return sorted(runs, key=lambda run: run.fire_time)
        cursor = page.next_cursor


def top_of_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def hourly(services: Services) -> Schedule:
    return new_schedule(services, saved_report_id(services), cadence=HOURLY)


def five_hours_later(schedule: Schedule) -> ManualClock:
    """A clock 5 h 5 min past the hour the schedule was saved in: five fire times missed."""
    return ManualClock(top_of_hour(schedule.updated_at) + timedelta(hours=5, minutes=5))


def policy_schedule(services: Services, policy: MisfirePolicy) -> Schedule:
    return new_schedule(services, saved_report_id(services), cadence=HOURLY, policy=policy)


def test_run_once_runs_the_latest_missed_fire_and_records_the_rest_as_skipped(
    services: Services,
) -> None:
    schedule = policy_schedule(services, MisfirePolicy.RUN_ONCE)
    clock = five_hours_later(schedule)
    dispatcher = Dispatcher(services.runs, clock=clock)
    dispatcher.track(schedule)
    result = dispatcher.dispatch(schedule.id)
    assert (result.runs, result.skipped, result.duplicates) == (1, 4, 0)
    runs = runs_of(services, schedule)
    hours = [top_of_hour(schedule.updated_at) + timedelta(hours=h) for h in range(1, 6)]
    assert [run.fire_time for run in runs] == hours
    assert [run.status for run in runs] == [RunStatus.SKIPPED] * 4 + [RunStatus.PENDING]
    assert runs[-1].trigger == "misfire"
    assert {run.error for run in runs[:-1]} == {RUN_ONCE_REASON}


def test_run_all_runs_every_missed_fire(services: Services) -> None:
    schedule = policy_schedule(services, MisfirePolicy.RUN_ALL)
    dispatcher = Dispatcher(services.runs, clock=five_hours_later(schedule))
    dispatcher.track(schedule)
    assert dispatcher.dispatch(schedule.id).runs == 5
    runs = runs_of(services, schedule)
    assert {(run.status, run.trigger) for run in runs} == {(RunStatus.PENDING, "misfire")}


def test_skip_records_every_missed_fire_as_skipped_with_its_reason(services: Services) -> None:
    schedule = policy_schedule(services, MisfirePolicy.SKIP)
    dispatcher = Dispatcher(services.runs, clock=five_hours_later(schedule))
    dispatcher.track(schedule)
    assert dispatcher.dispatch(schedule.id).skipped == 5
    runs = runs_of(services, schedule)
    assert len(runs) == 5
    assert {(run.status, run.error) for run in runs} == {(RunStatus.SKIPPED, SKIP_REASON)}


def test_an_on_time_fire_is_a_scheduled_run_and_sets_the_lag(
    services: Services, hourly: Schedule
) -> None:
    fire = top_of_hour(hourly.updated_at) + timedelta(hours=1)
    clock = ManualClock(fire + timedelta(seconds=7))
    woken: list[int] = []
    dispatcher = Dispatcher(services.runs, clock=clock, on_runs=lambda: woken.append(1))
    dispatcher.track(hourly)
    assert dispatcher.dispatch(hourly.id).runs == 1
    [run] = runs_of(services, hourly)
    assert (run.fire_time, run.trigger, run.status) == (fire, "schedule", RunStatus.PENDING)
    assert woken == [1]
    assert METRICS.registry.get_sample_value("scheduler_lag_seconds") == pytest.approx(7.0)
    clock.advance(minutes=30)
    assert dispatcher.dispatch(hourly.id).runs == 0  # nothing new is due: nothing recorded
    assert woken == [1]


def test_a_restarted_scheduler_records_nothing_twice(services: Services, hourly: Schedule) -> None:
    clock = five_hours_later(hourly)
    first = Dispatcher(services.runs, clock=clock)
    first.track(hourly)
    first.dispatch(hourly.id)
    restarted = Dispatcher(services.runs, clock=clock)  # horizon read back from the ledger
    restarted.track(hourly)
    result = restarted.dispatch(hourly.id)
    assert (result.runs, result.skipped, result.duplicates) == (0, 0, 0)
    clock.advance(hours=1)
    assert restarted.dispatch(hourly.id).runs == 1
    assert len(runs_of(services, hourly)) == 6


def test_two_schedulers_at_once_record_each_fire_exactly_once(
    services: Services, hourly: Schedule
) -> None:
    clock = five_hours_later(hourly)
    rivals = [Dispatcher(services.runs, clock=clock) for _ in range(2)]
    for rival in rivals:
        rival.track(hourly)
    start = threading.Barrier(2)
    results = []

    def race(dispatcher: Dispatcher) -> None:
        start.wait(timeout=10)
        results.append(dispatcher.dispatch(hourly.id))

    threads = [threading.Thread(target=race, args=(rival,)) for rival in rivals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    runs = runs_of(services, hourly)
    assert len(runs) == 5
    assert len({run.fire_time for run in runs}) == 5
    assert sum(r.runs for r in results) == 1
    assert sum(r.runs + r.skipped for r in results) == 5


def test_a_forgotten_schedule_is_not_recorded(services: Services, hourly: Schedule) -> None:
    dispatcher = Dispatcher(services.runs, clock=five_hours_later(hourly))
    dispatcher.track(hourly)
    dispatcher.forget(hourly.id)
    assert dispatcher.dispatch(hourly.id).runs == 0
    assert runs_of(services, hourly) == []


def test_a_long_outage_is_bounded_with_one_summary_record(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    every_minute = new_schedule(
        services, saved_report_id(services), cadence=CronCadence(expression="* * * * *")
    )
    clock = ManualClock(every_minute.updated_at + timedelta(days=2))
    dispatcher = Dispatcher(services.runs, clock=clock)
    dispatcher.track(every_minute)
    result = dispatcher.dispatch(every_minute.id)
    assert (result.runs, result.skipped) == (1, MAX_RECORDED)  # newest runs; 999 + summary skip
    runs = runs_of(services, every_minute)
    assert len(runs) == MAX_RECORDED + 1
    summary = runs[0]
    assert summary.status is RunStatus.SKIPPED
    assert summary.error is not None and "only the newest 1,000 are recorded" in summary.error
    assert runs[-1].fire_time == top_of_hour(clock()) + timedelta(minutes=clock().minute)
    assert "missed more than" in caplog.text


def test_a_tracked_schedule_is_kept_as_its_timing_and_unpacks_exactly(
    services: Services, hourly: Schedule
) -> None:
    dispatcher = Dispatcher(services.runs, clock=five_hours_later(hourly))
    dispatcher.track(hourly)
    tracked = dispatcher.tracked()[hourly.id]
    assert not isinstance(tracked, Schedule)  # no model per schedule between its fires
    assert (tracked.cadence, tracked.timezone, tracked.misfire_policy, tracked.updated_at) == (
        hourly.cadence,
        hourly.timezone,
        hourly.misfire_policy,
        hourly.updated_at,
    )
    assert tracked.schedule() == hourly
    dispatcher.dispatch(hourly.id)
    assert {run.report_id for run in runs_of(services, hourly)} == {hourly.report_id}


def test_an_edit_keeps_a_fire_time_whose_dispatch_was_late(services: Services) -> None:
    schedule = new_schedule(services, saved_report_id(services), cadence=HOURLY)
    hour = top_of_hour(schedule.updated_at) + timedelta(hours=1)
    clock = ManualClock(hour - timedelta(seconds=2))
    dispatcher = Dispatcher(services.runs, clock=clock)
    dispatcher.track(schedule)
    assert dispatcher.dispatch(schedule.id).runs == 0  # nothing due yet; the horizon is set
    # The owner edits the schedule a second after the hour, before the late dispatch ran.
    edited = schedule.model_copy(
        update={"name": "Renamed", "version": schedule.version + 1,
                "updated_at": hour + timedelta(seconds=1)}
    )  # fmt: skip
    dispatcher.track(edited)
    clock.now = hour + timedelta(seconds=5)
    assert dispatcher.dispatch(schedule.id).runs == 1
    assert [run.fire_time for run in runs_of(services, schedule)] == [hour]
