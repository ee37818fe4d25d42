"""OIDC ID tokens (OIDC Core 2, 3.1.3.6 and 12.2): their claims, their signature, and the names
of the citizen's claims each one releases, for the access log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.oidc.core.util import create_half_hash

from idp.clients import ID_TOKEN_ALGORITHMS
from idp.keys.jose import InvalidJwt, sign_jwt, verify_jwt
from idp.oauth.context import OperationContext
from idp.oauth.tokens import GrantFacts, epoch
from idp.protocol.claims import Person, release_claims


@dataclass(frozen=True)
class IdTokenHint:
    """What an ID token we issued says, once its signature and issuer are checked."""

    subject: str
    audiences: tuple[str, ...]
    sid: str | None


def verify_id_token_hint(ctx: OperationContext, hint: str) -> IdTokenHint | None:
    """An ID token we issued, sent back as a hint; it may have expired (OIDC Core 3.1.2.1,
    RP-Initiated Logout 1.0 section 2). None when it is not ours."""
    try:
        verified = verify_jwt(
            hint,
            keys=ctx.provider.keyring.verification_keys(),
            algorithms=list(ID_TOKEN_ALGORITHMS),
            typ="JWT",
        )
    except InvalidJwt:
        return None
    claims = verified.claims
    subject, audience, sid = claims.get("sub"), claims.get("aud"), claims.get("sid")
    if claims.get("iss") != ctx.settings.issuer or not isinstance(subject, str):
        return None
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        return None
    return IdTokenHint(
        subject=subject,
        audiences=tuple(audiences),
        sid=sid if isinstance(sid, str) else None,
    )


def encode_id_token(
    ctx: OperationContext,
    *,
    client_id: str,
    alg: str,
    scope: str,
    grant: GrantFacts,
    access_token: str | None,
) -> str:
    """OIDC Core 2 and 3.1.3.6. Scope claims go to userinfo; the ID token carries only those the
    `claims` parameter asked for in `id_token` (and that the citizen consented to)."""
    assert grant.account is not None
    now = ctx.now
    claims = _id_token_person_claims(grant, scope)
    claims.update(
        {
            "iss": ctx.settings.issuer,
            "sub": grant.account.subject,
            "aud": client_id,
            "iat": epoch(now),
            "exp": epoch(now + ctx.settings.id_token_lifetime),
        }
    )
    if grant.auth_time is not None:
        claims["auth_time"] = epoch(grant.auth_time)
    if grant.nonce:
        claims["nonce"] = grant.nonce
    if grant.acr:
        claims["acr"] = grant.acr
    if grant.amr:
        claims["amr"] = list(grant.amr)
    if grant.sid:
        claims["sid"] = grant.sid
    if access_token:
        claims["at_hash"] = create_half_hash(access_token, alg).decode("ascii")
    return sign_jwt(claims, key=ctx.provider.keyring.signing_key(alg), typ="JWT")


def _id_token_person_claims(grant: GrantFacts, scope: str) -> dict[str, Any]:
    assert grant.account is not None
    requested = grant.claims_request.id_token if grant.claims_request else {}
    released: dict[str, Any] = release_claims(
        Person.read_from(grant.account), granted_scopes=scope.split(), requested=requested
    )
    return released


def id_token_claims_released(grant: GrantFacts, scope: str) -> tuple[str, ...]:
    """The names of the citizen's claims an ID token for this grant carries, for the log."""
    if grant.account is None or "openid" not in scope.split():
        return ()
    person_claims = set(_id_token_person_claims(grant, scope)) - {"sub"}
    return ("sub", *sorted(person_claims))
