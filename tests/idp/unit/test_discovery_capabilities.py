"""The discovery document lists what the enforcing code accepts, read from that code."""

from __future__ import annotations

from idp.oauth.capabilities import provider_capabilities
from idp.oauth.endpoints import TokenIntrospection, TokenRevocation
from idp.oauth.grants.authorization_code import AuthorizationCodeGrant
from idp.oauth.grants.client_credentials import ClientCredentialsGrant
from idp.oauth.grants.refresh_token import RefreshTokenGrant
from idp.protocol.authorization import (
    InvalidAuthorizationParameter,
    parse_prompt,
    parse_response_mode,
)
from idp.protocol.discovery import provider_metadata

ISSUER = "https://gateway.example"


def test_the_document_promises_what_the_endpoints_enforce() -> None:
    meta = provider_metadata(ISSUER, provider_capabilities())
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
    assert meta["acr_values_supported"] == ["http://eidas.europa.eu/LoA/low"]


def test_every_advertised_value_is_accepted_and_nothing_else() -> None:
    meta = provider_metadata(ISSUER, provider_capabilities())
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
