"""The admin API's roles, for the security officer: who holds which role, granting and
revoking. Each change is logged as `idp admins` logs it, naming the API client."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from admin.api_access import ApiCaller
from admin.api_calls import call_as
from admin.api_operations import operator_of
from admin.problems import ERRORS, NO_SUCH_ACCOUNT, NOT_FOUND, problem
from admin.roles import Role, administrators, grant_roles, revoke_roles
from idp import events
from idp.accounts import find_account_by_username
from idp.oauth.context import OperationContext

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
    def work(ctx: OperationContext, caller: ApiCaller) -> Administrators:
        return Administrators(
            items=[
                AdministratorRoles(username=a.username, subject=a.subject, roles=list(a.roles))
                for a in administrators(ctx.session)
            ]
        )

    return await call_as(request, Role.SECURITY, work)


async def _change(request: Request, change: RoleChange, *, grant: bool) -> Any:
    def work(ctx: OperationContext, caller: ApiCaller) -> Response | RoleChangeResult:
        account = find_account_by_username(ctx.session, change.username)
        if account is None:
            return problem(NO_SUCH_ACCOUNT)
        operator = operator_of(ctx, caller)
        if grant:
            changed = grant_roles(ctx.session, account, change.roles, by=operator, now=ctx.now)
            event = events.admin_roles_granted
        else:
            changed = revoke_roles(ctx.session, account, change.roles)
            event = events.admin_roles_revoked
        if changed:
            names = [str(role) for role in changed]
            ctx.record(event(operator=operator, subject=account.subject, roles=names))
        return RoleChangeResult(username=account.username, changed=changed)

    return await call_as(request, Role.SECURITY, work)


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
