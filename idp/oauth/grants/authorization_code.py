"""The authorization code grant (RFC 6749 4.1, OIDC Core 3.1.3).

Codes are redeemed atomically (`UPDATE ... WHERE consumed_at IS NULL AND expires_at > now`): under
a race exactly one request wins, and a replayed code revokes every token issued from it
(RFC 6749 4.1.2, RFC 9700 4.2.4).
"""

from __future__ import annotations

from typing import Any, NoReturn, cast

from authlib.oauth2.rfc6749 import grants
from authlib.oidc.core import OpenIDCode
from authlib.oidc.core.grants.util import validate_nonce
from sqlalchemy import Table, bindparam, select, update

from idp import events
from idp.accounts import get_active_account
from idp.models import AuthorizationCode, BrowserSession
from idp.oauth.adapters import CodeView, OAuthClient
from idp.oauth.grants.issuing import (
    ALL_CLIENT_AUTH_METHODS,
    consent_covers,
    encode_id_token_of,
    grant_context,
    issue_tokens,
    refuse_replay,
)
from idp.oauth.tokens import GrantFacts
from idp.opaque_values import digest, new_opaque_value
from idp.protocol.claims import ClaimsRequest
from idp.sign_out.session_apps import remember_app

_CODES = cast(Table, AuthorizationCode.__table__)
# Built once, with bound values (ADR 0021). The claim is a plain table UPDATE: nothing in the
# session needs to learn of it, and the ORM's search of the session for rows to change cost
# more than the statement (ADR 0025).
_CODE_BY_DIGEST = select(AuthorizationCode).where(
    AuthorizationCode.code_digest == bindparam("code_digest")
)
_CLAIM_CODE = (
    update(_CODES)
    .where(
        _CODES.c.id == bindparam("code_id"),
        _CODES.c.consumed_at.is_(None),
        _CODES.c.expires_at > bindparam("now"),
    )
    .values(consumed_at=bindparam("now"))
)
_CODE_CONSUMED_AT = select(_CODES.c.consumed_at).where(_CODES.c.id == bindparam("code_id"))


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_CLIENT_AUTH_METHODS

    def generate_authorization_code(self) -> str:
        return new_opaque_value(32)

    def save_authorization_code(self, code: str, request: Any) -> None:
        ctx = grant_context(self)
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
                auth_time=request.assurance.auth_time,
                acr=request.assurance.acr,
                amr=list(request.assurance.amr),
                sid=browser_session.sid,
                claims_request=request.claims_request.to_json(),
                created_at=ctx.now,
                expires_at=ctx.now + ctx.settings.authorization_code_lifetime,
            )
        )
        remember_app(ctx, browser_session, request.client.get_client_id())
        ctx.record(
            events.authorization_code_issued(
                subject=request.user.subject,
                client_id=request.client.get_client_id(),
                purpose=request.client.row.purpose,
                scope=request.scope,
            )
        )

    def query_authorization_code(self, code: str, client: OAuthClient) -> CodeView | None:
        ctx = grant_context(self)
        if not code or len(code) > 128:
            return None
        row = ctx.session.scalar(_CODE_BY_DIGEST, {"code_digest": digest(code)})
        # Another client's code is refused without being consumed (it stays the owner's).
        if row is None or row.client_id != client.get_client_id():
            return None
        if row.consumed_at is not None:
            self._refuse_replayed_code(row)
        if row.expires_at <= ctx.now:
            return None
        if not consent_covers(ctx, row.account_id, row.client_id, row.scope):
            return None
        # Expiry is checked again in the claim itself: a withdrawal that expired this code while
        # the request was under way must win (the row lock makes the UPDATE see its commit).
        claimed = ctx.session.connection().execute(_CLAIM_CODE, {"code_id": row.id, "now": ctx.now})
        if claimed.rowcount != 1:
            consumed_at = ctx.session.scalar(_CODE_CONSUMED_AT, {"code_id": row.id})
            if consumed_at is None:
                return None  # expired meanwhile, not used
            self._refuse_replayed_code(row)
        return CodeView(row)

    def _refuse_replayed_code(self, row: AuthorizationCode) -> NoReturn:
        refuse_replay(
            grant_context(self),
            lambda revoked: events.authorization_code_replayed(
                client_id=row.client_id, tokens_revoked=revoked
            ),
            row.grant_id,
            "The authorization code was already used.",
        )

    def delete_authorization_code(self, authorization_code: CodeView) -> None:
        """Nothing to do: the code was consumed atomically when it was looked up."""

    def authenticate_user(self, authorization_code: CodeView) -> Any:
        return get_active_account(grant_context(self).session, authorization_code.row.account_id)

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
        return issue_tokens(self, "authorization_code", facts, scope, include_refresh_token)


class OpenIDConnectCode(OpenIDCode):  # type: ignore[misc]
    """ID tokens for the code grant. Prompt handling is ours (idp.protocol.authorization), so only
    the nonce check and the token hook are taken from Authlib."""

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        # Replay of a nonce is the relying party's to detect (OIDC Core 15.5.2).
        return False

    def encode_id_token(self, token: dict[str, Any], request: Any) -> str:
        return encode_id_token_of(request, token)

    def __call__(self, grant: Any) -> None:
        grant.register_hook("after_create_token_response", self.process_token)
        grant.register_hook(
            "after_validate_authorization_request_payload",
            lambda g, _uri: validate_nonce(g.request, self.exists_nonce, False),
        )
