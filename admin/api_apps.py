"""The admin API's agency applications, for operators: list and read registrations, register,
edit, rotate the secret, disable and enable, and the onboarding view. Thin routes over
admin.client_operations, which logs each change naming the API client the operator acted
through; rule violations are 422 problems, unknown apps 404."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from admin.api_access import ApiCaller
from admin.api_calls import call_as
from admin.api_operations import operator_of
from admin.client_operations import (
    AppChanges,
    AppOptions,
    InvalidClientData,
    UnknownAgencyApp,
    disable_agency_app,
    enable_agency_app,
    register_agency_app,
    rotate_client_secret,
    update_agency_app,
)
from admin.onboarding import onboarding_for
from admin.problems import BREAKS_A_RULE, ERRORS, INVALID, NO_SUCH_APP, NOT_FOUND, problem
from admin.roles import Role
from idp.clients import (
    find_registration,
    list_clients,
    registration_summary,
    secret_overlap_ends_at,
)
from idp.models import Client
from idp.oauth.context import OperationContext

router = APIRouter()
T = TypeVar("T")

ClientId = Annotated[str, Path(max_length=64)]
Uri = Annotated[str, Field(min_length=1, max_length=2000)]
Word = Annotated[str, Field(min_length=1, max_length=64)]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # answers that carry a secret


class Registration(BaseModel):
    client_id: str
    name: str
    purpose: str | None
    public: bool
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    backchannel_logout_uri: str | None = Field(
        description="Where the gateway posts a logout token when a session of the app ends"
    )
    frontchannel_logout_uri: str | None = Field(
        description="Framed on the signed-out page, so the app ends its session in the browser"
    )
    grant_types: list[str]
    scopes: list[str]
    require_pkce: bool
    disabled: bool
    id_token_signed_response_alg: str
    minimum_level: str = Field(
        description="The lowest level of assurance a sign-in for the app must reach: low, "
        "substantial or high"
    )
    secret_overlap_ends_at: datetime | None = Field(
        description="Until then the secret replaced by the last rotation works too"
    )


class Registrations(BaseModel):
    items: list[Registration]


class RegisteredApp(Registration):
    client_secret: str | None = Field(
        description="Shown this once (only its digest is kept); null for a public client"
    )


class NewApp(BaseModel):
    """A registration, checked by the rules of `idp clients add`."""

    model_config = {"extra": "forbid"}

    name: str = Field(min_length=1, max_length=255)
    purpose: str | None = Field(None, max_length=500, description="Shown on the consent page")
    public: bool = Field(False, description="A client that cannot keep a secret (PKCE instead)")
    redirect_uris: list[Uri] = Field(default_factory=list, max_length=20)
    post_logout_redirect_uris: list[Uri] = Field(default_factory=list, max_length=20)
    backchannel_logout_uri: Uri | None = Field(
        None, description="Back-Channel Logout 1.0: https, a query allowed, no fragment"
    )
    frontchannel_logout_uri: Uri | None = Field(
        None,
        description="Front-Channel Logout 1.0: https, with the scheme, host and port of a "
        "redirect URI",
    )
    grant_types: list[Word] | None = Field(
        None,
        max_length=3,
        description="authorization_code, refresh_token, client_credentials "
        "(default: the first two)",
    )
    scopes: list[Word] | None = Field(
        None, max_length=20, description="Default: openid profile email"
    )
    require_pkce: bool = False
    id_token_signed_response_alg: str = Field("RS256", max_length=16, description="RS256 or ES256")


class AppEdit(BaseModel):
    """The fields to change; those left out or null stay as they are, except `purpose` and the
    logout URIs, which null or "" removes."""

    model_config = {"extra": "forbid"}

    name: str | None = Field(None, min_length=1, max_length=255)
    purpose: str | None = Field(None, max_length=500)
    redirect_uris: list[Uri] | None = Field(None, max_length=20)
    post_logout_redirect_uris: list[Uri] | None = Field(None, max_length=20)
    backchannel_logout_uri: str | None = Field(None, max_length=2000)
    frontchannel_logout_uri: str | None = Field(None, max_length=2000)
    grant_types: list[Word] | None = Field(None, max_length=3)
    scopes: list[Word] | None = Field(None, max_length=20)
    require_pkce: bool | None = None
    id_token_signed_response_alg: str | None = Field(None, max_length=16)

    def changes(self) -> AppChanges:
        given: dict[str, Any] = {name: getattr(self, name) for name in self.model_fields_set}
        for removable in ("purpose", "backchannel_logout_uri", "frontchannel_logout_uri"):
            if removable in given and given[removable] is None:
                given[removable] = ""  # AppChanges: an empty value removes it
        return AppChanges(**given)


class SecretRotation(BaseModel):
    model_config = {"extra": "forbid"}

    overlap_hours: int | None = Field(
        None,
        ge=0,
        le=168,
        description="How long the replaced secret keeps working "
        "(default: IDP_CLIENT_SECRET_OVERLAP)",
    )


class RotatedSecret(BaseModel):
    client_id: str
    client_secret: str = Field(description="Shown this once; only its digest is kept")
    secret_overlap_ends_at: datetime | None = Field(
        description="When the replaced secret stops working; null: it already has"
    )


class Snippet(BaseModel):
    tool: str
    language: str
    text: str


class Onboarding(BaseModel):
    client_id: str
    discovery_url: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    backchannel_logout_uri: str | None
    frontchannel_logout_uri: str | None
    scope: str
    snippets: list[Snippet] = Field(description="The secret is never in them")


def _registration(ctx: OperationContext, client: Client) -> Registration:
    return Registration(
        **registration_summary(client),
        secret_overlap_ends_at=secret_overlap_ends_at(client, now=ctx.now),
    )


def _not_found() -> Response:
    return problem(NO_SUCH_APP)


def _answer(change: Callable[[], T]) -> T | Response:
    """The change's answer, or the problem a refused change is (refused before it changed
    anything, so the unit of work commits nothing of it)."""
    try:
        return change()
    except UnknownAgencyApp:
        return _not_found()
    except InvalidClientData as error:
        return problem(BREAKS_A_RULE.detailed(f"{error}."))


@router.get(
    "/clients", response_model=Registrations, responses=ERRORS, summary="Agency apps (operator)"
)
async def clients(request: Request) -> Response | Registrations:
    def work(ctx: OperationContext, caller: ApiCaller) -> Registrations:
        return Registrations(items=[_registration(ctx, c) for c in list_clients(ctx.session)])

    result: Response | Registrations = await call_as(request, Role.OPERATOR, work)
    return result


@router.post(
    "/clients",
    status_code=201,
    response_model=RegisteredApp,
    responses={**ERRORS, **INVALID},
    summary="Register an agency app; its secret is in this answer only (operator)",
)
async def register_app(
    request: Request, response: Response, body: NewApp
) -> Response | RegisteredApp:
    options = AppOptions(**body.model_dump())

    def work(ctx: OperationContext, caller: ApiCaller) -> Response | RegisteredApp:
        def register() -> RegisteredApp:
            client, secret = register_agency_app(
                ctx, actor=operator_of(ctx, caller), options=options
            )
            return RegisteredApp(**_registration(ctx, client).model_dump(), client_secret=secret)

        return _answer(register)

    response.headers.update(NO_STORE)
    result: Response | RegisteredApp = await call_as(request, Role.OPERATOR, work)
    return result


@router.get(
    "/clients/{client_id}",
    response_model=Registration,
    responses={**ERRORS, **NOT_FOUND},
    summary="One agency app's registration (operator)",
)
async def read_app(request: Request, client_id: ClientId) -> Response | Registration:
    def work(ctx: OperationContext, caller: ApiCaller) -> Response | Registration:
        client = find_registration(ctx.session, client_id)
        return _registration(ctx, client) if client else _not_found()

    result: Response | Registration = await call_as(request, Role.OPERATOR, work)
    return result


@router.patch(
    "/clients/{client_id}",
    response_model=Registration,
    responses={**ERRORS, **NOT_FOUND, **INVALID},
    summary="Change an agency app's registration, checked as a new one is (operator)",
)
async def edit_app(request: Request, client_id: ClientId, body: AppEdit) -> Response | Registration:
    changes = body.changes()

    def work(ctx: OperationContext, caller: ApiCaller) -> Response | Registration:
        actor = operator_of(ctx, caller)
        return _answer(
            lambda: _registration(
                ctx, update_agency_app(ctx, actor=actor, client_id=client_id, changes=changes)
            )
        )

    result: Response | Registration = await call_as(request, Role.OPERATOR, work)
    return result


@router.post(
    "/clients/{client_id}/rotate-secret",
    response_model=RotatedSecret,
    responses={**ERRORS, **NOT_FOUND, **INVALID},
    summary="A new secret for an agency app; the old one works until the overlap ends (operator)",
)
async def rotate_secret(
    request: Request,
    response: Response,
    client_id: ClientId,
    body: Annotated[SecretRotation | None, Body()] = None,
) -> Response | RotatedSecret:
    hours = body.overlap_hours if body is not None else None

    def work(ctx: OperationContext, caller: ApiCaller) -> Response | RotatedSecret:
        actor = operator_of(ctx, caller)
        overlap = ctx.settings.client_secret_overlap if hours is None else timedelta(hours=hours)

        def rotate() -> RotatedSecret:
            secret = rotate_client_secret(ctx, actor=actor, client_id=client_id, overlap=overlap)
            client = find_registration(ctx.session, client_id)
            ends_at = secret_overlap_ends_at(client, now=ctx.now) if client else None
            return RotatedSecret(
                client_id=client_id, client_secret=secret, secret_overlap_ends_at=ends_at
            )

        return _answer(rotate)

    response.headers.update(NO_STORE)
    result: Response | RotatedSecret = await call_as(request, Role.OPERATOR, work)
    return result


async def _switch(request: Request, client_id: str, *, disabled: bool) -> Response | Registration:
    change = disable_agency_app if disabled else enable_agency_app

    def work(ctx: OperationContext, caller: ApiCaller) -> Response | Registration:
        actor = operator_of(ctx, caller)
        return _answer(lambda: _registration(ctx, change(ctx, actor=actor, client_id=client_id)))

    result: Response | Registration = await call_as(request, Role.OPERATOR, work)
    return result


@router.post(
    "/clients/{client_id}/disable",
    response_model=Registration,
    responses={**ERRORS, **NOT_FOUND},
    summary="Stop an agency app: no sign-in, token or userinfo for it (operator)",
)
async def disable_client(request: Request, client_id: ClientId) -> Response | Registration:
    return await _switch(request, client_id, disabled=True)


@router.post(
    "/clients/{client_id}/enable",
    response_model=Registration,
    responses={**ERRORS, **NOT_FOUND},
    summary="Let a disabled agency app work again (operator)",
)
async def enable_client(request: Request, client_id: ClientId) -> Response | Registration:
    return await _switch(request, client_id, disabled=False)


@router.get(
    "/clients/{client_id}/onboarding",
    response_model=Onboarding,
    responses={**ERRORS, **NOT_FOUND},
    summary="What the agency needs to connect its app: discovery URL, client_id, redirect URIs "
    "and configuration snippets, never the secret (operator)",
)
async def onboarding(request: Request, client_id: ClientId) -> Response | Onboarding:
    def work(ctx: OperationContext, caller: ApiCaller) -> Response | Onboarding:
        client = find_registration(ctx.session, client_id)
        if client is None:
            return _not_found()
        view = onboarding_for(client, issuer=ctx.settings.issuer)
        return Onboarding(
            client_id=view.client_id,
            discovery_url=view.discovery_url,
            redirect_uris=view.redirect_uris,
            post_logout_redirect_uris=view.post_logout_redirect_uris,
            backchannel_logout_uri=view.backchannel_logout_uri,
            frontchannel_logout_uri=view.frontchannel_logout_uri,
            scope=view.scope,
            snippets=[
                Snippet(tool=s.tool, language=s.language, text=s.text) for s in view.snippets
            ],
        )

    result: Response | Onboarding = await call_as(request, Role.OPERATOR, work)
    return result
