"""``/api/v1/runs``, ``/dead-letters`` and ``POST /schedules/{id}/runs``: what ran, what failed,
and doing it again.

Runs are listed newest first a page at a time (``next_cursor`` continues); ``run now`` honours an
``Idempotency-Key`` header, so a retried request queues one run, not two. Artifacts download
with a safe ``Content-Disposition`` and their SHA-256 in ``X-Checksum-SHA256`` and
``Repr-Digest``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel

from reportgen.api.auth import CurrentPrincipal
from reportgen.api.downloads import DOWNLOAD_RESPONSES, file_response
from reportgen.api.state import api_state
from reportgen.domain.runs import Delivery, Run, RunStatus, Transition

router = APIRouter(tags=["runs"])
MAX_IDEMPOTENCY_KEY = 200


class RunArtifact(BaseModel):
    filename: str
    kind: str
    content_type: str
    size_bytes: int
    sha256: str
    download_url: str


class RunPageView(BaseModel):
    runs: list[Run]
    next_cursor: str | None


class RunDetailView(BaseModel):
    run: Run
    transitions: list[Transition]
    deliveries: list[Delivery]
    artifacts: list[RunArtifact]


def _located(request: Request, response: Response, run: Run) -> Run:
    response.headers["Location"] = str(request.url_for("get_run", run_id=run.id))
    return run


@router.post(
    "/schedules/{schedule_id}/runs",
    operation_id="run_schedule_now",
    summary="Queue a run of the schedule now",
    status_code=202,
    tags=["schedules"],
)
def run_schedule_now(
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    schedule_id: str,
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=MAX_IDEMPOTENCY_KEY,
            description="Any unique string; the same key within 24 h returns the same run.",
        ),
    ] = None,
) -> Run:
    run = api_state(request).services.runs.run_now(
        principal, schedule_id, idempotency_key=idempotency_key
    )
    return _located(request, response, run)


@router.get("/runs", operation_id="list_runs", summary="Runs you may see, newest first")
def list_runs(
    request: Request,
    principal: CurrentPrincipal,
    *,
    cursor: Annotated[
        str | None, Query(max_length=500, description="The next_cursor of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    status: Annotated[
        Literal["pending", "running", "succeeded", "skipped", "failed", "retrying", "dead"] | None,
        Query(),
    ] = None,
    schedule_id: Annotated[str | None, Query(max_length=36)] = None,
    since: Annotated[
        datetime | None,
        Query(description="Runs whose fire time (the time they were due) is at or after this."),
    ] = None,
    until: Annotated[
        datetime | None,
        Query(description="Runs whose fire time (the time they were due) is before this."),
    ] = None,
) -> RunPageView:
    page = api_state(request).services.runs.list(
        principal,
        status=RunStatus(status) if status else None,
        schedule_id=schedule_id,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
    return RunPageView(runs=page.runs, next_cursor=page.next_cursor)


@router.get("/runs/{run_id}", operation_id="get_run", summary="A run with its history")
def get_run(request: Request, principal: CurrentPrincipal, run_id: str) -> RunDetailView:
    detail = api_state(request).services.runs.get(principal, run_id)
    return RunDetailView(
        run=detail.run,
        transitions=list(detail.transitions),
        deliveries=list(detail.deliveries),
        artifacts=[
            RunArtifact(
                filename=a.filename,
                kind=a.kind,
                content_type=a.content_type,
                size_bytes=a.size_bytes,
                sha256=a.sha256,
                download_url=str(
                    request.url_for("download_run_artifact", run_id=run_id, filename=a.filename)
                ),
            )
            for a in detail.artifacts
        ],
    )


@router.get(
    "/runs/{run_id}/artifacts/{filename}",
    operation_id="download_run_artifact",
    summary="Download a file a run produced",
    response_class=Response,
    responses=DOWNLOAD_RESPONSES,
)
def download_run_artifact(
    request: Request, principal: CurrentPrincipal, run_id: str, filename: str
) -> Response:
    found = api_state(request).services.runs.artifact(principal, run_id, filename)
    return file_response(
        found.data, filename=found.filename, content_type=found.content_type, sha256=found.sha256
    )


@router.post(
    "/runs/{run_id}/retry",
    operation_id="retry_run",
    summary="Queue a dead or retrying run again now",
    status_code=202,
)
def retry_run(
    request: Request, response: Response, principal: CurrentPrincipal, run_id: str
) -> Run:
    return _located(request, response, api_state(request).services.runs.retry(principal, run_id))


@router.post(
    "/runs/{run_id}/replay",
    operation_id="replay_run",
    summary="A new run re-sending what a finished run did not deliver",
    status_code=202,
)
def replay_run(
    request: Request, response: Response, principal: CurrentPrincipal, run_id: str
) -> Run:
    return _located(request, response, api_state(request).services.runs.replay(principal, run_id))


@router.get("/dead-letters", operation_id="list_dead_letters", summary="Dead runs, newest first")
def list_dead_letters(request: Request, principal: CurrentPrincipal) -> list[Run]:
    return api_state(request).services.runs.dead_letters(principal)
