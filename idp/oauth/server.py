"""Authlib's AuthorizationServer bound to one request's unit of work.

A server is built per request (registering grants is a handful of list appends): the grants'
storage hooks then reach the request's session through `server.ctx` with no global state.
"""

from __future__ import annotations

import os
from typing import Any

from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749 import AuthorizationServer
from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc9207 import IssuerParameter

from idp.oauth.adapters import OAuthClient
from idp.oauth.client_authentication import strict_client_auth
from idp.oauth.context import OperationContext
from idp.oauth.endpoints import TokenIntrospection, TokenRevocation
from idp.oauth.grants.authorization_code import AuthorizationCodeGrant, OpenIDConnectCode
from idp.oauth.grants.client_credentials import ClientCredentialsGrant
from idp.oauth.grants.refresh_token import OpenIDConnectRefresh, RefreshTokenGrant
from idp.oauth.pkce import S256CodeChallenge
from idp.oauth.requests import GatewayOAuth2Request, ProtocolRequest, ProtocolResponse
from idp.protocol.claims import ADMIN_API_SCOPES, SUPPORTED_SCOPES
from idp.protocol.errors import INVALID_CLIENT, INVALID_CLIENT_IN_BODY, ProtocolError
from idp.settings import IdpSettings


def allow_loopback_http(settings: IdpSettings) -> None:
    """Authlib refuses plain http unless told otherwise; our settings accept http only for a
    loopback issuer (development), so only then is Authlib told."""
    if not settings.is_https:
        os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"


class _Issuer(IssuerParameter):  # type: ignore[misc]
    def __init__(self, issuer: str) -> None:
        self.issuer = issuer

    def get_issuer(self) -> str:
        return self.issuer


# The grants this server runs, in the order the discovery document lists them.
GRANTS = (AuthorizationCodeGrant, RefreshTokenGrant, ClientCredentialsGrant)
# The authorization endpoint refuses every other response_type itself (idp.oauth.authorize).
RESPONSE_TYPES = ("code",)
# Every scope a client may be granted: the citizens' claims and the administrators' API.
SCOPES_SUPPORTED = [*SUPPORTED_SCOPES, *ADMIN_API_SCOPES]


class GatewayAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, ctx: OperationContext) -> None:
        super().__init__(scopes_supported=SCOPES_SUPPORTED)
        self.ctx = ctx
        extensions: dict[type, list[Any]] = {
            AuthorizationCodeGrant: [
                S256CodeChallenge(required=True),
                OpenIDConnectCode(require_nonce=False),
            ],
            RefreshTokenGrant: [OpenIDConnectRefresh()],
        }
        for grant in GRANTS:
            self.register_grant(grant, extensions.get(grant))
        self.register_endpoint(TokenIntrospection)
        self.register_endpoint(TokenRevocation)
        self.register_extension(_Issuer(ctx.settings.issuer))
        for method in ("client_secret_basic", "client_secret_post"):
            self.register_client_auth_method(method, strict_client_auth(method))

    def query_client(self, client_id: str) -> OAuthClient | None:
        clients, session, now = self.ctx.provider.clients, self.ctx.session, self.ctx.now
        row = clients.find(session, client_id, now=now)
        if row is None:
            return None
        return OAuthClient(row, now=now, reread=lambda: clients.reread(session, client_id, now=now))

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        """Nothing to do: tokens are stored as they are issued (idp.oauth.tokens)."""

    def validate_requested_scope(self, scope: str | None) -> None:
        """Unknown scopes are dropped by the client's allowed-scope filter, not refused."""

    def create_oauth2_request(self, request: Any) -> GatewayOAuth2Request:
        if isinstance(request, GatewayOAuth2Request):
            return request
        oauth_request = GatewayOAuth2Request(request)
        oauth_request.operation_context = self.ctx
        return oauth_request

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError("no JSON endpoints are served through Authlib")

    def handle_response(self, status: int, body: Any, headers: Any) -> ProtocolResponse:
        return ProtocolResponse(status=status, body=body, headers=list(headers))

    def handle_error_response(self, request: Any, error: Any) -> ProtocolResponse:
        if error.redirect_uri:  # an error redirect (not made at the endpoints served here)
            response: ProtocolResponse = super().handle_error_response(request, error)
            return response
        answer = catalogue_error(error)
        if isinstance(error, InvalidClientError):
            # One answer for every client authentication failure, so it never tells whether a
            # client_id exists (RFC 6749 10.12); why it failed goes to the log only. RFC 6749
            # 5.2: a client that used the Authorization header, or sent no credentials at all,
            # gets 401 with a Basic challenge; one that authenticated in the body gets 400.
            uniform = INVALID_CLIENT_IN_BODY if _authenticated_in_body(request) else INVALID_CLIENT
            answer = uniform.because(error.description or "no client authenticated")
        return ProtocolResponse(status=answer.status, body=answer.body(), headers=[], error=answer)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Events are recorded by the grants themselves, in the request's transaction."""


def catalogue_error(error: OAuth2Error) -> ProtocolError:
    """An error Authlib raised (its code, status and text, which Authlib keeps within RFC 6749's
    characters) as a catalogue entry."""
    return ProtocolError(error.error, error.status_code, None).described(error.description)


def _authenticated_in_body(request: Any) -> bool:
    if str(request.headers.get("Authorization", "")).strip():
        return False
    return "client_id" in request.form or "client_secret" in request.form


def build_server(ctx: OperationContext) -> GatewayAuthorizationServer:
    return GatewayAuthorizationServer(ctx)


def handle_token_request(ctx: OperationContext, request: ProtocolRequest) -> ProtocolResponse:
    response: ProtocolResponse = build_server(ctx).create_token_response(request)
    return response


def handle_introspection(ctx: OperationContext, request: ProtocolRequest) -> ProtocolResponse:
    response: ProtocolResponse = build_server(ctx).create_endpoint_response(
        TokenIntrospection.ENDPOINT_NAME, request
    )
    return response


def handle_revocation(ctx: OperationContext, request: ProtocolRequest) -> ProtocolResponse:
    response: ProtocolResponse = build_server(ctx).create_endpoint_response(
        TokenRevocation.ENDPOINT_NAME, request
    )
    return response
