"""The job set follows the schedules table: created, edited, paused, resumed, deleted."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import time

import pytest

from reportgen.bootstrap import Services
from reportgen.domain.schedules import CronCadence, DailyAt
from reportgen.errors import InvalidInput
from reportgen.scheduler.firing import Dispatcher
from reportgen.scheduler.jobs import FIRES, JobBook, new_scheduler
from reportgen.scheduler.trigger import CadenceTrigger
from reportgen.services.schedules import ScheduleChange
from tests.conftest import ANA
from tests.scheduler.conftest import ManualClock
from tests.scheduler.fixtures import draft, new_schedule, saved_report_id


@pytest.fixture
def book(services: Services, clock: ManualClock) -> Iterator[JobBook]:
    scheduler = new_scheduler()
    scheduler.start(paused=True)  # jobs are kept, none runs: the test drives each step
    try:
        yield JobBook(
            scheduler, services.schedules, Dispatcher(services.runs, clock=clock), clock=clock
        )
    finally:
        scheduler.shutdown(wait=False)


def test_every_change_is_followed_within_one_reconciliation(
    services: Services, book: JobBook
) -> None:
    report = saved_report_id(services)
    assert book.reconcile().added == 0
    book._scheduler.add_job(print, "interval", seconds=60, id="upkeep")  # not a schedule's
    assert book.job_ids() == set()
    first = new_schedule(services, report, name="first")
    second = new_schedule(services, report, name="second")
    assert book.reconcile().added == 2
    assert book.job_ids() == {first.id, second.id}

    services.schedules.pause(ANA, first.id)
    assert book.reconcile().removed == 1
    assert book.job_ids() == {second.id}

    services.schedules.resume(ANA, first.id)
    assert book.reconcile().added == 1
    assert book.job_ids() == {first.id, second.id}

    current = services.schedules.get(ANA, second.id)
    services.schedules.update(
        ANA,
        second.id,
        draft(report, cadence=CronCadence(expression="30 6 * * 1-5"), name="second"),
        expected_version=current.version,
    )
    assert book.reconcile().replaced == 1
    trigger = book.job(second.id).trigger
    assert isinstance(trigger, CadenceTrigger)
    assert trigger.cadence == CronCadence(expression="30 6 * * 1-5")

    services.schedules.delete(ANA, first.id)
    assert book.reconcile().removed == 1
    assert book.job_ids() == {second.id}
    assert book.reconcile() == book.reconcile()  # nothing changed: nothing to do


def test_a_new_job_catches_up_at_once_then_follows_its_cadence(
    services: Services, book: JobBook, clock: ManualClock
) -> None:
    schedule = new_schedule(services, saved_report_id(services), cadence=DailyAt(at=time(8)))
    book.reconcile()
    job = book.job(schedule.id)
    assert job.executor == FIRES
    assert job.args == (schedule.id,)
    assert job.next_run_time is not None
    # Due at once (the clock's now), so a fire between the save and this poll is not lost.
    assert job.next_run_time.timestamp() == pytest.approx(clock().timestamp())


def test_a_fresh_leader_loads_every_live_schedule(services: Services, clock: ManualClock) -> None:
    report = saved_report_id(services)
    live = [new_schedule(services, report, name=f"s{n}") for n in range(3)]
    services.schedules.pause(ANA, live[0].id)
    scheduler = new_scheduler()
    fresh = JobBook(
        scheduler, services.schedules, Dispatcher(services.runs, clock=clock), clock=clock
    )
    fresh.reconcile()  # before start: jobs wait in APScheduler's pending list
    assert fresh.job_ids() == {live[1].id, live[2].id}


class CountingFeed:
    """The schedules service's feed, remembering how many changes each read returned."""

    def __init__(self, services: Services) -> None:
        self._schedules = services.schedules
        self.pages: list[int] = []

    def changes_since(
        self, cursor: str | None, *, limit: int | None = None
    ) -> tuple[Sequence[ScheduleChange], str]:
        changes, newer = self._schedules.changes_since(cursor, limit=limit)
        self.pages.append(len(changes))
        return changes, newer


def test_a_fresh_leader_loads_a_page_of_schedules_at_a_time(
    services: Services, clock: ManualClock
) -> None:
    report = saved_report_id(services)
    live = [new_schedule(services, report, name=f"s{n}") for n in range(5)]
    services.schedules.pause(ANA, live[0].id)
    feed = CountingFeed(services)
    book = JobBook(
        new_scheduler(), feed, Dispatcher(services.runs, clock=clock), clock=clock, page=2
    )

    assert book.reconcile().added == 4
    assert book.job_ids() == {s.id for s in live[1:]}
    assert feed.pages == [2, 2, 1]  # then every poll reads what changed, a page at a time
    services.schedules.delete(ANA, live[1].id)
    assert book.reconcile().removed == 1
    assert feed.pages[3:] == [1]


def test_the_feed_refuses_a_page_of_nothing(services: Services) -> None:
    with pytest.raises(InvalidInput, match="pass at least 1"):
        services.schedules.changes_since(None, limit=0)


class OneBadRow:
    """A feed whose first page holds a schedule that cannot be scheduled, then a good one."""

    def __init__(self, services: Services) -> None:
        report = saved_report_id(services)
        good = new_schedule(services, report, name="good")
        # A row written by an older release, whose cron this release no longer reads.
        bad = new_schedule(services, report, name="bad").model_copy(
            update={"cadence": CronCadence(expression="0 8 * * mon-fri-sat")}
        )
        self.changes = [ScheduleChange(bad.id, bad), ScheduleChange(good.id, good)]
        self.good, self.bad = good, bad
        self.cursors: list[str | None] = []

    def changes_since(
        self, cursor: str | None, *, limit: int | None = None
    ) -> tuple[Sequence[ScheduleChange], str]:
        self.cursors.append(cursor)
        return (self.changes, "2") if cursor is None else ([], "2")


def test_one_schedule_that_cannot_be_applied_does_not_hold_up_the_others(
    services: Services, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    feed = OneBadRow(services)
    scheduler = new_scheduler()
    scheduler.start(paused=True)
    try:
        book = JobBook(scheduler, feed, Dispatcher(services.runs, clock=clock), clock=clock)
        book.reconcile()
        assert book.job_ids() == {feed.good.id}
        assert f"schedule {feed.bad.id} could not be applied" in caplog.text
        book.reconcile()
        assert feed.cursors == [None, "2"]  # the cursor moved past the bad row
    finally:
        scheduler.shutdown(wait=False)
