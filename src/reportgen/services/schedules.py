"""Schedules: create, edit, pause, resume and delete saved report schedules; feed the scheduler.

Authors and admins create schedules; the owner or an admin changes them. Every draft is checked
whole and every problem is reported with its field path (``recipients[2].value: ...``). Edits
carry the version the editor opened (optimistic locking): when someone saved in between, the
edit is refused with who and when, and nothing is lost (the caller keeps its draft). Every change
is audited. The scheduler reads `ScheduleService.changes_since` every few seconds.
"""

from __future__ import annotations

import builtins
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from reportgen.domain.principal import Principal, Role
from reportgen.domain.schedules import (
    CronCadence,
    RecipientKind,
    Schedule,
    ScheduleDraft,
    StorageChannel,
    WebhookChannel,
)
from reportgen.domain.timing import check_timing, describe, next_fire_times, timezone_problems
from reportgen.domain.timing.plan import AnyCadence
from reportgen.errors import Conflict, InvalidInput, NotAllowed, NotFound
from reportgen.services.ports import AuditSink, DeliveryChannel, UserStore
from reportgen.services.reports import ReportService
from reportgen.services.saved_reports import AUTHORING_ROLES, SavedReportService, may_change

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
MAX_CHANGE_ATTEMPTS = 3


class ScheduleStore(Protocol):
    """Where schedules live (`reportgen.store.schedules.ScheduleRepository`)."""

    def add(self, schedule: Schedule) -> Schedule: ...

    def replace(self, schedule: Schedule, *, expected_version: int) -> Schedule | None: ...

    def delete(self, schedule_id: str, *, by: str, at: datetime) -> bool: ...

    def get(self, schedule_id: str) -> Schedule | None: ...

    def list(self, owner: str | None = None) -> builtins.list[Schedule]: ...

    def changes_since(
        self, seq: int | None, *, limit: int | None = None
    ) -> tuple[builtins.list[tuple[str, Schedule | None]], int]: ...


@dataclass(frozen=True)
class FieldProblem:
    """One problem of a draft: the field's path and a sentence saying how to fix it."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class TimingPreview:
    """What a cadence means: a sentence, the next fire times (UTC) and any problems."""

    description: str
    next_fire_times: list[datetime]
    problems: list[str]


@dataclass(frozen=True)
class ScheduleChange:
    """A schedule as it is now; ``schedule`` None means it was deleted."""

    schedule_id: str
    schedule: Schedule | None


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ScheduleService:
    """Schedule use cases for people (UI, API, CLI) and the feed the scheduler reconciles from."""

    def __init__(
        self,
        store: ScheduleStore,
        saved_reports: SavedReportService,
        reports: ReportService,
        users: UserStore,
        *,
        channels: Mapping[str, DeliveryChannel],
        audit: AuditSink,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._store = store
        self._saved_reports = saved_reports
        self._reports = reports
        self._users = users
        self._channels = channels
        self._audit = audit
        self._clock = clock

    # Checks

    def check(self, principal: Principal, draft: ScheduleDraft) -> builtins.list[FieldProblem]:
        """Every problem ``draft`` would have if ``principal`` saved it as its owner."""
        return self._problems(principal, draft)

    def timing(
        self,
        cadence: AnyCadence,
        timezone: str,
        *,
        count: int = 5,
        after: datetime | None = None,
    ) -> TimingPreview:
        """A cadence in words and its next fire times, or the problems that stop it."""
        start = after or self._clock()
        problems = check_timing(cadence, timezone, now=start)
        if problems:
            return TimingPreview("", [], problems)
        return TimingPreview(
            describe(cadence, timezone), next_fire_times(cadence, timezone, start, count), []
        )

    # Changes

    def create(self, principal: Principal, draft: ScheduleDraft) -> Schedule:
        """Store a new schedule owned by ``principal``; `InvalidInput` lists every problem."""
        self._require_author(principal, "schedule.create", "schedule:new")
        self._raise_problems(self._problems(principal, draft))
        now = self._clock()
        schedule = Schedule(
            **dict(draft),
            id=str(uuid.uuid4()),
            owner=principal.username,
            created_at=now,
            updated_at=now,
            updated_by=principal.username,
        )
        self._store.add(schedule)
        self._audited(principal, "schedule.create", schedule, {"report_id": schedule.report_id})
        return schedule

    def update(
        self, principal: Principal, schedule_id: str, draft: ScheduleDraft, *, expected_version: int
    ) -> Schedule:
        """Replace a schedule's settings, if nobody saved since ``expected_version``.

        Raises `Conflict` (naming who saved and when) when the schedule moved on; the caller
        still holds ``draft`` and can reapply it after reloading.
        """
        current = self._visible(principal, schedule_id)
        self._require_author(principal, "schedule.update", f"schedule:{schedule_id}")
        if current.version != expected_version:
            raise self._conflict(current)
        self._raise_problems(self._problems(self._owner(current.owner, principal), draft))
        changed = sorted(k for k, v in dict(draft).items() if getattr(current, k) != v)
        updated = current.model_copy(
            update={
                **dict(draft),
                "version": expected_version + 1,
                "updated_at": self._clock(),
                "updated_by": principal.username,
            }
        )
        if self._store.replace(updated, expected_version=expected_version) is None:
            raise self._conflict(self._visible(principal, schedule_id))
        self._audited(principal, "schedule.update", updated, {"changed": changed})
        return updated

    def pause(self, principal: Principal, schedule_id: str) -> Schedule:
        """Stop firing until resumed (missed fire times are not made up)."""
        return self._set_paused(principal, schedule_id, paused=True)

    def resume(self, principal: Principal, schedule_id: str) -> Schedule:
        """Fire again from the next fire time on."""
        return self._set_paused(principal, schedule_id, paused=False)

    def delete(self, principal: Principal, schedule_id: str) -> None:
        """Delete a schedule (soft: its runs keep their history)."""
        current = self._visible(principal, schedule_id)
        if not self._store.delete(schedule_id, by=principal.username, at=self._clock()):
            raise NotFound(f"schedule {schedule_id!r} was deleted already")
        self._audited(principal, "schedule.delete", current, {})

    # Reads

    def get(self, principal: Principal, schedule_id: str) -> Schedule:
        """A schedule its owner or an admin may see; `NotFound` otherwise."""
        return self._visible(principal, schedule_id)

    def list(self, principal: Principal, *, everyone: bool = False) -> builtins.list[Schedule]:
        """The principal's schedules, or (admins only) everyone's."""
        if everyone and not principal.is_admin:
            raise NotAllowed("Only admins may list everyone's schedules; list your own instead.")
        return self._store.list(None if everyone else principal.username)

    def load(self, schedule_id: str) -> Schedule | None:
        """A live schedule for system use (no permission check); None when deleted."""
        return self._store.get(schedule_id)

    def changes_since(
        self, cursor: str | None, *, limit: int | None = None
    ) -> tuple[builtins.list[ScheduleChange], str]:
        """Schedules changed after ``cursor`` (paused and deleted ones included) and the cursor
        to pass next time; ``None`` gives every live schedule.

        With ``limit``, one page of at most that many: a full page may have more after it, so
        a caller reads on with the cursor it got until a page comes back short. The scheduler
        loads a large table this way, never holding every schedule at once.
        """
        if limit is not None and limit < 1:
            raise InvalidInput(f"limit {limit} reads nothing; pass at least 1, or None for all")
        seq: int | None = None
        if cursor is not None:
            if not cursor.isdigit():
                raise InvalidInput(
                    f"cursor {cursor!r} is not one changes_since returned; pass None to start over"
                )
            seq = int(cursor)
        changes, latest = self._store.changes_since(seq, limit=limit)
        return [ScheduleChange(i, s) for i, s in changes], str(latest)

    # Internals

    def _set_paused(self, principal: Principal, schedule_id: str, *, paused: bool) -> Schedule:
        action = "schedule.pause" if paused else "schedule.resume"
        for _ in range(MAX_CHANGE_ATTEMPTS):
            current = self._visible(principal, schedule_id)
            if current.paused == paused:
                return current
            changed = current.model_copy(
                update={
                    "paused": paused,
                    "version": current.version + 1,
                    "updated_at": self._clock(),
                    "updated_by": principal.username,
                }
            )
            if self._store.replace(changed, expected_version=current.version) is not None:
                self._audited(principal, action, changed, {})
                return changed
        raise self._conflict(self._visible(principal, schedule_id))

    def _visible(self, principal: Principal, schedule_id: str) -> Schedule:
        schedule = self._store.get(schedule_id)
        if schedule is None or not may_change(principal, schedule.owner):
            raise NotFound(f"there is no schedule {schedule_id!r} you can open")
        return schedule

    def _require_author(self, principal: Principal, action: str, target: str) -> None:
        if principal.has_any_role(AUTHORING_ROLES):
            return
        self._audit.append(
            principal.username, action, target, "denied", {"reason": "not an author"}
        )
        raise NotAllowed(
            "Only authors and admins may create or change schedules; ask an admin for the"
            " author role."
        )

    def _owner(self, owner: str, editor: Principal) -> Principal:
        """The owner's principal, whose rights a schedule is checked against."""
        if owner == editor.username:
            return editor
        user = self._users.get(owner)
        if user is None:
            return Principal(username=owner)  # no roles: every report check fails, clearly
        return user.principal()

    def _conflict(self, current: Schedule) -> Conflict:
        when = current.updated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return Conflict(
            f"This schedule was changed by {current.updated_by or current.owner} at {when}"
            " after you opened it; reload to see their changes. Your changes were not saved."
        )

    def _audited(
        self, principal: Principal, action: str, schedule: Schedule, details: dict[str, object]
    ) -> None:
        self._audit.append(
            principal.username,
            action,
            f"schedule:{schedule.id}",
            "succeeded",
            {"name": schedule.name, "version": schedule.version, **details},
        )

    @staticmethod
    def _raise_problems(problems: builtins.list[FieldProblem]) -> None:
        if problems:
            raise InvalidInput([str(p) for p in problems])

    def _problems(self, owner: Principal, draft: ScheduleDraft) -> builtins.list[FieldProblem]:
        problems: builtins.list[FieldProblem] = []
        if not draft.name.strip():
            problems.append(FieldProblem("name", "give the schedule a name"))
        zone = timezone_problems(draft.timezone)
        problems += [FieldProblem("timezone", p) for p in zone]
        cadence_field = (
            "cadence.expression" if isinstance(draft.cadence, CronCadence) else "cadence.at"
        )
        problems += [
            FieldProblem(cadence_field, p)
            for p in check_timing(draft.cadence, draft.timezone, now=self._clock())
            if p not in zone
        ]
        problems += self._report_problems(owner, draft)
        problems += self._recipient_problems(draft)
        problems += self._channel_problems(draft)
        return problems

    def _report_problems(
        self, owner: Principal, draft: ScheduleDraft
    ) -> builtins.list[FieldProblem]:
        try:
            report = self._saved_reports.load(draft.report_id)
        except NotFound:
            return [FieldProblem("report_id", f"there is no saved report {draft.report_id!r}")]
        if not may_change(owner, report.owner):
            return [
                FieldProblem(
                    "report_id",
                    f"report {report.name!r} belongs to {report.owner}; schedule one of your own"
                    " reports, or save a copy of this one first",
                )
            ]
        problems: builtins.list[FieldProblem] = []
        try:
            self._reports.check(owner, report.spec)
        except InvalidInput as error:
            problems += [
                FieldProblem("report_id", f"{owner.username} can no longer run this report: {p}")
                for p in error.problems
            ]
        known = {p.name for p in report.spec.parameters}
        choices = ", ".join(sorted(known)) or "none"
        problems += [
            FieldProblem(
                f"parameters.{name}",
                f"this report has no such parameter; its parameters: {choices}",
            )
            for name in sorted(set(draft.parameters) - known)
        ]
        return problems

    def _recipient_problems(self, draft: ScheduleDraft) -> builtins.list[FieldProblem]:
        problems: builtins.list[FieldProblem] = []
        seen: set[tuple[str, str]] = set()
        roles = ", ".join(r.value for r in Role)
        for index, recipient in enumerate(draft.recipients):
            path = f"recipients[{index}].value"
            value = recipient.value.strip()
            key = (recipient.kind.value, value.lower())
            if key in seen:
                problems.append(FieldProblem(path, f"{value!r} is listed twice; remove one"))
            seen.add(key)
            match recipient.kind:
                case RecipientKind.USER:
                    user = self._users.get(value)
                    if user is None:
                        problems.append(FieldProblem(path, f"there is no user {value!r}"))
                    elif user.disabled:
                        problems.append(
                            FieldProblem(path, f"user {value!r} is disabled; remove them")
                        )
                case RecipientKind.ROLE:
                    if value not in {r.value for r in Role}:
                        problems.append(
                            FieldProblem(path, f"there is no role {value!r}; use one of {roles}")
                        )
                case RecipientKind.EMAIL:
                    if not EMAIL.match(value):
                        problems.append(
                            FieldProblem(
                                path,
                                f"{value!r} is not an email address; write e.g. ana@example.com",
                            )
                        )
        if not draft.recipients and any(c.kind == "email" for c in draft.channels):
            problems.append(
                FieldProblem("recipients", "email delivery needs at least one recipient")
            )
        return problems

    def _channel_problems(self, draft: ScheduleDraft) -> builtins.list[FieldProblem]:
        problems: builtins.list[FieldProblem] = []
        for index, channel in enumerate(draft.channels):
            delivery = self._channels.get(channel.kind)
            if delivery is None:
                configured = ", ".join(sorted(self._channels)) or "none"
                problems.append(
                    FieldProblem(
                        f"channels[{index}]",
                        f"delivery by {channel.kind} is not set up here; available: {configured}",
                    )
                )
                continue
            target, path = "", f"channels[{index}]"
            if isinstance(channel, WebhookChannel):
                target, path = channel.url, f"channels[{index}].url"
            elif isinstance(channel, StorageChannel):
                target, path = channel.prefix, f"channels[{index}].prefix"
            else:
                continue
            try:
                delivery.check_target(target)
            except InvalidInput as error:
                problems += [FieldProblem(path, p) for p in error.problems]
        return problems
