"""The admin API's signing keys, for operators: list and rotate them, each rotation logged
naming the API client the operator acted through (`operator_of`; agency apps are in
admin.api_apps)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from admin.api_access import ApiCaller
from admin.api_calls import call_as
from admin.problems import ERRORS
from admin.roles import Role
from idp import events
from idp.clients import find_client
from idp.keys.keyring import KeyStatus
from idp.oauth.context import OperationContext

router = APIRouter()


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
