"""The refresh token grant (RFC 6749 6, OIDC Core 12): rotation at every use and reuse detection.

Presenting a refresh token that was already rotated is a replay: the whole family (every token of
the grant) is revoked (RFC 9700 4.14.2).
"""

from __future__ import annotations

from typing import Any, NoReturn

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError
from authlib.oidc.core import OpenIDToken
from sqlalchemy import select, update

from idp import events
from idp.accounts import get_active_account
from idp.models import IssuedToken
from idp.oauth.adapters import TokenView
from idp.oauth.grants.issuing import (
    ALL_CLIENT_AUTH_METHODS,
    consent_covers,
    encode_id_token_of,
    grant_context,
    issue_tokens,
    refuse_replay,
)
from idp.oauth.tokens import GrantFacts, find_refresh_token
from idp.protocol.claims import ClaimsRequest


class RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Any:
        ctx = grant_context(self)
        row = find_refresh_token(ctx, refresh_token)
        client = self.request.client
        if row is None or row.client_id != client.get_client_id() or row.revoked_at is not None:
            return None
        if row.rotated_at is not None:
            self._refuse_replayed_refresh_token(row)
        expiry = row.refresh_token_expires_at
        if expiry is None or expiry <= ctx.now:
            return None
        if row.account_id is None or not consent_covers(
            ctx, row.account_id, row.client_id, row.scope
        ):
            return None
        return TokenView(row, now=ctx.now)

    def validate_token_request(self) -> None:
        """Authlib's checks (client, token, scope), then the atomic rotation: only a request that
        passed every check uses the token up, and of two racing requests exactly one wins."""
        super().validate_token_request()
        ctx = grant_context(self)
        row: IssuedToken = self.request.refresh_token.row
        rotated = ctx.session.execute(
            update(IssuedToken)
            .where(IssuedToken.id == row.id)
            .where(IssuedToken.rotated_at.is_(None))
            .where(IssuedToken.revoked_at.is_(None))
            .values(rotated_at=ctx.now)
        )
        if rotated.rowcount != 1:  # type: ignore[attr-defined]
            rotated_at = ctx.session.scalar(
                select(IssuedToken.rotated_at).where(IssuedToken.id == row.id)
            )
            if rotated_at is None:  # revoked meanwhile (a withdrawal or a revocation), not used
                raise InvalidGrantError("The refresh token is no longer valid.")
            self._refuse_replayed_refresh_token(row)

    def _refuse_replayed_refresh_token(self, row: IssuedToken) -> NoReturn:
        refuse_replay(
            grant_context(self),
            lambda revoked: events.refresh_token_replayed(
                client_id=row.client_id, tokens_revoked=revoked
            ),
            row.grant_id,
            "The refresh token was already used; the grant is revoked.",
        )

    def authenticate_user(self, refresh_token: Any) -> Any:
        account_id = refresh_token.row.account_id
        return get_active_account(grant_context(self).session, account_id) if account_id else None

    def revoke_old_credential(self, refresh_token: Any) -> None:
        """Nothing to do: the old token was marked rotated atomically when it was looked up."""

    def generate_token(
        self,
        user: Any = None,
        scope: Any = None,
        grant_type: Any = None,
        expires_in: Any = None,
        include_refresh_token: bool = True,
    ) -> Any:
        row: IssuedToken = self.request.refresh_token.row
        facts = GrantFacts(
            grant_id=row.grant_id,
            account=user,
            auth_time=row.auth_time,
            acr=row.acr,
            amr=tuple(row.amr or ()),
            sid=row.sid,
            claims_request=ClaimsRequest.from_json(row.claims_request),
            grant_expires_at=row.grant_expires_at,
        )
        return issue_tokens(self, "refresh_token", facts, scope, include_refresh_token=True)


class OpenIDConnectRefresh(OpenIDToken):  # type: ignore[misc]
    """A fresh ID token on refresh (OIDC Core 12.2): same sub and auth_time, no nonce."""

    def encode_id_token(self, token: dict[str, Any], request: Any) -> str:
        return encode_id_token_of(request, token)
