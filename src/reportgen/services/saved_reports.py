"""Saved reports: a named, versioned `ReportSpec` that people reopen and schedules run.

Authors and admins save; every save is a new version (old versions are never rewritten, so a
run can always say which spec it used). The owner or an admin may save a new version or delete
a report; people see their own reports, admins see everyone's. Every save and delete is audited,
and so is every refusal.

The name people give a report is its title: saving makes it the spec's title, and a report read
back (for the builder, or for a schedule's run) carries its name as its title even when a
version was saved before names worked this way. So the builder, the schedule, the email's
subject and the PDF all say the one name.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from reportgen.domain.principal import Principal, Role
from reportgen.domain.schedules import ReportVersion, SavedReport
from reportgen.domain.spec import ReportSpec
from reportgen.errors import InvalidInput, NotAllowed, NotFound
from reportgen.services.ports import AuditSink
from reportgen.services.reports import ReportService

__all__ = ["ReportVersion", "SavedReport", "SavedReportService", "SavedReportStore"]

AUTHORING_ROLES = frozenset({Role.AUTHOR, Role.ADMIN})
MAX_NAME = 200
MAX_DESCRIPTION = 5000
MAX_COMMENT = 1000


class SavedReportStore(Protocol):
    """Where saved reports live (`reportgen.store.reports.SavedReportRepository`).

    ``save`` raises `NotFound` for a missing or deleted report and `Conflict` when another
    save took the same version number first.
    """

    def save(
        self,
        spec: ReportSpec,
        *,
        report_id: str | None,
        name: str,
        description: str,
        owner: str,
        author: str,
        comment: str,
        at: datetime,
    ) -> SavedReport: ...

    def get(self, report_id: str, version: int | None = None) -> SavedReport | None: ...

    def list(self, owner: str | None = None) -> builtins.list[SavedReport]: ...

    def versions(self, report_id: str) -> builtins.list[ReportVersion]: ...

    def delete(self, report_id: str, *, at: datetime) -> bool: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


def titled(report: SavedReport) -> SavedReport:
    """`report` with its name as its spec's title."""
    if report.spec.title == report.name:
        return report
    spec = report.spec.model_copy(update={"title": report.name})
    return report.model_copy(update={"spec": spec})


def may_change(principal: Principal, owner: str) -> bool:
    """The owner and admins may change a report or a schedule."""
    return principal.is_admin or principal.username == owner


class SavedReportService:
    """Save, list, version and delete report specs, for people and for the scheduler."""

    def __init__(
        self,
        store: SavedReportStore,
        reports: ReportService,
        audit: AuditSink,
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._store = store
        self._reports = reports
        self._audit = audit
        self._clock = clock

    def save(
        self,
        principal: Principal,
        spec: ReportSpec,
        *,
        name: str,
        description: str = "",
        report_id: str | None = None,
        comment: str = "",
    ) -> SavedReport:
        """Save ``spec`` as a new report, or as the next version of ``report_id``, with
        ``name`` as its title.

        Raises `NotAllowed` for viewers, `InvalidInput` listing every problem of the name,
        description and spec at once, `NotFound` for an unknown report or someone else's (only
        the owner or an admin saves new versions) and `Conflict` when someone saved the same
        report at the same moment.
        """
        target = f"report:{report_id}" if report_id else "report:new"
        if not principal.has_any_role(AUTHORING_ROLES):
            self._deny(principal, "report.save", target, "viewers may not save reports")
            raise NotAllowed(
                "Only authors and admins may save reports; ask an admin for the author role."
            )
        if report_id is not None:
            self._visible(principal, report_id)  # someone else's report is not even shown
        name = name.strip()
        problems = self._field_problems(name, description, comment)
        if not problems:
            spec = spec.model_copy(update={"title": name})
        try:
            self._reports.check(principal, spec)
        except InvalidInput as error:
            problems.extend(f"spec: {problem}" for problem in error.problems)
        if problems:
            raise InvalidInput(problems)
        saved = self._store.save(
            spec,
            report_id=report_id,
            name=name,
            description=description,
            owner=principal.username,
            author=principal.username,
            comment=comment,
            at=self._clock(),
        )
        self._audit.append(
            principal.username,
            "report.save",
            f"report:{saved.id}",
            "succeeded",
            {"version": saved.version, "name": saved.name, "dataset": saved.dataset},
        )
        return saved

    def get(self, principal: Principal, report_id: str) -> SavedReport:
        """A report its owner (or an admin) may see; `NotFound` otherwise."""
        return self._visible(principal, report_id)

    def list(self, principal: Principal) -> builtins.list[SavedReport]:
        """The principal's reports; an admin's list holds everyone's."""
        reports = self._store.list(None if principal.is_admin else principal.username)
        return [titled(report) for report in reports]

    def versions(self, principal: Principal, report_id: str) -> builtins.list[ReportVersion]:
        """Every version of a visible report, oldest first."""
        self._visible(principal, report_id)
        return self._store.versions(report_id)

    def delete(self, principal: Principal, report_id: str) -> None:
        """Delete a report (its versions stay for the runs that used them)."""
        report = self._visible(principal, report_id)
        if not self._store.delete(report_id, at=self._clock()):
            raise NotFound(f"there is no saved report {report_id!r}")
        self._audit.append(
            principal.username,
            "report.delete",
            f"report:{report_id}",
            "succeeded",
            {"name": report.name},
        )

    def load(self, report_id: str, version: int | None = None) -> SavedReport:
        """A report at ``version`` (default: newest) for system use: no permission check."""
        report = self._store.get(report_id, version)
        if report is None:
            at = "" if version is None else f" at version {version}"
            raise NotFound(f"there is no saved report {report_id!r}{at}; was it deleted?")
        return titled(report)

    def _visible(self, principal: Principal, report_id: str) -> SavedReport:
        """The report if the principal owns it or is an admin; others' reports are NotFound,
        so nobody learns what they may not open."""
        report = self._store.get(report_id)
        if report is None or not may_change(principal, report.owner):
            raise NotFound(
                f"there is no saved report {report_id!r} you can open; see your reports in the list"
            )
        return titled(report)

    @staticmethod
    def _field_problems(name: str, description: str, comment: str) -> builtins.list[str]:
        problems = []
        if not name:
            problems.append("name: give the report a name")
        elif len(name) > MAX_NAME:
            problems.append(f"name: {len(name)} characters; use at most {MAX_NAME}")
        if len(description) > MAX_DESCRIPTION:
            problems.append(f"description: use at most {MAX_DESCRIPTION} characters")
        if len(comment) > MAX_COMMENT:
            problems.append(f"comment: use at most {MAX_COMMENT} characters")
        return problems

    def _deny(self, principal: Principal, action: str, target: str, reason: str) -> None:
        self._audit.append(principal.username, action, target, "denied", {"reason": reason})
