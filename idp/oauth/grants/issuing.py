"""What every grant shares: the request's operation context, issuing and logging a token response,
refusing a replayed one-time credential, and the consent re-check that withdrawal races against."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn, cast

from authlib.oauth2.rfc6749.errors import InvalidGrantError

from idp import events
from idp.oauth.adapters import OAuthClient
from idp.oauth.context import OperationContext
from idp.oauth.id_tokens import encode_id_token, id_token_claims_released
from idp.oauth.tokens import GrantFacts, issue_token_response, revoke_grant

ALL_CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


def grant_context(grant: Any) -> OperationContext:
    return cast(OperationContext, grant.server.ctx)


def refuse_replay(
    ctx: OperationContext,
    replayed: Callable[[int], events.Event],
    grant_id: str,
    message: str,
) -> NoReturn:
    """A one-time credential came back: revoke everything its grant issued, log it (`replayed`
    is given the number of tokens revoked), refuse."""
    ctx.record(replayed(revoke_grant(ctx, grant_id)))
    raise InvalidGrantError(message)


def consent_covers(ctx: OperationContext, account_id: int, client_id: str, scope: str) -> bool:
    """Whether the citizen's consent still covers `scope`, held until this transaction ends so
    that a withdrawal cannot commit between this check and the tokens issued after it."""
    granted = ctx.provider.consent.hold_granted_scopes(
        ctx.session, account_id=account_id, client_id=client_id
    )
    return set(scope.split()) <= granted


def issue_tokens(
    grant: Any, grant_type: str, facts: GrantFacts, scope: str, include_refresh_token: bool
) -> dict[str, Any]:
    """Issue the token response of any grant and log it in the same transaction."""
    grant.request.grant_facts = facts
    token = issue_token_response(
        grant_context(grant),
        client_id=grant.request.client.get_client_id(),
        scope=scope,
        grant=facts,
        include_refresh_token=include_refresh_token,
    )
    _record_tokens_issued(grant, grant_type, facts, scope, token)
    return token


def _record_tokens_issued(
    grant: Any, grant_type: str, facts: GrantFacts, scope: str, token: dict[str, Any]
) -> None:
    ctx = grant_context(grant)
    client: OAuthClient = grant.request.client
    client_id = client.get_client_id()
    subject = facts.account.subject if facts.account else None
    # An ID token goes out with the code and refresh grants (OpenIDConnectCode, ...Refresh).
    released = (
        id_token_claims_released(facts, scope)
        if grant_type in ("authorization_code", "refresh_token")
        else ()
    )
    refresh_token = "refresh_token" in token
    purpose = client.row.purpose
    ctx.record(
        events.token_refreshed(
            client_id=client_id,
            subject=subject,
            scope=scope,
            refresh_token=refresh_token,
            claims_released=released,
            purpose=purpose,
        )
        if grant_type == "refresh_token"
        else events.token_issued(
            client_id=client_id,
            subject=subject,
            grant_type=grant_type,
            scope=scope,
            refresh_token=refresh_token,
            claims_released=released,
            purpose=purpose,
        )
    )


def encode_id_token_of(request: Any, token: dict[str, Any]) -> str:
    client: OAuthClient = request.client
    ctx: OperationContext = request.operation_context
    return encode_id_token(
        ctx,
        client_id=client.get_client_id(),
        alg=client.row.id_token_signed_response_alg,
        scope=token["scope"],
        grant=request.grant_facts,
        access_token=token.get("access_token"),
    )
