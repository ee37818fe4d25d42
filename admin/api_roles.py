"""The admin API's roles, for the security officer: who holds which role, granting and
revoking. Each change is logged as `idp admins` logs it, naming the API client."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from admin.api_access import ApiRefusal, allowed, api_caller
from admin.api_operations import operator_of
from admin.problems import ERRORS, NOT_FOUND, problem, refused
from admin.roles import Role, administrators, grant_roles, revoke_roles
from idp import events
from idp.accounts import find_account_by_username
from idp.web.http import bearer_token
from idp.web.state import operation

router = APIRouter()


class AdministratorRoles(BaseModel):
    username: str
    subject: str
    roles: list[Role]


class Administrators(BaseModel):
    items: list[AdministratorRoles]


class RoleChange(BaseModel):
    model_config = {"extra": "forbid"}

    username: str = Field(min_length=1, max_length=128)
    roles: list[Role] = Field(min_length=1, max_length=4)


class RoleChangeResult(BaseModel):
    username: str
    changed: list[Role] = Field(description="Granted or revoked now; those already so are not")


@router.get(
    "/roles",
    response_model=Administrators,
    responses=ERRORS,
    summary="Who holds which role (security)",
)
async def roles(request: Request) -> Response | Administrators:
    token, _ = bearer_token(request)

    def work() -> Response | Administrators:
        with operation(request) as ctx:
            caller = allowed(api_caller(ctx, token), Role.SECURITY)
            if isinstance(caller, ApiRefusal):
                return refused(caller)
            return Administrators(
                items=[
                    AdministratorRoles(username=a.username, subject=a.subject, roles=list(a.roles))
                    for a in administrators(ctx.session)
                ]
            )

    return await run_in_threadpool(work)


async def _change(request: Request, change: RoleChange, *, grant: bool) -> Any:
    token, _ = bearer_token(request)

    def work() -> Response | RoleChangeResult:
        with operation(request) as ctx:
            caller = allowed(api_caller(ctx, token), Role.SECURITY)
            if isinstance(caller, ApiRefusal):
                return refused(caller)
            account = find_account_by_username(ctx.session, change.username)
            if account is None:
                return problem(404, "Not Found", "No account by this username.")
            operator = operator_of(ctx, caller)
            if grant:
                changed = grant_roles(ctx.session, account, change.roles, by=operator, now=ctx.now)
                event = events.admin_roles_granted
            else:
                changed = revoke_roles(ctx.session, account, change.roles)
                event = events.admin_roles_revoked
            if changed:
                ctx.record(
                    event(
                        operator=operator, subject=account.subject, roles=[str(r) for r in changed]
                    )
                )
            return RoleChangeResult(username=account.username, changed=changed)

    return await run_in_threadpool(work)


@router.post(
    "/roles/grant",
    response_model=RoleChangeResult,
    responses={**ERRORS, **NOT_FOUND},
    summary="Give an account roles (security)",
)
async def grant(request: Request, change: RoleChange) -> Response | RoleChangeResult:
    result: Response | RoleChangeResult = await _change(request, change, grant=True)
    return result


@router.post(
    "/roles/revoke",
    response_model=RoleChangeResult,
    responses={**ERRORS, **NOT_FOUND},
    summary="Take roles from an account (security)",
)
async def revoke(request: Request, change: RoleChange) -> Response | RoleChangeResult:
    result: Response | RoleChangeResult = await _change(request, change, grant=False)
    return result
