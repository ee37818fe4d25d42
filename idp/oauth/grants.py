"""Authlib's grants with our storage plugged into their hooks.

- Codes are redeemed atomically (`UPDATE ... WHERE consumed_at IS NULL`): under a race exactly one
  request wins; a replayed code revokes every token issued from it (RFC 6749 4.1.2, RFC 9700 4.2.4).
- Refresh tokens rotate at every use; presenting a rotated one revokes the family (RFC 9700 4.14.2).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, NoReturn, cast

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError
from authlib.oidc.core import OpenIDCode, OpenIDToken
from authlib.oidc.core.grants.util import validate_nonce
from sqlalchemy import select, update

from idp import events
from idp.accounts import get_active_account
from idp.models import AuthorizationCode, BrowserSession, IssuedToken
from idp.oauth.adapters import CodeView, OAuthClient, TokenView
from idp.oauth.context import OperationContext
from idp.oauth.id_tokens import encode_id_token, id_token_claims_released
from idp.oauth.tokens import (
    GrantFacts,
    find_refresh_token,
    issue_token_response,
    revoke_grant,
)
from idp.opaque_values import digest, new_opaque_value
from idp.protocol.claims import ClaimsRequest

ALL_CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


def _ctx(grant: Any) -> OperationContext:
    return cast(OperationContext, grant.server.ctx)


def _refuse_replay(
    ctx: OperationContext,
    replayed: Callable[[int], events.Event],
    grant_id: str,
    message: str,
) -> NoReturn:
    """A one-time credential came back: revoke everything its grant issued, log it (`replayed`
    is given the number of tokens revoked), refuse."""
    ctx.record(replayed(revoke_grant(ctx, grant_id)))
    raise InvalidGrantError(message)


def _consent_covers(ctx: OperationContext, account_id: int, client_id: str, scope: str) -> bool:
    """Whether the citizen's consent still covers `scope`, held until this transaction ends so
    that a withdrawal cannot commit between this check and the tokens issued after it."""
    granted = ctx.provider.consent.hold_granted_scopes(
        ctx.session, account_id=account_id, client_id=client_id
    )
    return set(scope.split()) <= granted


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_CLIENT_AUTH_METHODS

    def generate_authorization_code(self) -> str:
        return new_opaque_value(32)

    def save_authorization_code(self, code: str, request: Any) -> None:
        ctx = _ctx(self)
        browser_session: BrowserSession = request.browser_session
        data = request.payload.data
        ctx.session.add(
            AuthorizationCode(
                code_digest=digest(code),
                grant_id=new_opaque_value(16),
                client_id=request.client.get_client_id(),
                account_id=request.user.id,
                redirect_uri=data["redirect_uri"],
                scope=request.scope,
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                auth_time=browser_session.auth_time,
                acr=browser_session.acr,
                amr=browser_session.amr,
                sid=browser_session.sid,
                claims_request=request.claims_request.to_json(),
                created_at=ctx.now,
                expires_at=ctx.now + ctx.settings.authorization_code_lifetime,
            )
        )
        ctx.record(
            events.authorization_code_issued(
                subject=request.user.subject,
                client_id=request.client.get_client_id(),
                purpose=request.client.row.purpose,
                scope=request.scope,
            )
        )

    def query_authorization_code(self, code: str, client: OAuthClient) -> CodeView | None:
        ctx = _ctx(self)
        if not code or len(code) > 128:
            return None
        row = ctx.session.scalar(
            select(AuthorizationCode).where(AuthorizationCode.code_digest == digest(code))
        )
        # Another client's code is refused without being consumed (it stays the owner's).
        if row is None or row.client_id != client.get_client_id():
            return None
        if row.consumed_at is not None:
            self._refuse_replayed_code(row)
        if row.expires_at <= ctx.now:
            return None
        if not _consent_covers(ctx, row.account_id, row.client_id, row.scope):
            return None
        # Expiry is checked again in the claim itself: a withdrawal that expired this code while
        # the request was under way must win (the row lock makes the UPDATE see its commit).
        claimed = ctx.session.execute(
            update(AuthorizationCode)
            .where(AuthorizationCode.id == row.id)
            .where(AuthorizationCode.consumed_at.is_(None))
            .where(AuthorizationCode.expires_at > ctx.now)
            .values(consumed_at=ctx.now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            consumed_at = ctx.session.scalar(
                select(AuthorizationCode.consumed_at).where(AuthorizationCode.id == row.id)
            )
            if consumed_at is None:
                return None  # expired meanwhile, not used
            self._refuse_replayed_code(row)
        return CodeView(row)

    def _refuse_replayed_code(self, row: AuthorizationCode) -> NoReturn:
        _refuse_replay(
            _ctx(self),
            lambda revoked: events.authorization_code_replayed(
                client_id=row.client_id, tokens_revoked=revoked
            ),
            row.grant_id,
            "The authorization code was already used.",
        )

    def delete_authorization_code(self, authorization_code: CodeView) -> None:
        """Nothing to do: the code was consumed atomically when it was looked up."""

    def authenticate_user(self, authorization_code: CodeView) -> Any:
        return get_active_account(_ctx(self).session, authorization_code.row.account_id)

    def generate_token(
        self,
        user: Any = None,
        scope: Any = None,
        grant_type: Any = None,
        expires_in: Any = None,
        include_refresh_token: bool = True,
    ) -> Any:
        row = self.request.authorization_code.row
        facts = GrantFacts(
            grant_id=row.grant_id,
            account=user,
            auth_time=row.auth_time,
            acr=row.acr,
            amr=tuple(row.amr),
            sid=row.sid,
            nonce=row.nonce,
            claims_request=ClaimsRequest.from_json(row.claims_request),
        )
        return _issue(self, "authorization_code", facts, scope, include_refresh_token)


class RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Any:
        ctx = _ctx(self)
        row = find_refresh_token(ctx, refresh_token)
        client = self.request.client
        if row is None or row.client_id != client.get_client_id() or row.revoked_at is not None:
            return None
        if row.rotated_at is not None:
            self._refuse_replayed_refresh_token(row)
        expiry = row.refresh_token_expires_at
        if expiry is None or expiry <= ctx.now:
            return None
        if row.account_id is None or not _consent_covers(
            ctx, row.account_id, row.client_id, row.scope
        ):
            return None
        return TokenView(row, kind="refresh_token", now=ctx.now)

    def validate_token_request(self) -> None:
        """Authlib's checks (client, token, scope), then the atomic rotation: only a request that
        passed every check uses the token up, and of two racing requests exactly one wins."""
        super().validate_token_request()
        ctx = _ctx(self)
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
        _refuse_replay(
            _ctx(self),
            lambda revoked: events.refresh_token_replayed(
                client_id=row.client_id, tokens_revoked=revoked
            ),
            row.grant_id,
            "The refresh token was already used; the grant is revoked.",
        )

    def authenticate_user(self, refresh_token: Any) -> Any:
        account_id = refresh_token.row.account_id
        return get_active_account(_ctx(self).session, account_id) if account_id else None

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
        return _issue(self, "refresh_token", facts, scope, include_refresh_token=True)


class ClientCredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]

    def generate_token(
        self,
        user: Any = None,
        scope: Any = None,
        grant_type: Any = None,
        expires_in: Any = None,
        include_refresh_token: bool = True,
    ) -> Any:
        facts = GrantFacts(grant_id=new_opaque_value(16), account=None)
        return _issue(self, "client_credentials", facts, scope or "", include_refresh_token=False)


def _issue(
    grant: Any, grant_type: str, facts: GrantFacts, scope: str, include_refresh_token: bool
) -> dict[str, Any]:
    """Issue the token response of any grant and log it in the same transaction."""
    grant.request.grant_facts = facts
    token = issue_token_response(
        _ctx(grant),
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
    ctx = _ctx(grant)
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


class OpenIDConnectCode(OpenIDCode):  # type: ignore[misc]
    """ID tokens for the code grant. Prompt handling is ours (idp.protocol.authorization), so only
    the nonce check and the token hook are taken from Authlib."""

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        # Replay of a nonce is the relying party's to detect (OIDC Core 15.5.2).
        return False

    def encode_id_token(self, token: dict[str, Any], request: Any) -> str:
        return _encode_id_token(request, token)

    def __call__(self, grant: Any) -> None:
        grant.register_hook("after_create_token_response", self.process_token)
        grant.register_hook(
            "after_validate_authorization_request_payload",
            lambda g, _uri: validate_nonce(g.request, self.exists_nonce, False),
        )


class OpenIDConnectRefresh(OpenIDToken):  # type: ignore[misc]
    """A fresh ID token on refresh (OIDC Core 12.2): same sub and auth_time, no nonce."""

    def encode_id_token(self, token: dict[str, Any], request: Any) -> str:
        return _encode_id_token(request, token)


def _encode_id_token(request: Any, token: dict[str, Any]) -> str:
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
