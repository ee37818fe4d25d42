"""The back-channel logout token (OpenID Connect Back-Channel Logout 1.0, section 2.4)."""

from __future__ import annotations

from datetime import datetime, timedelta

from idp.keys.jose import sign_jwt
from idp.keys.keyring import Keyring

LOGOUT_TOKEN_TYP = "logout+jwt"  # noqa: S105  (a media type, section 2.4)
BACK_CHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# Long enough for a slow app to check it, short enough that a captured token is soon useless.
LOGOUT_TOKEN_LIFETIME = timedelta(minutes=2)


def sign_logout_token(
    keyring: Keyring,
    *,
    issuer: str,
    client_id: str,
    alg: str,
    subject: str,
    sid: str,
    jti: str,
    now: datetime,
) -> str:
    """Both `sub` and `sid`, so an app can end the one session or all of the citizen's. Never a
    `nonce` (section 2.4: it would let the token pass for an ID token)."""
    claims = {
        "iss": issuer,
        "aud": client_id,
        "iat": int(now.timestamp()),
        "exp": int((now + LOGOUT_TOKEN_LIFETIME).timestamp()),
        "jti": jti,
        "sub": subject,
        "sid": sid,
        "events": {BACK_CHANNEL_LOGOUT_EVENT: {}},
    }
    return sign_jwt(claims, key=keyring.signing_key(alg), typ=LOGOUT_TOKEN_TYP)
