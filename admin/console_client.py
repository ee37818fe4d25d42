"""The console as an OpenID Connect client of the gateway it administers: its registration, the
authorization request it sends administrators to, and the checks on the ID token it gets back.

Administrators sign in like citizens do, at the gateway's own authorization endpoint, so the
throttle, the sign-in page and (later) stronger authentication apply to them unchanged. The
console is a public client bound by PKCE S256 and one exact redirect URI: it runs inside the
gateway, where a secret shared with itself would add nothing. Sensitive pages send `max_age`,
and the ID token's `auth_time` says whether the gateway really asked again.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.clients import find_registration, register_client
from idp.keys.jose import InvalidJwt, SigningKey, verify_jwt
from idp.storage.database import Database

CONSOLE_CLIENT_ID = "admin-console"
CONSOLE_NAME = "Administrator console"
CONSOLE_PURPOSE = "Signs the gateway's administrators in to its console."
ID_TOKEN_LEEWAY = timedelta(seconds=30)


class InvalidConsoleSignIn(ValueError):
    """The gateway's answer to the console's sign-in cannot be trusted; the message says why."""


def redirect_uri_of(console_base: str) -> str:
    return f"{console_base}/signed-in"


def ensure_console_client(
    database: Database, *, issuer: str, console_base: str, minimum_level: str, now: datetime
) -> None:
    """Register the console with its redirect URI and minimum level of assurance, or bring the
    registration up to date (both are configuration). Nodes starting together may race: one
    wins."""
    redirect_uri = redirect_uri_of(console_base)
    try:
        with database.unit_of_work() as session:
            _ensure_registration(
                session,
                issuer=issuer,
                redirect_uri=redirect_uri,
                minimum_level=minimum_level,
                now=now,
            )
    except IntegrityError:
        pass  # another node registered it a moment ago


def _ensure_registration(
    session: Session, *, issuer: str, redirect_uri: str, minimum_level: str, now: datetime
) -> None:
    client = find_registration(session, CONSOLE_CLIENT_ID)
    if client is None:
        client = register_client(
            session,
            name=CONSOLE_NAME,
            purpose=CONSOLE_PURPOSE,
            redirect_uris=[redirect_uri],
            public=True,
            grant_types=["authorization_code"],
            scopes=["openid"],
            require_pkce=True,
            minimum_level=minimum_level,
            issuer=issuer,
            now=now,
        ).client
        client.client_id = CONSOLE_CLIENT_ID
    if client.redirect_uris != [redirect_uri]:
        client.redirect_uris = [redirect_uri]
    if client.minimum_level != minimum_level:
        client.minimum_level = minimum_level
    session.flush()


def code_challenge(code_verifier: str) -> str:
    """RFC 7636 4.2, S256."""
    hashed = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(hashed).rstrip(b"=").decode("ascii")


def authorization_url(
    issuer: str,
    *,
    console_base: str,
    state: str,
    nonce: str,
    code_verifier: str,
    max_age: timedelta | None,
) -> str:
    parameters = {
        "response_type": "code",
        "client_id": CONSOLE_CLIENT_ID,
        "redirect_uri": redirect_uri_of(console_base),
        "scope": "openid",
        "state": state,
        "nonce": nonce,
        "code_challenge": code_challenge(code_verifier),
        "code_challenge_method": "S256",
    }
    if max_age is not None:
        parameters["max_age"] = str(int(max_age.total_seconds()))
    return f"{issuer}/authorize?{urlencode(parameters)}"


def token_request_form(*, code: str, code_verifier: str, console_base: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri_of(console_base),
        "client_id": CONSOLE_CLIENT_ID,
        "code_verifier": code_verifier,
    }


@dataclass(frozen=True)
class ConsoleIdentity:
    subject: str
    auth_time: datetime


def check_id_token(
    id_token: str,
    *,
    keys: Iterable[SigningKey],
    issuer: str,
    nonce: str,
    max_age: timedelta | None,
    acceptable_acr: frozenset[str],
    now: datetime,
) -> ConsoleIdentity:
    """OIDC Core 3.1.3.7: signature, iss, aud, azp, exp, iat, nonce and auth_time; and an
    `acr` of the console's minimum level or higher (`acceptable_acr`), whatever the gateway's
    registration says."""
    try:
        claims = verify_jwt(id_token, keys=keys, algorithms=["RS256", "ES256"]).claims
    except InvalidJwt as error:
        raise InvalidConsoleSignIn(f"ID token: {error}") from error
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if claims.get("iss") != issuer or CONSOLE_CLIENT_ID not in audiences:
        raise InvalidConsoleSignIn("ID token for another issuer or client")
    if len(audiences) > 1 and claims.get("azp") != CONSOLE_CLIENT_ID:
        raise InvalidConsoleSignIn("ID token for several clients without this one as azp")
    if claims.get("nonce") != nonce:
        raise InvalidConsoleSignIn("ID token with another nonce (replayed?)")
    expires, issued, auth_time = (_epoch(claims, name) for name in ("exp", "iat", "auth_time"))
    if expires + ID_TOKEN_LEEWAY <= now or issued - ID_TOKEN_LEEWAY > now:
        raise InvalidConsoleSignIn("ID token outside its lifetime")
    if max_age is not None and now - auth_time > max_age + ID_TOKEN_LEEWAY:
        raise InvalidConsoleSignIn("the gateway did not ask for a fresh sign-in (max_age)")
    if claims.get("acr") not in acceptable_acr:
        raise InvalidConsoleSignIn("ID token below the console's level of assurance")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise InvalidConsoleSignIn("ID token without a subject")
    return ConsoleIdentity(subject=subject, auth_time=auth_time)


def _epoch(claims: dict[str, object], name: str) -> datetime:
    value = claims.get(name)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidConsoleSignIn(f"ID token without a numeric {name}")
    return datetime.fromtimestamp(value, UTC)
