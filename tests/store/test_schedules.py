"""ScheduleRepository: stored schedules, conditional updates and the change feed, both backends."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import update

from reportgen.domain.principal import Role
from reportgen.domain.schedules import (
    CronCadence,
    Recipient,
    RecipientKind,
    Schedule,
    WebhookChannel,
    WeekdaysAt,
)
from reportgen.domain.spec import ReportSpec
from reportgen.store import MetadataStore
from reportgen.store.tables import schedules

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SPEC = ReportSpec.model_validate(
    {"title": "Weekly sales", "dataset": "sales", "blocks": [{"kind": "cover"}]}
)


@pytest.fixture
def report_id(store: MetadataStore) -> str:
    store.users.add("ana", "Ana", "ana@example.com", "password-123", {Role.AUTHOR})
    report = store.reports.save(
        SPEC,
        report_id=None,
        name="Sales",
        description="",
        owner="ana",
        author="ana",
        comment="",
        at=T0,
    )
    return report.id


def schedule(report_id: str, number: int = 1, **overrides: object) -> Schedule:
    values: dict[str, object] = {
        "id": f"00000000-0000-0000-0000-{number:012d}",
        "name": f"Schedule {number}",
        "report_id": report_id,
        "owner": "ana",
        "cadence": WeekdaysAt(at=time(8)),
        "timezone": "Europe/London",
        "recipients": (Recipient(kind=RecipientKind.USER, value="ana"),),
        "channels": ({"kind": "email"}, WebhookChannel(url="https://hooks.example.com/x")),
        "formats": ("pdf", "csv"),
        "parameters": {"region": ("EMEA",)},
        "created_at": T0,
        "updated_at": T0,
        "updated_by": "ana",
    }
    values.update(overrides)
    return Schedule.model_validate(values)


def test_a_schedule_reads_back_exactly(store: MetadataStore, report_id: str) -> None:
    stored = schedule(report_id, cadence=CronCadence(expression="*/15 9-17 * * 1-5"))

    store.schedules.add(stored)

    assert store.schedules.get(stored.id) == stored
    assert store.schedules.list() == [stored]
    assert store.schedules.list("someone-else") == []


def test_replace_needs_the_version_that_was_read(store: MetadataStore, report_id: str) -> None:
    first = store.schedules.add(schedule(report_id))
    renamed = first.model_copy(update={"name": "Renamed", "version": 2, "updated_by": "admin"})

    assert store.schedules.replace(renamed, expected_version=1) == renamed
    stale = first.model_copy(update={"name": "Stale", "version": 2})
    assert store.schedules.replace(stale, expected_version=1) is None
    assert store.schedules.get(first.id) == renamed


def test_delete_is_soft_and_final(store: MetadataStore, report_id: str) -> None:
    first = store.schedules.add(schedule(report_id))

    assert store.schedules.delete(first.id, by="ana", at=T0 + timedelta(hours=1)) is True
    assert store.schedules.delete(first.id, by="ana", at=T0) is False
    assert store.schedules.get(first.id) is None
    assert store.schedules.list() == []
    assert (
        store.schedules.replace(first.model_copy(update={"version": 2}), expected_version=1) is None
    )


def test_the_change_feed_starts_with_every_live_schedule(
    store: MetadataStore, report_id: str
) -> None:
    assert store.schedules.changes_since(None) == ([], 0)
    kept = store.schedules.add(schedule(report_id, 1))
    gone = store.schedules.add(schedule(report_id, 2))
    store.schedules.delete(gone.id, by="ana", at=T0)

    changes, cursor = store.schedules.changes_since(None)

    assert changes == [(kept.id, kept)]
    assert cursor == 3
    assert store.schedules.changes_since(cursor) == ([], 3)


def test_a_damaged_row_is_left_out_of_the_feed_not_fatal_to_it(
    store: MetadataStore, report_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    damaged = store.schedules.add(schedule(report_id, 1))
    fine = store.schedules.add(schedule(report_id, 2))
    with store.engine.begin() as connection:
        connection.execute(
            update(schedules).where(schedules.c.id == damaged.id).values(cadence={"kind": "??"})
        )

    changes, _ = store.schedules.changes_since(None)

    assert changes == [(damaged.id, None), (fine.id, fine)]
    assert f"schedule {damaged.id} holds values this release cannot read" in caplog.text


def test_the_change_feed_reports_edits_pauses_and_deletes_once_each(
    store: MetadataStore, report_id: str
) -> None:
    first = store.schedules.add(schedule(report_id, 1))
    second = store.schedules.add(schedule(report_id, 2))
    _, cursor = store.schedules.changes_since(None)
    paused = first.model_copy(update={"paused": True, "version": 2})
    store.schedules.replace(paused, expected_version=1)
    store.schedules.delete(second.id, by="ana", at=T0)
    renamed = paused.model_copy(update={"name": "Renamed", "version": 3})
    store.schedules.replace(renamed, expected_version=2)

    changes, newer = store.schedules.changes_since(cursor)

    assert changes == [(second.id, None), (first.id, renamed)]
    assert newer == cursor + 3
    assert store.schedules.latest_change() == newer


def test_the_change_feed_read_in_pages_adds_up_to_one_read(
    store: MetadataStore, report_id: str
) -> None:
    stored = [store.schedules.add(schedule(report_id, n)) for n in range(1, 6)]
    store.schedules.delete(stored[1].id, by="ana", at=T0)  # change 6

    pages: list[list[tuple[str, Schedule | None]]] = []
    cursors: list[int] = []
    cursor: int | None = None
    while not pages or len(pages[-1]) == 2:
        page, cursor = store.schedules.changes_since(cursor, limit=2)
        pages.append(page)
        cursors.append(cursor)

    live = [(s.id, s) for n, s in enumerate(stored) if n != 1]
    assert store.schedules.changes_since(None) == (live, 6)
    # Pages after the first are changes: the delete, newer than the first page, comes too.
    assert [change for page in pages for change in page] == [*live, (stored[1].id, None)]
    # A full page ends at its last change; the short one at the newest change of all.
    assert cursors == [3, 5, 6]


def test_a_schedule_changed_between_pages_comes_again_as_it_is_now(
    store: MetadataStore, report_id: str
) -> None:
    first, second, third = (store.schedules.add(schedule(report_id, n)) for n in (1, 2, 3))
    page, cursor = store.schedules.changes_since(None, limit=2)
    renamed = first.model_copy(update={"name": "Renamed", "version": 2})
    store.schedules.replace(renamed, expected_version=1)  # change 4
    store.schedules.delete(second.id, by="ana", at=T0)  # change 5

    later, newer = store.schedules.changes_since(cursor, limit=10)

    assert (page, cursor) == ([(first.id, first), (second.id, second)], 2)
    assert later == [(third.id, third), (first.id, renamed), (second.id, None)]
    assert newer == 5
    assert store.schedules.changes_since(newer, limit=10) == ([], 5)


@pytest.mark.slow
def test_concurrent_writers_number_their_changes_without_gaps_or_repeats(
    store: MetadataStore, report_id: str
) -> None:
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for n in range(10):
                store.schedules.add(schedule(report_id, worker * 100 + n))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    changes, cursor = store.schedules.changes_since(0)
    assert len(changes) == 40
    assert cursor == 40
