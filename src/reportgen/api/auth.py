"""Who is calling: the bearer token of each request, checked and rate-limited.

`CurrentPrincipal` is the dependency every ``/api/v1`` route takes. A missing, unknown, revoked
or expired token is a 401 with ``WWW-Authenticate``; a valid token over its allowance, or a
client address that presented too many invalid tokens, a 429 with ``Retry-After``. What the
principal may then do is decided by the services, as for every door.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from opentelemetry import trace

from reportgen.api.problems import ApiProblem
from reportgen.api.state import api_state
from reportgen.domain.principal import Principal
from reportgen.services.tokens import token_hash

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiToken",
    description="An API token from `reportgen tokens create`, sent as `Authorization: Bearer`.",
)
_CHALLENGE = 'Bearer realm="reportgen"'


def _unauthenticated(detail: str, *, invalid: bool) -> ApiProblem:
    challenge = f'{_CHALLENGE}, error="invalid_token"' if invalid else _CHALLENGE
    return ApiProblem(401, detail, headers={"WWW-Authenticate": challenge})


def _too_many(what: str, wait: float) -> ApiProblem:
    seconds = math.ceil(wait)
    return ApiProblem(
        429, f"{what}; retry after {seconds} s", headers={"Retry-After": str(seconds)}
    )


def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The principal the request's bearer token acts as."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthenticated(
            "send an API token as 'Authorization: Bearer <token>';"
            " `reportgen tokens create` makes one",
            invalid=False,
        )
    state = api_state(request)
    # Authenticate first, so only real tokens get a bucket: a spray of made-up tokens can
    # neither dodge the limit with fresh buckets nor evict the buckets of real ones. Failures
    # are limited per client address instead, before they cost a lookup.
    address = request.client.host if request.client is not None else "unknown"
    blocked = state.failed_auth.wait(address)
    if blocked > 0:
        raise _too_many(
            f"{address} presented more than {state.failed_auth.per_minute} invalid API tokens"
            " in a minute",
            blocked,
        )
    secret = credentials.credentials
    principal = state.services.tokens.authenticate(secret)
    if principal is None:
        state.failed_auth.take(address)
        raise _unauthenticated(
            "the API token is unknown, revoked or expired, or its owner no longer holds its"
            " roles; create a new one with `reportgen tokens create`",
            invalid=True,
        )
    # A valid secret's hash names exactly one stored token: this is the per-token bucket.
    wait = state.limiter.take(token_hash(secret))
    if wait > 0:
        raise _too_many(
            f"this token made more than {state.limiter.per_minute} requests in a minute",
            wait,
        )
    trace.get_current_span().set_attribute("enduser.id", principal.username)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]
