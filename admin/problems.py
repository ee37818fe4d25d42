"""The admin API's refusals as RFC 9457 problem details (`application/problem+json`), with the
RFC 6750 challenge for a missing, invalid or insufficient token."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from admin.api_access import ApiRefusal

PROBLEM = "application/problem+json"


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None


# What every operation may answer besides its own success (for the OpenAPI document).
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM: {}}} for status in (400, 401, 403)
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "content": {PROBLEM: {}}}}
# A well-formed change that breaks a registration rule (its detail says which).
INVALID: dict[int | str, dict[str, Any]] = {422: {"model": Problem, "content": {PROBLEM: {}}}}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": Problem, "content": {PROBLEM: {}}}}
# A reason that is missing, empty or unusable (admin.support_operations.ReasonRequired).
UNPROCESSABLE: dict[int | str, dict[str, Any]] = {422: {"model": Problem, "content": {PROBLEM: {}}}}

_REFUSED = {
    ApiRefusal.NO_TOKEN: (
        401,
        "Unauthorized",
        "Send a bearer access token.",
        'Bearer realm="admin"',
    ),
    ApiRefusal.INVALID_TOKEN: (
        401,
        "Unauthorized",
        "The access token is not valid.",
        'Bearer realm="admin", error="invalid_token"',
    ),
    ApiRefusal.NOT_ALLOWED: (
        403,
        "Forbidden",
        "This client's roles do not allow this.",
        'Bearer realm="admin", error="insufficient_scope"',
    ),
}


def problem(status: int, title: str, detail: str | None = None, **headers: str) -> JSONResponse:
    body = Problem(title=title, status=status, detail=detail).model_dump()
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def refused(refusal: ApiRefusal) -> JSONResponse:
    status, title, detail, challenge = _REFUSED[refusal]
    return problem(status, title, detail, **{"WWW-Authenticate": challenge})
