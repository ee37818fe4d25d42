"""Token introspection (RFC 7662) and revocation (RFC 7009) on Authlib's endpoint classes."""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple, cast

from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from idp import events
from idp.accounts import get_active_account
from idp.oauth.adapters import OAuthClient, TokenView
from idp.oauth.context import OperationContext
from idp.oauth.tokens import (
    StoredAccessToken,
    find_access_token,
    find_refresh_token,
    revoke_access_token,
    revoke_grant,
)


def _ctx(endpoint: Any) -> OperationContext:
    return cast(OperationContext, endpoint.server.ctx)


def _query_token(ctx: OperationContext, token: str, hint: str | None) -> TokenView | None:
    """Find either kind; the hint only decides which is tried first (RFC 7009 2.1)."""
    if not token or len(token) > 16_384:
        return None
    order = (
        ["refresh_token", "access_token"]
        if hint == "refresh_token"
        else ["access_token", "refresh_token"]
    )
    for kind in order:
        row = (
            find_access_token(ctx, token)
            if kind == "access_token"
            else find_refresh_token(ctx, token)
        )
        if row is not None:
            return TokenView(row, now=ctx.now)
    return None


class _Holder(NamedTuple):
    subject: str
    username: str


def _holder(ctx: OperationContext, token: TokenView) -> _Holder | None:
    """The active citizen a token was issued for, or None."""
    row = token.row
    if isinstance(row, StoredAccessToken):  # its citizen was read with it
        holder = row.holder
        return _Holder(holder.person.subject, holder.username) if holder else None
    account = get_active_account(ctx.session, row.account_id) if row.account_id else None
    return _Holder(account.subject, account.username) if account else None


def _purpose_of(ctx: OperationContext, client_id: str) -> str | None:
    client = ctx.registered_client(client_id)
    return client.purpose if client else None


class TokenIntrospection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenView | None:
        return _query_token(_ctx(self), token_string, token_type_hint)

    def check_permission(self, token: TokenView, client: OAuthClient, request: Any) -> bool:
        # A client learns nothing about another client's tokens: they read as inactive.
        return token.check_client(client)

    def introspect_token(self, token: TokenView) -> dict[str, Any]:
        ctx = _ctx(self)
        row = token.row
        holder = _holder(ctx, token)
        if row.account_id and holder is None:
            return {"active": False}
        expires_at = token.expires_at()
        body: dict[str, Any] = {
            "active": True,
            "scope": row.scope,
            "client_id": row.client_id,
            "token_type": "Bearer" if token.kind == "access_token" else "refresh_token",
            "exp": int(expires_at.timestamp()) if expires_at else None,
            "iat": int(row.created_at.timestamp()),
            "sub": holder.subject if holder else row.client_id,
            "aud": row.client_id,
            "iss": ctx.settings.issuer,
        }
        if isinstance(row, StoredAccessToken):
            body["jti"] = row.jti
        if holder is not None:
            body["username"] = holder.username
        ctx.record(
            events.token_introspected(
                client_id=row.client_id,
                subject=holder.subject if holder else None,
                claims_released=tuple(k for k in ("sub", "username") if k in body),
                purpose=_purpose_of(ctx, row.client_id),
            )
        )
        return body


class TokenRevocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenView | None:
        return _query_token(_ctx(self), token_string, token_type_hint)

    def authenticate_token(self, request: Any, client: OAuthClient) -> TokenView | None:
        """Another client's token is left alone and the answer is still 200 (no oracle)."""
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        if token is None or not token.check_client(client):
            return None
        return token

    def revoke_token(self, token: TokenView, request: Any) -> None:
        ctx = _ctx(self)
        row = token.row
        if isinstance(row, StoredAccessToken):
            revoked = revoke_access_token(ctx, row)
        else:
            # The refresh token stands for the whole grant: every token of it goes (RFC 7009 2.1).
            revoked = revoke_grant(ctx, row.grant_id)
        ctx.record(
            events.token_revoked(
                client_id=row.client_id, token_type=token.kind, tokens_revoked=revoked
            )
        )
