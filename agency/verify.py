"""Verifying the gateway's ID tokens and RFC 9068 access tokens with PyJWT against its JWKS."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

import jwt
from jwt import PyJWK

ALLOWED_ALGORITHMS = ("RS256", "ES256")


class TokenRejected(Exception):
    """The token did not pass a check; the message says which."""


def _header(token: str) -> dict[str, Any]:
    try:
        header: dict[str, Any] = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise TokenRejected(f"malformed token: {error}") from error
    return header


def _key_for(token: str, jwks: Mapping[str, Any]) -> PyJWK:
    header = _header(token)
    if header.get("alg") not in ALLOWED_ALGORITHMS:
        raise TokenRejected(f"algorithm {header.get('alg')!r} not allowed")
    for key in jwks.get("keys", []):
        if key.get("kid") == header.get("kid"):
            if key.get("alg") != header["alg"]:
                raise TokenRejected("token algorithm does not match its key")
            return PyJWK(dict(key))
    raise TokenRejected("no key in the JWKS matches the token's kid")


def _decode(
    token: str,
    *,
    jwks: Mapping[str, Any],
    issuer: str,
    audience: str,
    leeway: int,
    required: list[str],
) -> tuple[dict[str, Any], str]:
    """The checks every token of the gateway's gets: signed by the JWKS key its `kid` names, in
    that key's algorithm; `iss`, `aud`, `exp` and `iat` (with `leeway` seconds), and the
    `required` claims present. The claims and the algorithm that signed them."""
    key = _key_for(token, jwks)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[key.algorithm_name],
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": required},
        )
    except jwt.PyJWTError as error:
        raise TokenRejected(str(error)) from error
    return claims, key.algorithm_name


def verify_id_token(
    token: str,
    *,
    jwks: Mapping[str, Any],
    issuer: str,
    client_id: str,
    nonce: str | None = None,
    access_token: str | None = None,
    leeway: int = 30,
) -> dict[str, Any]:
    """OIDC Core 3.1.3.7 checks: signature, iss, aud, exp, iat, nonce and at_hash."""
    required = ["iss", "sub", "aud", "exp", "iat"]
    claims, algorithm = _decode(
        token, jwks=jwks, issuer=issuer, audience=client_id, leeway=leeway, required=required
    )
    if (
        isinstance(claims["aud"], list)
        and len(claims["aud"]) > 1
        and claims.get("azp") != (client_id)
    ):
        raise TokenRejected("azp does not name this client")
    if nonce is not None and claims.get("nonce") != nonce:
        raise TokenRejected("nonce does not match")
    if (
        access_token is not None
        and "at_hash" in claims
        and claims["at_hash"] != left_half_hash(access_token, algorithm)
    ):
        raise TokenRejected("at_hash does not match the access token")
    return claims


def verify_access_token(
    token: str, *, jwks: Mapping[str, Any], issuer: str, audience: str, leeway: int = 30
) -> dict[str, Any]:
    """RFC 9068 section 4: typ at+jwt, signature, iss, aud, exp."""
    if str(_header(token).get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
        raise TokenRejected("not an access token (typ)")
    required = ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"]
    claims, _ = _decode(
        token, jwks=jwks, issuer=issuer, audience=audience, leeway=leeway, required=required
    )
    return claims


BACK_CHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def verify_logout_token(
    token: str,
    *,
    jwks: Mapping[str, Any],
    issuer: str,
    client_id: str,
    leeway: int = 30,
) -> dict[str, Any]:
    """Back-Channel Logout 1.0 section 2.6: typ logout+jwt, signature, iss, aud, iat, exp, a
    jti, the back-channel event, a sid or a sub, and no nonce. Telling a replayed jti from a new
    one is the app's own step: it keeps the jti values it has seen until their exp."""
    if str(_header(token).get("typ", "")).lower() not in ("logout+jwt", "application/logout+jwt"):
        raise TokenRejected("not a logout token (typ)")
    required = ["iss", "aud", "iat", "exp", "jti", "events"]
    claims, _ = _decode(
        token, jwks=jwks, issuer=issuer, audience=client_id, leeway=leeway, required=required
    )
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACK_CHANNEL_LOGOUT_EVENT), dict):
        raise TokenRejected("the back-channel logout event is missing")
    if "nonce" in claims:
        raise TokenRejected("a logout token must not carry a nonce")
    if not isinstance(claims.get("sid"), str) and not isinstance(claims.get("sub"), str):
        raise TokenRejected("neither sid nor sub")
    return claims


def left_half_hash(value: str, alg: str) -> str:
    """at_hash / c_hash (OIDC Core 3.1.3.6) for the SHA-256 algorithms we allow."""
    if alg not in ALLOWED_ALGORITHMS:
        raise TokenRejected(f"algorithm {alg!r} not allowed")
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")
