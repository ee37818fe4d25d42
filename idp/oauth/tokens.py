"""Issuing, finding and revoking tokens: RFC 9068 JWT access tokens and opaque rotating refresh
tokens (ID tokens: idp.oauth.id_tokens)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update

from idp.keys.jose import InvalidJwt, sign_jwt
from idp.models import Account, AuthorizationCode, IssuedToken
from idp.oauth.context import OperationContext
from idp.opaque_values import digest, new_opaque_value
from idp.protocol.claims import PERSON_FIELDS, ClaimsRequest, Person
from idp.storage.pending_inserts import insert_at_commit

# ES256 signs ten times faster than RS256; agencies verify either with the JWKS.
ACCESS_TOKEN_ALG = "ES256"  # noqa: S105  (an algorithm name)
# RFC 9068 2.1: an access token cannot be mistaken for an ID token (RFC 8725 3.11).
ACCESS_TOKEN_TYP = "at+jwt"  # noqa: S105  (a media type)


@dataclass(frozen=True)
class GrantFacts:
    """What every token of one authorization shares."""

    grant_id: str
    account: Account | None
    auth_time: datetime | None = None
    acr: str | None = None
    amr: tuple[str, ...] = ()
    sid: str | None = None
    nonce: str | None = None
    claims_request: ClaimsRequest | None = None
    grant_expires_at: datetime | None = None


_TOKENS = cast(Table, IssuedToken.__table__)
_ACCOUNTS = cast(Table, Account.__table__)


@dataclass(frozen=True)
class TokenHolder:
    """The active citizen an access token was issued for, read with the token."""

    account_id: int
    username: str
    person: Person


@dataclass(frozen=True)
class StoredAccessToken:
    """The stored record of a JWT access token we signed. Introspection, userinfo and the admin
    API only read it, so it is a plain record read with Core, not an ORM object (ADR 0025)."""

    id: int
    grant_id: str
    client_id: str
    scope: str
    jti: str
    expires_at: datetime
    revoked_at: datetime | None
    created_at: datetime
    claims_request: dict[str, Any] | None
    account_id: int | None
    # None for a client's own token (client credentials) and for a disabled account.
    holder: TokenHolder | None

    @classmethod
    def from_row(cls, row: Any) -> StoredAccessToken:  # a Row of _ACCESS_TOKEN_BY_JTI
        holder = None
        if row.account_id is not None and row.holder_username is not None:
            holder = TokenHolder(
                account_id=row.account_id,
                username=row.holder_username,
                person=Person.read_from(row, prefix="holder_"),
            )
        return cls(
            id=row.id,
            grant_id=row.grant_id,
            client_id=row.client_id,
            scope=row.scope,
            jti=row.access_token_jti,
            expires_at=row.access_token_expires_at,
            revoked_at=row.revoked_at,
            created_at=row.created_at,
            claims_request=row.claims_request,
            account_id=row.account_id,
            holder=holder,
        )


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def issue_token_response(
    ctx: OperationContext,
    *,
    client_id: str,
    scope: str,
    grant: GrantFacts,
    include_refresh_token: bool,
) -> dict[str, Any]:
    """Sign an access token, mint a refresh token, store both, and return the response body."""
    settings = ctx.settings
    now = ctx.now
    jti = new_opaque_value(18)
    access_expires_at = now + settings.access_token_lifetime
    subject = grant.account.subject if grant.account else client_id
    claims: dict[str, Any] = {
        "iss": settings.issuer,
        "sub": subject,
        "aud": client_id,
        "client_id": client_id,
        "scope": scope,
        "iat": epoch(now),
        "exp": epoch(access_expires_at),
        "jti": jti,
    }
    if grant.auth_time is not None:
        claims["auth_time"] = epoch(grant.auth_time)
    if grant.acr:
        claims["acr"] = grant.acr
    if grant.amr:
        claims["amr"] = list(grant.amr)
    access_token = sign_jwt(
        claims, key=ctx.provider.keyring.signing_key(ACCESS_TOKEN_ALG), typ=ACCESS_TOKEN_TYP
    )
    row: dict[str, Any] = {
        "grant_id": grant.grant_id,
        "client_id": client_id,
        "account_id": grant.account.id if grant.account else None,
        "scope": scope,
        "access_token_jti": jti,
        "access_token_expires_at": access_expires_at,
        "auth_time": grant.auth_time,
        "acr": grant.acr,
        "amr": list(grant.amr) or None,
        "sid": grant.sid,
        "claims_request": grant.claims_request.to_json() if grant.claims_request else None,
        "created_at": now,
    }
    response: dict[str, Any] = {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": int(settings.access_token_lifetime.total_seconds()),
        "scope": scope,
    }
    if include_refresh_token and grant.account is not None:
        refresh_token = new_opaque_value(32)
        grant_expires_at = grant.grant_expires_at or now + settings.refresh_token_lifetime
        row["refresh_token_digest"] = digest(refresh_token)
        row["grant_expires_at"] = grant_expires_at
        row["refresh_token_expires_at"] = min(
            now + settings.refresh_token_idle_lifetime, grant_expires_at
        )
        response["refresh_token"] = refresh_token
    # A plain INSERT at commit: the ORM's bookkeeping is a large share of a token's CPU cost,
    # nothing reads this row back in the same request, and it travels with the access log entry.
    insert_at_commit(ctx.session, _TOKENS, row)
    return response


def revoke_grant(ctx: OperationContext, grant_id: str) -> int:
    """Revoke every token of one authorization (a replayed code or refresh token, or a refresh
    token revoked at the revocation endpoint)."""
    result = ctx.session.execute(
        update(IssuedToken)
        .where(IssuedToken.grant_id == grant_id)
        .where(IssuedToken.revoked_at.is_(None))
        .values(revoked_at=ctx.now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def revoke_client_access(ctx: OperationContext, *, account_id: int, client_id: str) -> int:
    """Revoke every live token one client holds for one citizen, and expire the codes it has not
    exchanged yet (consent withdrawn). Returns the number of tokens revoked."""
    # Expired as of their creation, not as of now: a token request that began a moment before
    # this one has an earlier `now`, and must still find the code expired.
    ctx.session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.account_id == account_id, AuthorizationCode.client_id == client_id)
        .where(AuthorizationCode.consumed_at.is_(None), AuthorizationCode.expires_at > ctx.now)
        .values(expires_at=AuthorizationCode.created_at)
    )
    result = ctx.session.execute(
        update(IssuedToken)
        .where(IssuedToken.account_id == account_id, IssuedToken.client_id == client_id)
        .where(IssuedToken.revoked_at.is_(None))
        .values(revoked_at=ctx.now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# Built once: a statement made per call costs more to build and to key for the compiled-statement
# cache than the query costs to run (ADR 0021). The access token comes with its active citizen in
# one statement (one round trip on a server database, ADR 0023), as plain columns: the ORM's
# loading of two objects cost more than the query itself (ADR 0025).
_ACCESS_TOKEN_BY_JTI = (
    select(
        _TOKENS.c.id,
        _TOKENS.c.grant_id,
        _TOKENS.c.client_id,
        _TOKENS.c.scope,
        _TOKENS.c.access_token_jti,
        _TOKENS.c.access_token_expires_at,
        _TOKENS.c.revoked_at,
        _TOKENS.c.created_at,
        _TOKENS.c.claims_request,
        _TOKENS.c.account_id,
        *(_ACCOUNTS.c[name].label(f"holder_{name}") for name in ("username", *PERSON_FIELDS)),
    )
    .select_from(
        _TOKENS.outerjoin(
            _ACCOUNTS,
            (_ACCOUNTS.c.id == _TOKENS.c.account_id) & _ACCOUNTS.c.disabled_at.is_(None),
        )
    )
    .where(_TOKENS.c.access_token_jti == bindparam("jti"))
)
_REVOKE_ACCESS_TOKEN = (
    update(_TOKENS)
    .where(_TOKENS.c.id == bindparam("token_id"), _TOKENS.c.revoked_at.is_(None))
    .values(revoked_at=bindparam("now"))
)
_BY_REFRESH_DIGEST = select(IssuedToken).where(
    IssuedToken.refresh_token_digest == bindparam("refresh_digest")
)


def find_access_token(ctx: OperationContext, token: str) -> StoredAccessToken | None:
    """The stored record of a JWT access token we signed, or None (bad signature, other issuer,
    signed expiry passed, unknown jti, or an audience that is not the client the row names).
    Revocation and the row's own expiry are the caller's to judge."""
    claims = verified_access_token_claims(ctx, token)
    if claims is None:
        return None
    row = (
        ctx.session.connection()
        .execute(_ACCESS_TOKEN_BY_JTI, {"jti": str(claims.get("jti", ""))})
        .first()
    )
    if row is None or claims.get("aud") != row.client_id:
        return None
    return StoredAccessToken.from_row(row)


def revoke_access_token(ctx: OperationContext, token: StoredAccessToken) -> int:
    """Revoke one access token (RFC 7009); 1 if this call revoked it, 0 if it already was."""
    result = ctx.session.connection().execute(
        _REVOKE_ACCESS_TOKEN, {"token_id": token.id, "now": ctx.now}
    )
    return int(result.rowcount or 0)


def verified_access_token_claims(ctx: OperationContext, token: str) -> dict[str, Any] | None:
    """The claims of an access token we signed that is still valid by its own signed claims
    (RFC 9068 4: `iss` is ours, `exp` has not passed, `aud` is a single client), else None."""
    try:
        # A token checked before is not checked again while its key is accepted (ADR 0029).
        verified = ctx.provider.verified_signatures.verify(
            token,
            keys=ctx.provider.keyring.verification_keys(),
            algorithms=[ACCESS_TOKEN_ALG],
            typ=ACCESS_TOKEN_TYP,
        )
    except InvalidJwt:
        return None
    claims = verified.claims
    expires = claims.get("exp")
    if claims.get("iss") != ctx.settings.issuer:
        return None
    if not isinstance(expires, int) or isinstance(expires, bool) or expires <= epoch(ctx.now):
        return None
    if not isinstance(claims.get("aud"), str):
        return None
    return claims


def find_refresh_token(ctx: OperationContext, token: str) -> IssuedToken | None:
    if not token or len(token) > 128:
        return None
    return ctx.session.scalar(_BY_REFRESH_DIGEST, {"refresh_digest": digest(token)})


def access_token_is_live(token: StoredAccessToken, *, now: datetime) -> bool:
    return token.revoked_at is None and token.expires_at > now
