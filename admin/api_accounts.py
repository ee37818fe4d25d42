"""The admin API's citizen accounts, for support: find a citizen, open one record, lock and
unlock, give an activation code, end the browser sessions, read the citizen's history. Every one
but the search asks for a reason; each is logged with it, and the citizen sees the looks at their
data on the account page. The work itself is admin.support_operations'."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from admin.api_access import ApiCaller
from admin.api_calls import call_as
from admin.api_operations import operator_of
from admin.problems import (
    ACCOUNT_LOCKED,
    CONFLICT,
    ERRORS,
    NO_SUCH_ACCOUNT,
    NOT_FOUND,
    REASON_NOT_VALID,
    UNPROCESSABLE,
    problem,
)
from admin.roles import Role
from admin.support_operations import (
    MAX_REASON_LENGTH,
    REASON_PATTERN,
    AccountIsLocked,
    AccountStatus,
    ReasonRequired,
    UnknownAccount,
    access_history,
    end_browser_sessions,
    issue_activation_code,
    lock_account,
    unlock_account,
)
from idp import events
from idp.accounts import find_account_by_username, find_accounts, normalize_username
from idp.oauth.context import OperationContext
from transparency.search import MAX_PAGE, FoundEntry

router = APIRouter()
T = TypeVar("T")


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
    responses={**ERRORS, **NOT_FOUND, **UNPROCESSABLE},
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
            return problem(NO_SUCH_ACCOUNT)
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


class SupportReason(BaseModel):
    """Why support does this, in the administrator's words: logged, and shown to the citizen
    when it is a look at their data."""

    model_config = {"extra": "forbid"}

    reason: str = Field(min_length=1, max_length=MAX_REASON_LENGTH, pattern=REASON_PATTERN)


class LockState(BaseModel):
    username: str
    subject: str
    locked: bool
    locked_at: datetime | None
    sessions_ended: int = Field(description="Browser sessions this request ended")


class ActivationCodeIssued(BaseModel):
    username: str
    code: str = Field(description="Read it to the citizen; it is shown only this once")
    expires_at: datetime


class SessionsEnded(BaseModel):
    username: str
    sessions_ended: int


class HistoryEntry(BaseModel):
    index: int = Field(description="Position in the log (leaf index)")
    time: datetime
    type: str
    outcome: Literal["success", "failure"]
    actor: dict[str, str | None] = Field(description="Who acted: its type and id")
    client_id: str | None
    source: str | None = Field(description="Source address of the request")
    claims_released: list[str]
    purpose: str | None
    detail: dict[str, Any]


class History(BaseModel):
    items: list[HistoryEntry]
    next_cursor: str | None = Field(description="Give it as `cursor` for the next page")


SUPPORT_ANSWERS = {**ERRORS, **NOT_FOUND, **UNPROCESSABLE}
Username = Annotated[str, Path(max_length=128)]


async def _support(
    request: Request, work: Callable[[OperationContext, str, str], T]
) -> T | Response:
    """`work(ctx, actor, client_id)` as support, its domain errors as problems."""

    def run(ctx: OperationContext, caller: ApiCaller) -> T | Response:
        try:
            return work(ctx, operator_of(ctx, caller), caller.client_id)
        except UnknownAccount:
            return problem(NO_SUCH_ACCOUNT)
        except ReasonRequired as error:
            return problem(REASON_NOT_VALID.detailed(f"The reason is not valid: {error}."))
        except AccountIsLocked:
            return problem(ACCOUNT_LOCKED)

    return await call_as(request, Role.SUPPORT, run)


def _lock_state(status: AccountStatus) -> LockState:
    return LockState(
        username=status.username,
        subject=status.subject,
        locked=status.locked_at is not None,
        locked_at=status.locked_at,
        sessions_ended=status.sessions_ended,
    )


@router.post(
    "/accounts/{username}/lock",
    response_model=LockState,
    responses=SUPPORT_ANSWERS,
    summary="Lock an account: no sign-in, its browser sessions end, its activation code "
    "stops working (role support)",
)
async def lock(request: Request, username: Username, body: SupportReason) -> Any:
    return await _support(
        request,
        lambda ctx, actor, client_id: _lock_state(
            lock_account(
                ctx, actor=actor, username=username, reason=body.reason, client_id=client_id
            )
        ),
    )


@router.post(
    "/accounts/{username}/unlock",
    response_model=LockState,
    responses=SUPPORT_ANSWERS,
    summary="Unlock an account: it signs in again (role support)",
)
async def unlock(request: Request, username: Username, body: SupportReason) -> Any:
    return await _support(
        request,
        lambda ctx, actor, client_id: _lock_state(
            unlock_account(
                ctx, actor=actor, username=username, reason=body.reason, client_id=client_id
            )
        ),
    )


@router.post(
    "/accounts/{username}/activation-code",
    response_model=ActivationCodeIssued,
    responses={**SUPPORT_ANSWERS, **CONFLICT},
    summary="A new activation code for the citizen to set a password at /account/activate; "
    "the old one stops working (role support)",
)
async def activation_code(request: Request, username: Username, body: SupportReason) -> Any:
    def work(ctx: OperationContext, actor: str, client_id: str) -> ActivationCodeIssued:
        issued = issue_activation_code(
            ctx, actor=actor, username=username, reason=body.reason, client_id=client_id
        )
        return ActivationCodeIssued(
            username=normalize_username(username), code=issued.code, expires_at=issued.expires_at
        )

    answer = await _support(request, work)
    if isinstance(answer, Response):
        return answer
    # A credential: no cache keeps it.
    return _no_store(answer)


@router.post(
    "/accounts/{username}/end-sessions",
    response_model=SessionsEnded,
    responses=SUPPORT_ANSWERS,
    summary="End every browser session of the account: it signs in again everywhere (role support)",
)
async def end_sessions(request: Request, username: Username, body: SupportReason) -> Any:
    def work(ctx: OperationContext, actor: str, client_id: str) -> SessionsEnded:
        ended = end_browser_sessions(
            ctx, actor=actor, username=username, reason=body.reason, client_id=client_id
        )
        return SessionsEnded(username=normalize_username(username), sessions_ended=ended)

    return await _support(request, work)


@router.get(
    "/accounts/{username}/history",
    response_model=History,
    responses=SUPPORT_ANSWERS,
    summary="The citizen's entries in the access log, newest first; why you read them is "
    "required, logged and shown to the citizen (role support)",
)
async def history(
    request: Request,
    username: Username,
    reason: Annotated[
        str, Query(min_length=1, max_length=MAX_REASON_LENGTH, pattern=REASON_PATTERN)
    ],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$")] = None,
) -> Any:
    def work(ctx: OperationContext, actor: str, client_id: str) -> History:
        page = access_history(
            ctx,
            actor=actor,
            username=username,
            reason=reason,
            limit=limit,
            before=int(cursor) if cursor else None,
            client_id=client_id,
        )
        following = str(page.next_before) if page.next_before is not None else None
        return History(items=[_history_entry(e) for e in page.entries], next_cursor=following)

    return await _support(request, work)


def _history_entry(entry: FoundEntry) -> HistoryEntry:
    return HistoryEntry(
        index=entry.log_index,
        time=entry.occurred_at,
        type=entry.event_type,
        outcome="failure" if entry.outcome == "failure" else "success",
        actor={"type": entry.actor_type, "id": entry.actor_id},
        client_id=entry.client_id,
        source=entry.source_address,
        claims_released=entry.claims_released,
        purpose=entry.purpose,
        detail=entry.detail,
    )


def _no_store(model: BaseModel) -> Response:
    return Response(
        model.model_dump_json(),
        media_type="application/json",
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
