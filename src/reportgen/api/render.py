"""``/api/v1/render``: render a report spec to files, at once when small, as a job otherwise.

A spec of at most `SMALL_SPEC_BLOCKS` blocks rendered to PDF alone (or any spec with
``?wait=true``) is rendered while the request waits, up to `SYNC_WAIT_S`; anything else, or a
render that takes longer, answers 202 with a job to poll at ``Location``. Either way the files
are downloadable from the job, with their SHA-256 in the headers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from reportgen.api.auth import CurrentPrincipal
from reportgen.api.downloads import DOWNLOAD_RESPONSES, file_response
from reportgen.api.jobs import RenderJob
from reportgen.api.problems import ApiProblem
from reportgen.api.state import api_state
from reportgen.domain.spec import ReportSpec
from reportgen.services.render import Format, RenderedReport

router = APIRouter(prefix="/render", tags=["render"])
SMALL_SPEC_BLOCKS = 6
SYNC_WAIT_S = 60.0
FormatName = Literal["pdf", "csv", "xlsx", "html"]


class RenderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    spec: ReportSpec
    formats: Annotated[list[FormatName], Field(min_length=1, max_length=4)] = ["pdf"]
    parameters: dict[str, list[str]] = Field(
        default_factory=dict, description="Values of the spec's parameters, by name."
    )
    as_of: datetime | None = Field(
        default=None, description="Logical time of the report (aware); now when left out."
    )


class RenderedFile(BaseModel):
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    download_url: str


class RenderJobView(BaseModel):
    id: str
    status: Literal["queued", "running", "succeeded", "failed"]
    formats: list[str]
    created_at: datetime
    finished_at: datetime | None
    bundle: str | None = Field(description="The artifact-store prefix of the rendered bundle.")
    files: list[RenderedFile]
    error_status: int | None = None
    error: str | None = None


def _view(request: Request, job: RenderJob) -> RenderJobView:
    return RenderJobView(
        id=job.id,
        status=job.status.value,
        formats=list(job.formats),
        created_at=job.created_at,
        finished_at=job.finished_at,
        bundle=job.bundle,
        files=[
            RenderedFile(
                filename=f.filename,
                content_type=f.content_type,
                size_bytes=f.size_bytes,
                sha256=f.sha256,
                download_url=str(
                    request.url_for("download_render_file", job_id=job.id, filename=f.filename)
                ),
            )
            for f in job.files
        ],
        error_status=job.error_status,
        error=job.error,
    )


@router.post(
    "",
    operation_id="render_report",
    summary="Render a report spec to PDF, CSV, XLSX or HTML",
    responses={
        202: {"model": RenderJobView, "description": "Queued; poll the job at Location."},
        503: {"description": "Too many renders waiting; retry after Retry-After seconds."},
    },
)
def render_report(
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    body: RenderRequest,
    wait: bool | None = Query(
        default=None,
        description="true: wait for the files; false: always answer 202 with a job;"
        " unset: wait only for a small PDF.",
    ),
) -> RenderJobView:
    state = api_state(request)
    formats = tuple(dict.fromkeys(Format(name) for name in body.formats))
    small = formats == (Format.PDF,) and len(body.spec.blocks) <= SMALL_SPEC_BLOCKS
    parameters = {name: tuple(values) for name, values in body.parameters.items()}
    render = state.services.render

    def work() -> RenderedReport:
        return render.render(
            principal, body.spec, formats=formats, as_of=body.as_of, parameters=parameters
        )

    job = state.jobs.submit(principal.username, tuple(f.value for f in formats), work)
    if (wait if wait is not None else small) and job.done.wait(SYNC_WAIT_S):
        if job.error_status is not None:
            # The caller waited: answer the failure as the error it is, not as a job.
            raise ApiProblem(job.error_status, job.error or "the render failed")
        return _view(request, job)
    response.status_code = 202
    response.headers["Location"] = str(request.url_for("get_render_job", job_id=job.id))
    return _view(request, job)


@router.get("/jobs/{job_id}", operation_id="get_render_job", summary="A render job")
def get_render_job(request: Request, principal: CurrentPrincipal, job_id: str) -> RenderJobView:
    return _view(request, api_state(request).jobs.get(principal.username, job_id))


@router.get(
    "/jobs/{job_id}/files/{filename}",
    operation_id="download_render_file",
    summary="Download a rendered file",
    response_class=Response,
    responses=DOWNLOAD_RESPONSES,
)
def download_render_file(
    request: Request, principal: CurrentPrincipal, job_id: str, filename: str
) -> Response:
    state = api_state(request)
    found = state.jobs.get(principal.username, job_id).file(filename)
    data = state.services.render.store.get(found.key)
    return file_response(
        data, filename=found.filename, content_type=found.content_type, sha256=found.sha256
    )
