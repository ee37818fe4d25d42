"""Back-channel endpoints: discovery, JWKS, token, introspection, revocation, userinfo."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from idp.oauth.server import handle_introspection, handle_revocation, handle_token_request
from idp.oauth.userinfo import answer_userinfo
from idp.protocol.errors import (
    ACCESS_TOKEN_IN_QUERY,
    ACCESS_TOKEN_SENT_TWICE,
    BODY_NOT_A_FORM,
    BODY_TOO_LARGE,
    PARAMETERS_IN_QUERY,
    ProtocolError,
    repeated_parameter,
)
from idp.web.errors import error_response
from idp.web.http import (
    BodyTooLarge,
    NotAForm,
    bearer_token,
    from_protocol,
    json_response,
    protocol_request,
    read_form,
)
from idp.web.state import operation, web_state

router = APIRouter()


@router.get("/.well-known/openid-configuration", include_in_schema=False)
@router.get("/.well-known/oauth-authorization-server", include_in_schema=False)
def discovery(request: Request) -> Response:
    state = web_state(request)
    max_age = int(state.provider.settings.jwks_max_age.total_seconds())
    return Response(
        state.discovery_document,
        media_type="application/json",
        headers={"Cache-Control": f"public, max-age={max_age}"},
    )


@router.get("/jwks.json", include_in_schema=False)
def jwks(request: Request) -> Response:
    state = web_state(request)
    max_age = int(state.provider.settings.jwks_max_age.total_seconds())
    return Response(
        state.provider.keyring.jwks_document(),
        media_type="application/jwk-set+json",
        headers={"Cache-Control": f"public, max-age={max_age}"},
    )


async def _form_or_error(request: Request) -> list[tuple[str, str]] | Response:
    try:
        return await read_form(request)
    except NotAForm:
        return error_response(BODY_NOT_A_FORM)
    except BodyTooLarge:
        return error_response(BODY_TOO_LARGE)


def _refuse_query_parameters(request: Request) -> Response | None:
    # Credentials and tokens belong in the body, never in a URL that logs keep (RFC 6749 3.2).
    if request.query_params:
        return error_response(PARAMETERS_IN_QUERY)
    return None


def _duplicate(form: list[tuple[str, str]]) -> str | None:
    seen: set[str] = set()
    for name, _ in form:
        if name in seen:
            return name
        seen.add(name)
    return None


async def _back_channel(request: Request, path: str, handler: object) -> Response:
    refused = _refuse_query_parameters(request)
    if refused:
        return refused
    form = await _form_or_error(request)
    if isinstance(form, Response):
        return form
    repeated = _duplicate(form)
    if repeated:
        return error_response(repeated_parameter(repeated))
    url = web_state(request).provider.settings.endpoint(path)
    proto = protocol_request(request, url=url, form=form)

    def work() -> Response:
        with operation(request) as ctx:
            response = handler(ctx, proto)  # type: ignore[operator]
        if response.error is not None:
            return error_response(response.error)
        return from_protocol(response)

    return await run_in_threadpool(work)


@router.post("/token", include_in_schema=False)
async def token(request: Request) -> Response:
    return await _back_channel(request, "/token", handle_token_request)


@router.post("/introspect", include_in_schema=False)
async def introspect(request: Request) -> Response:
    return await _back_channel(request, "/introspect", handle_introspection)


@router.post("/revoke", include_in_schema=False)
async def revoke(request: Request) -> Response:
    return await _back_channel(request, "/revoke", handle_revocation)


async def _userinfo(request: Request) -> Response:
    if "access_token" in request.query_params:
        return error_response(ACCESS_TOKEN_IN_QUERY)
    access_token, problem = bearer_token(request)
    if request.method == "POST":
        form = await _form_or_error(request) if request.headers.get("content-type") else []
        if isinstance(form, Response):
            return form
        body_tokens = [v for k, v in form if k == "access_token"]
        if body_tokens and access_token:
            return error_response(ACCESS_TOKEN_SENT_TWICE)
        if len(body_tokens) == 1:
            access_token = body_tokens[0]
    if problem:
        access_token = None

    def work() -> Response:
        with operation(request) as ctx:
            answer = answer_userinfo(ctx, access_token)
        if isinstance(answer, ProtocolError):
            return error_response(answer)
        return json_response(200, answer)

    return await run_in_threadpool(work)


@router.get("/userinfo", include_in_schema=False)
async def userinfo_get(request: Request) -> Response:
    return await _userinfo(request)


@router.post("/userinfo", include_in_schema=False)
async def userinfo_post(request: Request) -> Response:
    return await _userinfo(request)
