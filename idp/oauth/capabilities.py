"""What the provider supports, read from the code that enforces it, for the discovery document.

Each value comes from the class or constant the endpoints check against, so the metadata cannot
promise what the code refuses, or hide what it accepts (OIDC Discovery 3, RFC 8414 2).
"""

from __future__ import annotations

from idp.clients import ID_TOKEN_ALGORITHMS
from idp.oauth.endpoints import TokenIntrospection, TokenRevocation
from idp.oauth.pkce import S256CodeChallenge
from idp.oauth.server import GRANTS, RESPONSE_TYPES
from idp.protocol.assurance import AcrVocabulary
from idp.protocol.authorization import PROMPT_VALUES, RESPONSE_MODES
from idp.protocol.discovery import ProviderCapabilities
from idp.sign_out.capabilities import FRONT_CHANNEL_LOGOUT_PARAMETERS, LOGOUT_TOKEN_CLAIMS


def _in_order(*method_lists: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(method for methods in method_lists for method in methods))


def provider_capabilities(acr_vocabulary: AcrVocabulary) -> ProviderCapabilities:
    """`acr_vocabulary`: the configured `acr` URI of each level (IDP_ACR_*), lowest first."""
    return ProviderCapabilities(
        response_types=RESPONSE_TYPES,
        response_modes=RESPONSE_MODES,
        grant_types=tuple(grant.GRANT_TYPE for grant in GRANTS),
        token_endpoint_auth_methods=_in_order(
            *(grant.TOKEN_ENDPOINT_AUTH_METHODS for grant in GRANTS)
        ),
        introspection_endpoint_auth_methods=_in_order(TokenIntrospection.CLIENT_AUTH_METHODS),
        revocation_endpoint_auth_methods=_in_order(TokenRevocation.CLIENT_AUTH_METHODS),
        code_challenge_methods=tuple(S256CodeChallenge.SUPPORTED_CODE_CHALLENGE_METHOD),
        id_token_signing_algs=ID_TOKEN_ALGORITHMS,
        prompt_values=PROMPT_VALUES,
        acr_values=acr_vocabulary.supported(),
        logout_token_claims=LOGOUT_TOKEN_CLAIMS,
        front_channel_logout_parameters=FRONT_CHANNEL_LOGOUT_PARAMETERS,
    )
