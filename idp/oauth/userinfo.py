"""The userinfo endpoint (OIDC Core 5.3): claims of the granted scopes for a live access token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from idp import events
from idp.accounts import get_active_account, person_of
from idp.oauth.context import OperationContext
from idp.oauth.tokens import access_token_is_live, find_access_token
from idp.protocol.claims import ClaimsRequest, userinfo_claims


@dataclass(frozen=True)
class UserinfoAnswer:
    status: int
    body: dict[str, Any]
    www_authenticate: str | None = None


def _refuse(error: str | None, description: str, status: int = 401) -> UserinfoAnswer:
    if error is None:  # no token at all: no error code (RFC 6750 3.1)
        return UserinfoAnswer(status, {}, 'Bearer realm="userinfo"')
    header = f'Bearer error="{error}", error_description="{description}"'
    return UserinfoAnswer(status, {"error": error, "error_description": description}, header)


def answer_userinfo(ctx: OperationContext, access_token: str | None) -> UserinfoAnswer:
    if not access_token:
        return _refuse(None, "")
    row = find_access_token(ctx, access_token)
    if row is None or not access_token_is_live(row, now=ctx.now):
        return _refuse("invalid_token", "The access token is not valid.")
    account = get_active_account(ctx.session, row.account_id) if row.account_id else None
    # A disabled agency's tokens no longer bring it anyone's data.
    client = ctx.provider.clients.find(ctx.session, row.client_id, now=ctx.now)
    if account is None or client is None:
        return _refuse("invalid_token", "The access token is not valid.")
    scopes = row.scope.split()
    if "openid" not in scopes:
        return _refuse("insufficient_scope", "The token lacks the openid scope.", 403)
    claims = userinfo_claims(
        person_of(account),
        granted_scopes=scopes,
        claims_request=ClaimsRequest.from_json(row.claims_request),
    )
    ctx.record(
        events.userinfo_answered(
            client_id=row.client_id,
            subject=account.subject,
            claims_released=tuple(sorted(claims)),
            purpose=client.purpose,
        )
    )
    return UserinfoAnswer(200, claims)
