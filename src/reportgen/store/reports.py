"""`SavedReportRepository`: named report specs, every save a new, never rewritten version.

``saved_reports`` holds a report's name, owner and newest version number; ``report_versions``
holds each version's spec, keyed by ``(report_id, version)`` so a version can only be written
once. Two people saving the same report at once cannot both get the same version number: the
second one gets `Conflict` and saves again.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from reportgen.domain.schedules import ReportVersion, SavedReport
from reportgen.domain.spec import ReportSpec
from reportgen.errors import Conflict, NotFound
from reportgen.store.engine import write_transaction
from reportgen.store.tables import new_id, report_versions, saved_reports

_reports, _versions = saved_reports, report_versions


def _report(row: Row[*tuple[Any, ...]]) -> SavedReport:
    return SavedReport(
        id=row.id,
        name=row.name,
        description=row.description,
        owner=row.owner,
        dataset=row.dataset,
        version=row.version,
        spec=ReportSpec.model_validate(row.spec),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


_COLUMNS = (
    _reports.c.id,
    _reports.c.name,
    _reports.c.description,
    _reports.c.owner,
    _reports.c.dataset,
    _reports.c.created_at,
    _reports.c.updated_at,
    _versions.c.version,
    _versions.c.spec,
)


class SavedReportRepository:
    """Saved reports and their versions in the metadata DB; one transaction per call."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

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
    ) -> SavedReport:
        """Store ``spec`` as a new report (``report_id`` None) or as the next version of one.

        ``owner`` is used for a new report only. Raises `NotFound` for a missing or deleted
        report and `Conflict` when another save took the same version number first.
        """
        try:
            with write_transaction(self._engine) as connection:
                if report_id is None:
                    report_id, version = new_id(), 1
                    connection.execute(
                        insert(_reports).values(
                            id=report_id,
                            name=name,
                            description=description,
                            owner=owner,
                            dataset=spec.dataset,
                            created_at=at,
                            updated_at=at,
                            current_version=version,
                        )
                    )
                else:
                    current = connection.execute(
                        select(_reports.c.current_version).where(
                            _reports.c.id == report_id, _reports.c.deleted_at.is_(None)
                        )
                    ).scalar_one_or_none()
                    if current is None:
                        raise NotFound(f"there is no saved report {report_id!r}")
                    version = current + 1
                    connection.execute(
                        update(_reports)
                        .where(_reports.c.id == report_id)
                        .values(
                            name=name,
                            description=description,
                            dataset=spec.dataset,
                            updated_at=at,
                            current_version=version,
                        )
                    )
                connection.execute(
                    insert(_versions).values(
                        report_id=report_id,
                        version=version,
                        spec=spec.model_dump(mode="json"),
                        created_by=author,
                        created_at=at,
                        comment=comment,
                    )
                )
        except IntegrityError as error:
            raise Conflict(
                f"report {report_id!r} was saved by someone else at the same moment; your"
                " version was not stored. Save again to store it as the next version"
            ) from error
        report = self.get(report_id, version)
        assert report is not None  # written just above; reports are never removed
        return report

    def get(self, report_id: str, version: int | None = None) -> SavedReport | None:
        """The report at ``version`` (default: its newest); None if missing or deleted."""
        wanted = _reports.c.current_version if version is None else version
        statement = (
            select(*_COLUMNS)
            .join(_versions, _versions.c.report_id == _reports.c.id)
            .where(
                _reports.c.id == report_id,
                _reports.c.deleted_at.is_(None),
                _versions.c.version == wanted,
            )
        )
        with self._engine.connect() as connection:
            row = connection.execute(statement).one_or_none()
        return None if row is None else _report(row)

    def list(self, owner: str | None = None) -> builtins.list[SavedReport]:
        """Live reports at their newest version, by name; only ``owner``'s when given."""
        statement = (
            select(*_COLUMNS)
            .join(
                _versions,
                (_versions.c.report_id == _reports.c.id)
                & (_versions.c.version == _reports.c.current_version),
            )
            .where(_reports.c.deleted_at.is_(None))
            .order_by(_reports.c.name, _reports.c.id)
        )
        if owner is not None:
            statement = statement.where(_reports.c.owner == owner)
        with self._engine.connect() as connection:
            return [_report(row) for row in connection.execute(statement)]

    def versions(self, report_id: str) -> builtins.list[ReportVersion]:
        """Every version of a live report, oldest first (empty when missing or deleted)."""
        statement = (
            select(
                _versions.c.report_id,
                _versions.c.version,
                _versions.c.created_by,
                _versions.c.created_at,
                _versions.c.comment,
            )
            .join(_reports, _reports.c.id == _versions.c.report_id)
            .where(_versions.c.report_id == report_id, _reports.c.deleted_at.is_(None))
            .order_by(_versions.c.version)
        )
        with self._engine.connect() as connection:
            return [
                ReportVersion.model_validate(row._asdict()) for row in connection.execute(statement)
            ]

    def delete(self, report_id: str, *, at: datetime) -> bool:
        """Mark a report deleted (its versions stay, for runs that used them); False when it
        was missing or deleted already."""
        with self._engine.begin() as connection:
            result = connection.execute(
                update(_reports)
                .where(_reports.c.id == report_id, _reports.c.deleted_at.is_(None))
                .values(deleted_at=at, updated_at=at)
            )
        return result.rowcount == 1
