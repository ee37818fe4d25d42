"""The discovery document lists what the enforcing code accepts, read from that code."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import cast
from urllib.parse import parse_qsl, urlsplit

from idp.keys.jose import SigningKey, generate_signing_key
from idp.keys.keyring import Keyring
from idp.models import Client
from idp.oauth.capabilities import provider_capabilities
from idp.oauth.context import OperationContext
from idp.oauth.endpoints import TokenIntrospection, TokenRevocation
from idp.oauth.grants.authorization_code import AuthorizationCodeGrant
from idp.oauth.grants.client_credentials import ClientCredentialsGrant
from idp.oauth.grants.refresh_token import RefreshTokenGrant
from idp.protocol.assurance import EIDAS
from idp.protocol.authorization import (
    InvalidAuthorizationParameter,
    parse_prompt,
    parse_response_mode,
)
from idp.protocol.discovery import provider_metadata
from idp.sign_out.ending import _front_channel_uri  # what the signed-out page frames
from idp.sign_out.logout_tokens import sign_logout_token
from idp.web.sign_out_routes import END_SESSION_PATH

ISSUER = "https://gateway.example"


def test_the_document_promises_what_the_endpoints_enforce() -> None:
    meta = provider_metadata(ISSUER, provider_capabilities(EIDAS))
    assert meta["grant_types_supported"] == [
        "authorization_code",
        "refresh_token",
        "client_credentials",
    ]
    assert meta["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]
    assert meta["introspection_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
    ]
    assert meta["revocation_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]
    assert meta["response_types_supported"] == ["code"]
    assert meta["response_modes_supported"] == ["query", "form_post"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["id_token_signing_alg_values_supported"] == ["RS256", "ES256"]
    assert meta["prompt_values_supported"] == ["none", "login", "consent"]
    assert meta["acr_values_supported"] == [
        "http://eidas.europa.eu/LoA/low",
        "http://eidas.europa.eu/LoA/substantial",
        "http://eidas.europa.eu/LoA/high",
    ]
    assert meta["end_session_endpoint"] == f"{ISSUER}/logout" == ISSUER + END_SESSION_PATH
    assert meta["backchannel_logout_supported"] is True
    assert meta["backchannel_logout_session_supported"] is True
    assert meta["frontchannel_logout_supported"] is True
    assert meta["frontchannel_logout_session_supported"] is True


def test_every_advertised_value_is_accepted_and_nothing_else() -> None:
    meta = provider_metadata(ISSUER, provider_capabilities(EIDAS))
    for prompt in meta["prompt_values_supported"]:
        assert parse_prompt(prompt) == {prompt}
    for mode in meta["response_modes_supported"]:
        assert parse_response_mode(mode) == mode
    for refused in ("select_account", "create"):
        try:
            parse_prompt(refused)
        except InvalidAuthorizationParameter:
            continue
        raise AssertionError(f"prompt={refused} accepted but not advertised")
    token_methods = set(meta["token_endpoint_auth_methods_supported"])
    for grant in (AuthorizationCodeGrant, RefreshTokenGrant, ClientCredentialsGrant):
        assert set(grant.TOKEN_ENDPOINT_AUTH_METHODS) <= token_methods
    assert set(meta["introspection_endpoint_auth_methods_supported"]) == set(
        TokenIntrospection.CLIENT_AUTH_METHODS
    )
    assert set(meta["revocation_endpoint_auth_methods_supported"]) == set(
        TokenRevocation.CLIENT_AUTH_METHODS
    )


class _OneKey:
    def __init__(self) -> None:
        self.key = generate_signing_key(alg="ES256", kid="logout-test")

    def signing_key(self, alg: str) -> SigningKey:
        return self.key


def test_the_sessions_sid_reaches_apps_as_advertised() -> None:
    """Back-Channel Logout 1.0 section 2.1 and Front-Channel Logout 1.0 section 3: `sid` in
    every logout token, `iss` and `sid` on every front-channel logout URI."""
    supported = provider_capabilities(EIDAS)
    token = sign_logout_token(
        cast(Keyring, _OneKey()),
        issuer=ISSUER,
        client_id="tax-office",
        alg="ES256",
        subject="subject-1",
        sid="session-1",
        jti="jti-1",
        now=datetime(2026, 12, 1, tzinfo=UTC),
    )
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert set(claims) == set(supported.logout_token_claims)
    assert claims["sid"] == "session-1"

    ctx = cast(OperationContext, SimpleNamespace(settings=SimpleNamespace(issuer=ISSUER)))
    app = Client(frontchannel_logout_uri="https://tax.example/signed-out?tenant=7")
    framed = dict(parse_qsl(urlsplit(_front_channel_uri(ctx, app, "session-1")).query))
    assert framed == {"tenant": "7", "iss": ISSUER, "sid": "session-1"}
    assert set(framed) - {"tenant"} == set(supported.front_channel_logout_parameters)
