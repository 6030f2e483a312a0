"""SavedReportService: who may save, versions, validation of every problem at once, audit."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.bootstrap import Services
from reportgen.domain.spec import ReportSpec
from reportgen.errors import InvalidInput, NotAllowed, NotFound
from reportgen.rendering.specfiles import load_spec_file
from tests.conftest import ADMIN, ANA, REPO, VICTOR

EXECUTIVE = REPO / "report_templates/executive_summary/sample.yml"


def spec_of(path: Path) -> ReportSpec:
    return load_spec_file(path).spec


def test_an_author_saves_and_every_save_is_a_new_version(services: Services) -> None:
    spec = spec_of(EXECUTIVE)
    first = services.saved_reports.save(ANA, spec, name="Exec", comment="first")

    second = services.saved_reports.save(
        ANA, spec.model_copy(update={"subtitle": "v2"}), name="Exec", report_id=first.id
    )

    assert (first.version, second.version, second.id) == (1, 2, first.id)
    assert services.saved_reports.get(ANA, first.id).spec.subtitle == "v2"
    assert services.saved_reports.load(first.id, 1).spec == spec.model_copy(
        update={"title": "Exec"}
    )
    assert [v.version for v in services.saved_reports.versions(ANA, first.id)] == [1, 2]
    saves = services.store.audit.list(actor="ana", action="report.save")
    assert [e.details["version"] for e in saves] == [2, 1]
    assert {e.target for e in saves} == {f"report:{first.id}"}


def test_a_viewer_may_not_save_and_the_refusal_is_audited(services: Services) -> None:
    with pytest.raises(NotAllowed, match="authors and admins"):
        services.saved_reports.save(VICTOR, spec_of(EXECUTIVE), name="Mine")

    (event,) = services.store.audit.list(actor="victor", action="report.save")
    assert event.outcome == "denied"


def test_every_problem_is_reported_at_once(services: Services) -> None:
    spec = spec_of(EXECUTIVE).model_copy(update={"dataset": "no_such_dataset"})

    with pytest.raises(InvalidInput) as raised:
        services.saved_reports.save(ANA, spec, name="   ", description="x" * 6000)

    problems = raised.value.problems
    assert problems[0] == "name: give the report a name"
    assert problems[1].startswith("description:")
    assert any(p.startswith("spec: ") and "no_such_dataset" in p for p in problems[2:])
    assert services.saved_reports.list(ANA) == []


def test_others_see_nothing_admins_see_everything(services: Services) -> None:
    mine = services.saved_reports.save(ANA, spec_of(EXECUTIVE), name="Ana's")

    assert services.saved_reports.list(ANA) == [mine]
    assert services.saved_reports.list(ADMIN) == [mine]
    assert services.saved_reports.list(VICTOR) == []
    with pytest.raises(NotFound):
        services.saved_reports.get(VICTOR, mine.id)
    admin_version = services.saved_reports.save(
        ADMIN, spec_of(EXECUTIVE), name="Ana's", report_id=mine.id
    )
    assert (admin_version.version, admin_version.owner) == (2, "ana")


def test_delete_by_the_owner_hides_the_report_from_everyone(services: Services) -> None:
    saved = services.saved_reports.save(ANA, spec_of(EXECUTIVE), name="Temp")

    services.saved_reports.delete(ANA, saved.id)

    with pytest.raises(NotFound):
        services.saved_reports.get(ADMIN, saved.id)
    with pytest.raises(NotFound, match="deleted"):
        services.saved_reports.load(saved.id)
    (event,) = services.store.audit.list(action="report.delete")
    assert (event.actor, event.outcome) == ("ana", "succeeded")
