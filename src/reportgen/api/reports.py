"""``/api/v1/reports``: saved, versioned report specs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from reportgen.api.auth import CurrentPrincipal
from reportgen.api.state import api_state
from reportgen.domain.schedules import SavedReport
from reportgen.domain.spec import ReportSpec

router = APIRouter(prefix="/reports", tags=["reports"])


class ReportSummary(BaseModel):
    """A saved report without its spec, as lists show it."""

    id: str
    name: str
    description: str
    owner: str
    dataset: str
    version: int
    created_at: datetime
    updated_at: datetime


class SaveReport(BaseModel):
    """A new report, or (with ``report_id``) a new version of an existing one."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=5000)] = ""
    spec: ReportSpec
    report_id: Annotated[str, Field(min_length=1, max_length=36)] | None = None
    comment: Annotated[str, Field(max_length=1000)] = ""


def _summary(report: SavedReport) -> ReportSummary:
    return ReportSummary(**report.model_dump(exclude={"spec"}))


@router.get("", operation_id="list_reports", summary="Saved reports you may see")
def list_reports(request: Request, principal: CurrentPrincipal) -> list[ReportSummary]:
    return [_summary(r) for r in api_state(request).services.saved_reports.list(principal)]


@router.get("/{report_id}", operation_id="get_report", summary="A saved report with its spec")
def get_report(request: Request, principal: CurrentPrincipal, report_id: str) -> SavedReport:
    return api_state(request).services.saved_reports.get(principal, report_id)


@router.post(
    "",
    operation_id="save_report",
    summary="Save a report (a new version when report_id is given)",
    status_code=201,
)
def save_report(
    request: Request, response: Response, principal: CurrentPrincipal, body: SaveReport
) -> SavedReport:
    saved = api_state(request).services.saved_reports.save(
        principal,
        body.spec,
        name=body.name,
        description=body.description,
        report_id=body.report_id,
        comment=body.comment,
    )
    response.headers["Location"] = str(request.url_for("get_report", report_id=saved.id))
    return saved
