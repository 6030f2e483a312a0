"""``/api/v1/schedules``: create, read, change (with If-Match), pause, resume, delete, run now.

``GET`` answers an ``ETag`` holding the schedule's version; ``PUT`` must send it back in
``If-Match``, so two people editing the same schedule cannot overwrite each other: a stale tag is
412, a save that lost the race after the check is 409.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from reportgen.api.auth import CurrentPrincipal
from reportgen.api.problems import ApiProblem
from reportgen.api.state import api_state
from reportgen.domain.schedules import Cadence, Schedule, ScheduleDraft

router = APIRouter(prefix="/schedules", tags=["schedules"])
PRECONDITION_ERRORS = {
    412: {"description": "If-Match does not name the schedule's current version."},
    409: {"description": "Someone saved the schedule in between; reload, then retry."},
    428: {"description": "PUT needs an If-Match header with the version from ETag."},
}


class TimingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cadence: Cadence
    timezone: Annotated[str, Field(min_length=1, max_length=64)] = "UTC"
    count: Annotated[int, Field(ge=1, le=50)] = 5


class TimingView(BaseModel):
    description: str
    next_fire_times: list[datetime]
    problems: list[str]


def _etag(schedule: Schedule) -> str:
    return f'"{schedule.version}"'


def _tagged(response: Response, schedule: Schedule) -> Schedule:
    response.headers["ETag"] = _etag(schedule)
    return schedule


def _expected_version(if_match: str | None) -> int:
    if if_match is None:
        raise ApiProblem(
            428, 'send If-Match with the ETag of the schedule you changed, e.g. If-Match: "3"'
        )
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise ApiProblem(
            412, f"If-Match {if_match!r} is not a schedule version; send the ETag GET returned"
        )
    return int(tag)


@router.get("", operation_id="list_schedules", summary="Your schedules (admins: everyone's)")
def list_schedules(
    request: Request,
    principal: CurrentPrincipal,
    everyone: bool = Query(default=False, description="Every user's schedules (admins only)."),
) -> list[Schedule]:
    return api_state(request).services.schedules.list(principal, everyone=everyone)


@router.post("", operation_id="create_schedule", summary="Create a schedule", status_code=201)
def create_schedule(
    request: Request, response: Response, principal: CurrentPrincipal, body: ScheduleDraft
) -> Schedule:
    schedule = api_state(request).services.schedules.create(principal, body)
    response.headers["Location"] = str(request.url_for("get_schedule", schedule_id=schedule.id))
    return _tagged(response, schedule)


@router.post(
    "/timing",
    operation_id="preview_timing",
    summary="A cadence in words and its next fire times",
)
def preview_timing(request: Request, _: CurrentPrincipal, body: TimingRequest) -> TimingView:
    preview = api_state(request).services.schedules.timing(
        body.cadence, body.timezone, count=body.count
    )
    return TimingView(
        description=preview.description,
        next_fire_times=preview.next_fire_times,
        problems=preview.problems,
    )


@router.get("/{schedule_id}", operation_id="get_schedule", summary="A schedule, with its ETag")
def get_schedule(
    request: Request, response: Response, principal: CurrentPrincipal, schedule_id: str
) -> Schedule:
    return _tagged(response, api_state(request).services.schedules.get(principal, schedule_id))


@router.put(
    "/{schedule_id}",
    operation_id="update_schedule",
    summary="Replace a schedule's settings (If-Match required)",
    responses=PRECONDITION_ERRORS,  # type: ignore[arg-type]
)
def update_schedule(
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    *,
    schedule_id: str,
    body: ScheduleDraft,
    if_match: Annotated[str | None, Header(description="The ETag of the version changed.")] = None,
) -> Schedule:
    schedules = api_state(request).services.schedules
    expected = _expected_version(if_match)
    current = schedules.get(principal, schedule_id)
    if current.version != expected:
        raise ApiProblem(
            412,
            f"schedule {schedule_id} is at version {current.version}, not {expected}"
            f" (last saved by {current.updated_by or current.owner}); GET it, reapply your"
            " change and send its ETag",
            headers={"ETag": _etag(current)},
        )
    updated = schedules.update(principal, schedule_id, body, expected_version=expected)
    return _tagged(response, updated)


@router.delete(
    "/{schedule_id}",
    operation_id="delete_schedule",
    summary="Delete a schedule (its runs keep their history)",
    status_code=204,
    response_class=Response,
)
def delete_schedule(request: Request, principal: CurrentPrincipal, schedule_id: str) -> Response:
    api_state(request).services.schedules.delete(principal, schedule_id)
    return Response(status_code=204)


@router.post("/{schedule_id}/pause", operation_id="pause_schedule", summary="Pause a schedule")
def pause_schedule(
    request: Request, response: Response, principal: CurrentPrincipal, schedule_id: str
) -> Schedule:
    return _tagged(response, api_state(request).services.schedules.pause(principal, schedule_id))


@router.post("/{schedule_id}/resume", operation_id="resume_schedule", summary="Resume a schedule")
def resume_schedule(
    request: Request, response: Response, principal: CurrentPrincipal, schedule_id: str
) -> Schedule:
    return _tagged(response, api_state(request).services.schedules.resume(principal, schedule_id))
