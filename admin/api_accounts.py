"""The admin API's citizen accounts, for support: find a citizen, and open one record, which
asks for a reason. Each is logged as an administrator's look, with the reason, and the citizen
sees it on the account page."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from admin.api_access import ApiCaller
from admin.api_calls import call_as
from admin.api_operations import operator_of
from admin.problems import ERRORS, NOT_FOUND, problem
from admin.roles import Role
from idp import events
from idp.accounts import find_account_by_username, find_accounts
from idp.oauth.context import OperationContext

router = APIRouter()


class AccountSummary(BaseModel):
    username: str
    subject: str
    given_name: str | None
    family_name: str | None
    disabled: bool


class AccountRecord(AccountSummary):
    email: str | None
    email_verified: bool
    birthdate: date | None
    national_id: str | None
    created_at: str


class AccountSearch(BaseModel):
    items: list[AccountSummary]


@router.get(
    "/accounts",
    response_model=AccountSearch,
    responses=ERRORS,
    summary="Find citizens by username (its start), name or national identifier (role support)",
)
async def search_accounts(
    request: Request, q: Annotated[str, Query(min_length=2, max_length=128)]
) -> Response | AccountSearch:
    def work(ctx: OperationContext, caller: ApiCaller) -> AccountSearch:
        found = find_accounts(ctx.session, q)
        ctx.record(events.account_listed(operator=operator_of(ctx, caller), accounts=len(found)))
        return AccountSearch(
            items=[
                AccountSummary(
                    username=a.username,
                    subject=a.subject,
                    given_name=a.given_name,
                    family_name=a.family_name,
                    disabled=a.disabled_at is not None,
                )
                for a in found
            ]
        )

    return await call_as(request, Role.SUPPORT, work)


@router.get(
    "/accounts/{username}",
    response_model=AccountRecord,
    responses={**ERRORS, **NOT_FOUND},
    summary="One citizen's record; why you open it is required, logged and shown to the citizen "
    "(role support)",
)
async def read_account(
    request: Request,
    username: Annotated[str, Path(max_length=128)],
    reason: Annotated[str, Query(min_length=5, max_length=500)],
) -> Response | AccountRecord:
    why = " ".join(reason.split())

    def work(ctx: OperationContext, caller: ApiCaller) -> Response | AccountRecord:
        account = find_account_by_username(ctx.session, username)
        if account is None:
            return problem(404, "Not Found", "No account by this username.")
        record = AccountRecord(
            username=account.username,
            subject=account.subject,
            given_name=account.given_name,
            family_name=account.family_name,
            disabled=account.disabled_at is not None,
            email=account.email,
            email_verified=account.email_verified,
            birthdate=account.birthdate,
            national_id=account.national_id,
            created_at=account.created_at.isoformat(),
        )
        shown = [name for name, value in record.model_dump().items() if value]
        # Logged in the same transaction, before anything is sent.
        ctx.record(
            events.account_read(
                operator=operator_of(ctx, caller),
                subject=account.subject,
                fields=shown,
                reason=why,
                client_id=caller.client_id,
            )
        )
        return record

    return await call_as(request, Role.SUPPORT, work)
