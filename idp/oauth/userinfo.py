"""The userinfo endpoint (OIDC Core 5.3): claims of the granted scopes for a live access token."""

from __future__ import annotations

from typing import Any

from idp import events
from idp.oauth.context import OperationContext
from idp.oauth.tokens import access_token_is_live, find_access_token
from idp.protocol.claims import ClaimsRequest, userinfo_claims
from idp.protocol.errors import (
    BEARER_TOKEN_MISSING,
    INSUFFICIENT_SCOPE,
    INVALID_TOKEN,
    ProtocolError,
)


def answer_userinfo(
    ctx: OperationContext, access_token: str | None
) -> dict[str, Any] | ProtocolError:
    """The claims, or the RFC 6750 3.1 refusal (no error code when no token was sent)."""
    if not access_token:
        return BEARER_TOKEN_MISSING
    row = find_access_token(ctx, access_token)
    if row is None or not access_token_is_live(row, now=ctx.now):
        return INVALID_TOKEN.because("no live token on record for this jti")
    holder = row.holder  # the active citizen, read with the token
    # A disabled agency's tokens no longer bring it anyone's data.
    client = ctx.registered_client(row.client_id)
    if holder is None or client is None:
        return INVALID_TOKEN.because("the account is inactive or the client disabled")
    scopes = row.scope.split()
    if "openid" not in scopes:
        return INSUFFICIENT_SCOPE
    claims = userinfo_claims(
        holder.person,
        granted_scopes=scopes,
        claims_request=ClaimsRequest.from_json(row.claims_request),
    )
    ctx.record(
        events.userinfo_answered(
            client_id=row.client_id,
            subject=holder.person.subject,
            claims_released=tuple(sorted(claims)),
            purpose=client.purpose,
        )
    )
    return claims
