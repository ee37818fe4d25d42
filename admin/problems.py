"""The admin API's refusals as RFC 9457 problem details (`application/problem+json`), with the
RFC 6750 challenge for a missing, invalid or insufficient token: its part of the error
catalogue. As in idp.protocol.errors, each refusal is a named answer with its status and public
text (ADR 0011); only the wire shape differs, since the API's callers are administrators'
programs, not OAuth clients."""

from __future__ import annotations

from dataclasses import dataclass, replace
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


# The OpenAPI document's side: what every operation may answer besides its own success.
# 422 for what the schema allows but nothing stored can hold (HOLDS_NUL).
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM: {}}} for status in (400, 401, 403, 422)
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


@dataclass(frozen=True)
class AdminProblem:
    """One refusal of the API: status, the status's title and the public detail."""

    status: int
    title: str
    detail: str | None = None

    def detailed(self, detail: str) -> AdminProblem:
        """The same refusal with a detail made where it happens (which rule a change broke)."""
        return replace(self, detail=detail)


NO_SUCH_ACCOUNT = AdminProblem(404, "Not Found", "No account by this username.")
NO_SUCH_APP = AdminProblem(404, "Not Found", "No agency application with this client_id.")
NO_SUCH_ENTRY = AdminProblem(404, "Not Found", "No entry at this index.")
NOT_FOUND_HERE = AdminProblem(404, "Not Found")
METHOD_NOT_ALLOWED = AdminProblem(405, "Method Not Allowed")
NOT_VALID = AdminProblem(400, "Bad Request", "Not valid: the request.")
# Schema-valid (a string may hold any character) but not a value anything stored can hold.
HOLDS_NUL = AdminProblem(422, "Unprocessable Content", "Not valid: a parameter holds NUL.")
REASON_REQUIRED = AdminProblem(
    422, "Unprocessable Content", "Say why, in a few words: a reason is required."
)
REASON_NOT_VALID = AdminProblem(422, "Unprocessable Content", "The reason is not valid.")
BREAKS_A_RULE = AdminProblem(422, "Unprocessable Content", "The change breaks a rule.")
ACCOUNT_LOCKED = AdminProblem(409, "Conflict", "The account is locked: unlock it first.")
UNAVAILABLE = AdminProblem(503, "Service Unavailable", "Try again later.")
SERVER_ERROR = AdminProblem(500, "Internal Server Error")


def problem(answer: AdminProblem, **headers: str) -> JSONResponse:
    body = Problem(title=answer.title, status=answer.status, detail=answer.detail).model_dump()
    return JSONResponse(body, status_code=answer.status, media_type=PROBLEM, headers=headers)


def refused(refusal: ApiRefusal) -> JSONResponse:
    status, title, detail, challenge = _REFUSED[refusal]
    return problem(AdminProblem(status, title, detail), **{"WWW-Authenticate": challenge})
