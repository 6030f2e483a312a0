"""Errors as RFC 9457 problem details (``application/problem+json``), rendered in one place.

Every error the API returns has a ``type`` URI naming the kind of problem, a short ``title``,
the ``status``, a ``detail`` sentence that says how to fix it, and the ``instance`` (the request
path). Validation problems list each field; internal errors carry only an incident id, the
details stay in the log under that id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from reportgen.errors import InvalidInput, UserError

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:reportgen:problem:"
_FIELD_PREFIX = re.compile(r"^(?P<field>[A-Za-z_][\w.\[\]-]*): (?P<message>.+)$", re.DOTALL)


class FieldProblem(BaseModel):
    """One field of the request that is wrong, and what to put there instead."""

    field: str = Field(description="Where the value is, e.g. body.cadence.at or query.limit.")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong in this case, and how to fix it.")
    instance: str = Field(description="The path of the request that failed.")
    errors: list[FieldProblem] | None = Field(
        default=None, description="Every problem with the request's fields, when there are any."
    )
    incident: str | None = Field(
        default=None, description="For internal errors: the id the server log keeps details under."
    )


_KINDS: dict[int, tuple[str, str]] = {
    400: ("invalid-input", "The request is not valid"),
    401: ("unauthenticated", "A valid API token is needed"),
    403: ("not-allowed", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Changed by someone else"),
    412: ("precondition-failed", "The resource has changed"),
    413: ("too-large", "The result is too large"),
    422: ("validation-failed", "The request body or parameters are not valid"),
    428: ("precondition-required", "An If-Match header is required"),
    429: ("rate-limited", "Too many requests"),
    500: ("internal-error", "Something went wrong on our side"),
    503: ("unavailable", "Not ready"),
    504: ("timeout", "The warehouse did not answer in time"),
}


def problem_type(status: int) -> str:
    """The type URI for a status's kind of problem (``about:blank`` for plain HTTP ones)."""
    kind = _KINDS.get(status)
    return TYPE_PREFIX + kind[0] if kind else "about:blank"


def problem_title(status: int) -> str:
    kind = _KINDS.get(status)
    if kind:
        return kind[1]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_response(
    status: int,
    detail: str,
    *,
    instance: str,
    errors: Sequence[FieldProblem] | None = None,
    incident: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response for ``status``."""
    body = Problem(
        type=problem_type(status),
        title=problem_title(status),
        status=status,
        detail=detail,
        instance=instance,
        errors=list(errors) if errors else None,
        incident=incident,
    )
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True),
        status_code=status,
        headers=dict(headers or {}),
        media_type=PROBLEM_CONTENT_TYPE,
    )


def field_problems(problems: Sequence[str]) -> list[FieldProblem]:
    """Service problems written ``field: message`` split into fields; others name ``body``."""
    found = []
    for problem in problems:
        match = _FIELD_PREFIX.match(problem)
        if match:
            found.append(FieldProblem(field=match["field"], message=match["message"]))
        else:
            found.append(FieldProblem(field="body", message=problem))
    return found


class ApiProblem(Exception):
    """Raised by the API layer itself (authentication, preconditions, rate limit)."""

    def __init__(self, status: int, detail: str, *, headers: Mapping[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


def _location(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error the app raises on purpose as problem+json."""

    async def user_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, UserError)
        status = exc.status  # each kind of user error carries its HTTP status
        errors = field_problems(exc.problems) if isinstance(exc, InvalidInput) else None
        detail = str(exc)
        if isinstance(exc, InvalidInput) and len(exc.problems) > 1:
            detail = f"the request has {len(exc.problems)} problems; each is listed in errors"
        return problem_response(status, detail, instance=request.url.path, errors=errors)

    async def api_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiProblem)
        return problem_response(
            exc.status, exc.detail, instance=request.url.path, headers=exc.headers
        )

    async def validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            FieldProblem(field=_location(error.get("loc", ())), message=str(error.get("msg")))
            for error in exc.errors()
        ]
        count = len(errors)
        detail = (
            f"the request has {count} invalid field{'s' if count != 1 else ''};"
            " each is listed in errors"
        )
        return problem_response(422, detail, instance=request.url.path, errors=errors)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else problem_title(exc.status_code)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"there is nothing at {request.url.path}; the API lives under /api/v1"
        return problem_response(
            exc.status_code, detail, instance=request.url.path, headers=exc.headers
        )

    app.add_exception_handler(UserError, user_error)
    app.add_exception_handler(ApiProblem, api_problem)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http_error)
