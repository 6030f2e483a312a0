"""ScheduleService: validation with field paths, ownership, optimistic locking, the change feed."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from reportgen.bootstrap import Services
from reportgen.domain.schedules import (
    CronCadence,
    Recipient,
    RecipientKind,
    ScheduleDraft,
    StorageChannel,
    WebhookChannel,
    WeekdaysAt,
)
from reportgen.domain.spec import ReportSpec
from reportgen.errors import Conflict, InvalidInput, NotAllowed, NotFound
from reportgen.rendering.specfiles import load_spec_file
from reportgen.services.ports import Parcel, Receipt
from reportgen.services.schedules import FieldProblem, ScheduleService
from tests.conftest import ADMIN, ANA, REPO, VICTOR

EXECUTIVE = REPO / "report_templates/executive_summary/sample.yml"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class FakeChannel:
    """A delivery channel that refuses targets containing 'internal' (as the SSRF guard would)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.checked: list[str] = []

    def send(self, parcel: Parcel, target: str) -> Receipt:  # pragma: no cover - not sent here
        raise AssertionError("schedules never send")

    def check_target(self, target: str) -> None:
        self.checked.append(target)
        if "internal" in target:
            raise InvalidInput(f"{target} points inside the network; use a public https URL")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def webhook() -> FakeChannel:
    return FakeChannel("webhook")


@pytest.fixture
def schedules(services: Services, clock: Clock, webhook: FakeChannel) -> ScheduleService:
    return ScheduleService(
        services.store.schedules,
        services.saved_reports,
        services.reports,
        services.store.users,
        channels={
            "email": FakeChannel("email"),
            "webhook": webhook,
            "storage": FakeChannel("storage"),
        },
        audit=services.store.audit,
        clock=clock,
    )


@pytest.fixture
def report_id(services: Services) -> str:
    spec: ReportSpec = load_spec_file(EXECUTIVE).spec
    return services.saved_reports.save(ANA, spec, name="Executive summary").id


def draft(report_id: str, **overrides: object) -> ScheduleDraft:
    values: dict[str, object] = {
        "name": "Monday exec summary",
        "report_id": report_id,
        "cadence": WeekdaysAt(at=time(8)),
        "timezone": "Europe/London",
        "recipients": (Recipient(kind=RecipientKind.USER, value="ana"),),
    }
    values.update(overrides)
    return ScheduleDraft.model_validate(values)


def test_create_stores_version_one_and_audits(
    schedules: ScheduleService, services: Services, report_id: str
) -> None:
    created = schedules.create(ANA, draft(report_id))

    assert (created.owner, created.version, created.created_at, created.updated_by) == (
        "ana",
        1,
        T0,
        "ana",
    )
    assert schedules.get(ANA, created.id) == created
    assert schedules.list(ANA) == [created]
    (event,) = services.store.audit.list(action="schedule.create")
    assert (event.actor, event.target) == ("ana", f"schedule:{created.id}")


def test_every_problem_comes_with_its_field_path(
    schedules: ScheduleService, webhook: FakeChannel, report_id: str
) -> None:
    bad = draft(
        report_id,
        name="  ",
        cadence=CronCadence(expression="0 25 * * *"),
        timezone="Europe/Londn",
        recipients=(
            Recipient(kind=RecipientKind.USER, value="nobody"),
            Recipient(kind=RecipientKind.ROLE, value="managers"),
            Recipient(kind=RecipientKind.EMAIL, value="not-an-address"),
            Recipient(kind=RecipientKind.USER, value="nobody"),
        ),
        channels=({"kind": "email"}, WebhookChannel(url="https://internal.corp/hook")),
        parameters={"colour": ("red",)},
    )

    problems = schedules.check(ANA, bad)

    fields = [p.field for p in problems]
    assert fields == [
        "name",
        "timezone",
        "cadence.expression",
        "parameters.colour",
        "recipients[0].value",
        "recipients[1].value",
        "recipients[2].value",
        "recipients[3].value",
        "recipients[3].value",
        "channels[1].url",
    ]
    assert "did you mean 'Europe/London'?" in problems[1].message
    assert "hour 25 is outside 0–23. Example:" in problems[2].message
    assert problems[-1] == FieldProblem(
        "channels[1].url",
        "https://internal.corp/hook points inside the network; use a public https URL",
    )
    assert webhook.checked == ["https://internal.corp/hook"]
    with pytest.raises(InvalidInput) as raised:
        schedules.create(ANA, bad)
    assert list(raised.value.problems) == [str(p) for p in problems]
    assert schedules.list(ANA) == []


def test_a_report_the_owner_cannot_read_is_refused(
    schedules: ScheduleService, services: Services, report_id: str
) -> None:
    missing = schedules.check(ANA, draft("no-such-report"))
    admin_report = services.saved_reports.save(
        ADMIN, load_spec_file(EXECUTIVE).spec, name="Admin's"
    )
    not_hers = schedules.check(ANA, draft(admin_report.id))

    assert missing == [FieldProblem("report_id", "there is no saved report 'no-such-report'")]
    assert [p.field for p in not_hers] == ["report_id"]
    assert "belongs to admin" in not_hers[0].message


def test_viewers_may_not_schedule(schedules: ScheduleService, report_id: str) -> None:
    with pytest.raises(NotAllowed, match="authors and admins"):
        schedules.create(VICTOR, draft(report_id))


def test_a_stale_edit_is_refused_naming_who_saved_first(
    schedules: ScheduleService, clock: Clock, report_id: str
) -> None:
    created = schedules.create(ANA, draft(report_id))
    clock.now = T0 + timedelta(minutes=5)
    by_admin = schedules.update(
        ADMIN, created.id, draft(report_id, name="Renamed by admin"), expected_version=1
    )
    mine = draft(report_id, name="Ana's rename")

    with pytest.raises(Conflict) as raised:
        schedules.update(ANA, created.id, mine, expected_version=1)

    assert str(raised.value) == (
        "This schedule was changed by admin at 2026-11-02 09:05:00 UTC after you opened it;"
        " reload to see their changes. Your changes were not saved."
    )
    assert schedules.get(ANA, created.id) == by_admin
    assert by_admin.version == 2
    reapplied = schedules.update(ANA, created.id, mine, expected_version=2)
    assert (reapplied.name, reapplied.version, reapplied.owner) == ("Ana's rename", 3, "ana")


def test_pause_resume_delete_bump_the_version_and_reach_the_feed(
    schedules: ScheduleService, services: Services, clock: Clock, report_id: str
) -> None:
    created = schedules.create(ANA, draft(report_id))
    first, cursor = schedules.changes_since(None)
    clock.now = T0 + timedelta(hours=1)

    paused = schedules.pause(ANA, created.id)
    assert schedules.pause(ANA, created.id) == paused  # pausing twice changes nothing
    resumed = schedules.resume(ANA, created.id)
    schedules.delete(ANA, created.id)

    assert [c.schedule for c in first] == [created]
    assert (paused.paused, paused.version, paused.updated_at) == (True, 2, clock.now)
    assert (resumed.paused, resumed.version) == (False, 3)
    changes, _ = schedules.changes_since(cursor)
    assert [(c.schedule_id, c.schedule) for c in changes] == [(created.id, None)]
    assert schedules.load(created.id) is None
    with pytest.raises(NotFound):
        schedules.get(ANA, created.id)
    actions = [e.action for e in services.store.audit.list(actor="ana") if "schedule" in e.action]
    assert actions == ["schedule.delete", "schedule.resume", "schedule.pause", "schedule.create"]


def test_others_cannot_see_or_change_a_schedule(schedules: ScheduleService, report_id: str) -> None:
    created = schedules.create(ANA, draft(report_id))

    with pytest.raises(NotFound):
        schedules.pause(VICTOR, created.id)
    with pytest.raises(NotAllowed):
        schedules.list(ANA, everyone=True)
    assert schedules.list(ADMIN, everyone=True) == [created]
    assert schedules.list(ADMIN) == []


def test_storage_prefix_is_checked_by_the_channel(
    schedules: ScheduleService, report_id: str
) -> None:
    problems = schedules.check(
        ANA, draft(report_id, channels=(StorageChannel(prefix="internal/x"),), recipients=())
    )

    assert [p.field for p in problems] == ["channels[0].prefix"]


def test_email_needs_recipients(schedules: ScheduleService, report_id: str) -> None:
    assert schedules.check(ANA, draft(report_id, recipients=())) == [
        FieldProblem("recipients", "email delivery needs at least one recipient")
    ]


def test_timing_preview(schedules: ScheduleService) -> None:
    preview = schedules.timing(WeekdaysAt(at=time(8)), "Europe/London", count=2)
    broken = schedules.timing(CronCadence(expression="0 8 * *"), "UTC")

    assert preview.description == "Every weekday at 08:00 (Europe/London)"
    assert preview.next_fire_times == [
        datetime(2026, 11, 3, 8, tzinfo=UTC),
        datetime(2026, 11, 4, 8, tzinfo=UTC),
    ]
    assert preview.problems == []
    assert (broken.description, broken.next_fire_times) == ("", [])
    assert "has 5 fields" in broken.problems[0]


def test_a_cursor_not_from_the_feed_is_refused(schedules: ScheduleService) -> None:
    with pytest.raises(InvalidInput, match="pass None to start over"):
        schedules.changes_since("yesterday")
