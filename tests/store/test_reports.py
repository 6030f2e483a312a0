"""SavedReportRepository: versioned report specs on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from reportgen.domain.principal import Role
from reportgen.domain.schedules import SavedReport
from reportgen.domain.spec import ReportSpec
from reportgen.errors import NotFound
from reportgen.store import MetadataStore
from reportgen.store.tables import report_versions

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SPEC = ReportSpec.model_validate(
    {"title": "Weekly sales", "dataset": "sales", "blocks": [{"kind": "cover"}]}
)


@pytest.fixture
def reports(store: MetadataStore) -> MetadataStore:
    for name in ("ana", "bob"):
        store.users.add(
            name, f"{name.title()}", f"{name}@example.com", "password-123", {Role.AUTHOR}
        )
    return store


def save(store: MetadataStore, spec: ReportSpec = SPEC, **overrides: object) -> SavedReport:
    values: dict[str, object] = {
        "report_id": None,
        "name": "Weekly sales",
        "description": "",
        "owner": "ana",
        "author": "ana",
        "comment": "",
        "at": T0,
    }
    values.update(overrides)
    return store.reports.save(spec, **values)  # type: ignore[arg-type]


def test_a_new_report_is_version_one_and_reads_back(reports: MetadataStore) -> None:
    saved = save(reports)

    assert saved == reports.reports.get(saved.id)
    assert (saved.version, saved.owner, saved.dataset, saved.spec) == (1, "ana", "sales", SPEC)
    assert saved.created_at == T0


def test_every_save_adds_a_version_and_keeps_the_old_ones(reports: MetadataStore) -> None:
    first = reports.reports.save(
        SPEC,
        report_id=None,
        name="Sales",
        description="",
        owner="ana",
        author="ana",
        comment="first",
        at=T0,
    )
    retitled = SPEC.model_copy(update={"title": "Sales, retitled"})
    later = T0 + timedelta(hours=1)

    second = reports.reports.save(
        retitled,
        report_id=first.id,
        name="Sales v2",
        description="d",
        owner="bob",
        author="bob",
        comment="retitle",
        at=later,
    )

    assert (second.version, second.name, second.owner, second.updated_at) == (
        2,
        "Sales v2",
        "ana",
        later,
    )
    old = reports.reports.get(first.id, 1)
    assert old is not None
    assert (old.version, old.spec) == (1, SPEC)
    assert reports.reports.get(first.id) == second
    history = reports.reports.versions(first.id)
    assert [(v.version, v.created_by, v.comment) for v in history] == [
        (1, "ana", "first"),
        (2, "bob", "retitle"),
    ]
    with reports.engine.connect() as connection:
        rows = connection.execute(select(report_versions.c.version)).scalars().all()
    assert sorted(rows) == [1, 2]


def test_list_is_by_name_and_can_be_limited_to_an_owner(reports: MetadataStore) -> None:
    save(reports, name="Zeta")
    save(reports, name="Alpha", owner="bob", author="bob")

    assert [r.name for r in reports.reports.list()] == ["Alpha", "Zeta"]
    assert [r.name for r in reports.reports.list("bob")] == ["Alpha"]


def test_a_deleted_report_is_gone_for_readers_and_writers(reports: MetadataStore) -> None:
    saved = save(reports)

    assert reports.reports.delete(saved.id, at=T0) is True
    assert reports.reports.delete(saved.id, at=T0) is False
    assert reports.reports.get(saved.id) is None
    assert reports.reports.list() == []
    assert reports.reports.versions(saved.id) == []
    with pytest.raises(NotFound):
        save(reports, report_id=saved.id)


def test_an_unknown_version_or_report_reads_as_none(reports: MetadataStore) -> None:
    saved = save(reports)

    assert reports.reports.get(saved.id, 7) is None
    assert reports.reports.get("no-such-report") is None
