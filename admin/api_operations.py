"""The admin API's agency applications and signing keys, for operators: list, disable and
enable applications; list and rotate keys. Each change is logged as the command line logs it,
naming the API client the operator acted through."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from admin.api_access import ApiCaller
from admin.api_calls import call_as
from admin.problems import ERRORS, NOT_FOUND, problem
from admin.roles import Role
from idp import events
from idp.clients import find_client, find_registration, list_clients, registration_summary
from idp.keys.keyring import KeyStatus
from idp.oauth.context import OperationContext

router = APIRouter()


class Registration(BaseModel):
    client_id: str
    name: str
    purpose: str | None
    public: bool
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    grant_types: list[str]
    scopes: list[str]
    require_pkce: bool
    disabled: bool
    id_token_signed_response_alg: str


class Registrations(BaseModel):
    items: list[Registration]


class SigningKey(BaseModel):
    kid: str
    alg: str
    state: str  # next, active, retiring or expired
    activates_at: datetime
    unpublish_at: datetime | None


class SigningKeys(BaseModel):
    items: list[SigningKey]


def operator_of(ctx: OperationContext, caller: ApiCaller) -> str:
    """How the log names an administrator acting through an API client."""
    client = find_client(ctx.session, caller.client_id)
    return f"{client.name if client else caller.client_id} (admin API)"


def _keys(statuses: list[KeyStatus]) -> SigningKeys:
    return SigningKeys(
        items=[
            SigningKey(
                kid=s.record.kid,
                alg=s.record.alg,
                state=s.state,
                activates_at=s.record.activates_at,
                unpublish_at=s.unpublish_at,
            )
            for s in statuses
        ]
    )


@router.get(
    "/clients", response_model=Registrations, responses=ERRORS, summary="Agency apps (operator)"
)
async def clients(request: Request) -> Response | Registrations:
    def work(ctx: OperationContext, caller: ApiCaller) -> Registrations:
        rows = list_clients(ctx.session)
        return Registrations(items=[Registration(**registration_summary(c)) for c in rows])

    result: Response | Registrations = await call_as(request, Role.OPERATOR, work)
    return result


async def _set_disabled(request: Request, client_id: str, *, disabled: bool) -> Any:
    def work(ctx: OperationContext, caller: ApiCaller) -> Response | Registration:
        client = find_registration(ctx.session, client_id)
        if client is None:
            return problem(404, "Not Found", "No agency application with this client_id.")
        if (client.disabled_at is not None) != disabled:  # a change: logged
            client.disabled_at = ctx.now if disabled else None
            change = events.client_disabled if disabled else events.client_enabled
            ctx.record(change(operator=operator_of(ctx, caller), client_id=client.client_id))
        return Registration(**registration_summary(client))

    return await call_as(request, Role.OPERATOR, work)


@router.post(
    "/clients/{client_id}/disable",
    response_model=Registration,
    responses={**ERRORS, **NOT_FOUND},
    summary="Stop an agency app: no sign-in, token or userinfo for it (operator)",
)
async def disable_client(
    request: Request, client_id: Annotated[str, Path(max_length=64)]
) -> Response | Registration:
    result: Response | Registration = await _set_disabled(request, client_id, disabled=True)
    return result


@router.post(
    "/clients/{client_id}/enable",
    response_model=Registration,
    responses={**ERRORS, **NOT_FOUND},
    summary="Let a disabled agency app work again (operator)",
)
async def enable_client(
    request: Request, client_id: Annotated[str, Path(max_length=64)]
) -> Response | Registration:
    result: Response | Registration = await _set_disabled(request, client_id, disabled=False)
    return result


@router.get(
    "/keys", response_model=SigningKeys, responses=ERRORS, summary="Signing keys (operator)"
)
async def keys(request: Request) -> Response | SigningKeys:
    def work(ctx: OperationContext, caller: ApiCaller) -> SigningKeys:
        return _keys(ctx.provider.keyring.statuses())

    result: Response | SigningKeys = await call_as(request, Role.OPERATOR, work)
    return result


@router.post(
    "/keys/rotate",
    response_model=SigningKeys,
    responses=ERRORS,
    summary="Add new signing keys, published before they sign; emergency=true makes them sign "
    "at once (operator)",
)
async def rotate_keys(
    request: Request, emergency: Annotated[bool, Query()] = False
) -> Response | SigningKeys:
    def work(ctx: OperationContext, caller: ApiCaller) -> SigningKeys:
        lead = timedelta(0) if emergency else ctx.settings.key_publish_lead
        created = ctx.provider.keyring.rotate(publish_lead=lead)
        ctx.record(events.signing_key_rotated(operator=operator_of(ctx, caller), keys=created))
        return _keys(ctx.provider.keyring.statuses())

    result: Response | SigningKeys = await call_as(request, Role.OPERATOR, work)
    return result
