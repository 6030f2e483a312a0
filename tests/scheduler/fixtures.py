"""Saved reports and schedules for the scheduler tests, made through the real services."""

from __future__ import annotations

from datetime import time

from reportgen.bootstrap import Services
from reportgen.domain.schedules import (
    Cadence,
    DailyAt,
    MisfirePolicy,
    Recipient,
    RecipientKind,
    Schedule,
    ScheduleDraft,
)
from reportgen.rendering.specfiles import load_spec_file
from tests.conftest import ANA, REPO

KPI_SPEC = REPO / "report_templates/kpi_tracker/sample.yml"


def saved_report_id(services: Services) -> str:
    spec = load_spec_file(KPI_SPEC).spec
    return services.saved_reports.save(ANA, spec, name="KPI tracker").id


def draft(
    report_id: str,
    *,
    cadence: Cadence | None = None,
    policy: MisfirePolicy = MisfirePolicy.RUN_ONCE,
    name: str = "Monday KPIs",
) -> ScheduleDraft:
    return ScheduleDraft(
        name=name,
        report_id=report_id,
        cadence=cadence or DailyAt(at=time(8, 0)),
        timezone="UTC",
        recipients=(Recipient(kind=RecipientKind.USER, value="ana"),),
        misfire_policy=policy,
    )


def new_schedule(services: Services, report_id: str, **options: object) -> Schedule:
    return services.schedules.create(ANA, draft(report_id, **options))  # type: ignore[arg-type]
