"""PKCE (RFC 7636) on Authlib's code challenge extension: S256 only, required where it must be.

The challenge is checked at the authorization endpoint here; the verifier at the token endpoint by
Authlib's `CodeChallenge.validate_code_verifier` against the challenge the code stored
(idp.oauth.grants.authorization_code saves it with the code). A verifier sent for a code without
a challenge is refused there too (PKCE downgrade, RFC 9700 4.8.2).
"""

from __future__ import annotations

from typing import Any, ClassVar

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge

from idp.oauth.adapters import OAuthClient


class S256CodeChallenge(CodeChallenge):  # type: ignore[misc]
    """PKCE with S256 only (`plain` refused, RFC 9700 2.1.1); required for public clients and for
    clients registered with require_pkce, honoured whenever a client sends it."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        challenge = data.get("code_challenge")
        client: OAuthClient = grant.request.client
        if not challenge and client.row.require_pkce:
            raise InvalidRequestError("PKCE is required: send 'code_challenge' (S256).")
        if challenge and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)
