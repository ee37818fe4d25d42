"""The OpenID Provider metadata document (OIDC Discovery 3, RFC 8414), built from settings and
from what the code supports (`idp.oauth.capabilities`): never from request headers, so a forged
Host cannot poison it (RFC 9700 4.13)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from idp.protocol.claims import SUPPORTED_CLAIMS, SUPPORTED_SCOPES
from idp.protocol.languages import SUPPORTED_LANGUAGES

# Claims of the ID token itself, beside the citizen's claims of the scopes (OIDC Core 2).
ID_TOKEN_CLAIMS = ("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid")


@dataclass(frozen=True)
class ProviderCapabilities:
    """What the endpoints accept, each read from the code that enforces it."""

    response_types: tuple[str, ...]
    response_modes: tuple[str, ...]
    grant_types: tuple[str, ...]
    token_endpoint_auth_methods: tuple[str, ...]
    introspection_endpoint_auth_methods: tuple[str, ...]
    revocation_endpoint_auth_methods: tuple[str, ...]
    code_challenge_methods: tuple[str, ...]
    id_token_signing_algs: tuple[str, ...]
    prompt_values: tuple[str, ...]
    acr_values: tuple[str, ...]
    logout_token_claims: tuple[str, ...]  # of every back-channel logout token
    front_channel_logout_parameters: tuple[str, ...]  # added to every front-channel logout URI


def provider_metadata(issuer: str, supported: ProviderCapabilities) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/jwks.json",
        "introspection_endpoint": f"{issuer}/introspect",
        "revocation_endpoint": f"{issuer}/revoke",
        "end_session_endpoint": f"{issuer}/logout",
        "scopes_supported": list(SUPPORTED_SCOPES),
        "response_types_supported": list(supported.response_types),
        "response_modes_supported": list(supported.response_modes),
        "grant_types_supported": list(supported.grant_types),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(supported.id_token_signing_algs),
        "token_endpoint_auth_methods_supported": list(supported.token_endpoint_auth_methods),
        "introspection_endpoint_auth_methods_supported": list(
            supported.introspection_endpoint_auth_methods
        ),
        "revocation_endpoint_auth_methods_supported": list(
            supported.revocation_endpoint_auth_methods
        ),
        "code_challenge_methods_supported": list(supported.code_challenge_methods),
        "claims_supported": [*ID_TOKEN_CLAIMS, *[c for c in SUPPORTED_CLAIMS if c != "sub"]],
        "claims_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "acr_values_supported": list(supported.acr_values),
        "prompt_values_supported": list(supported.prompt_values),
        # Every session's end reaches the apps that registered a logout URI (Back-Channel
        # Logout 1.0 section 2.1, Front-Channel Logout 1.0 section 3); with the session's `sid`
        # when the code sends it, so an app can end that session alone.
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": "sid" in supported.logout_token_claims,
        "frontchannel_logout_supported": True,
        "frontchannel_logout_session_supported": {"iss", "sid"}
        <= set(supported.front_channel_logout_parameters),
        # The languages of the citizen's pages (catalogues under idp/web/locale/); claims come
        # as registered, in one language.
        "ui_locales_supported": list(SUPPORTED_LANGUAGES),
        "claims_locales_supported": ["en"],
    }
