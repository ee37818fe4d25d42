"""High-entropy opaque values (codes, refresh tokens, secrets, session ids) and their digests.

Only SHA-256 digests are stored: a database dump gives no usable credential. The values carry 256
bits from the CSPRNG, so a fast digest is enough (no password hash needed).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_opaque_value(num_bytes: int = 32) -> str:
    """A URL-safe random string (base64url, no padding)."""
    return secrets.token_urlsafe(num_bytes)


def new_identifier(num_bytes: int = 16) -> str:
    """A random identifier that people pass around (a subject, a client id).

    It never begins with '-' or '_': operators paste these into command lines, where a leading
    '-' reads as an option. Redrawing costs 2 of 64 first characters, under 0.05 bits.
    """
    while True:
        value = secrets.token_urlsafe(num_bytes)
        if value[0] not in "-_":
            return value


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def matches_digest(value: str, expected_digest: str | None) -> bool:
    """Constant-time comparison of `value`'s digest with a stored one."""
    if expected_digest is None:
        return False
    return hmac.compare_digest(digest(value), expected_digest)


def same_value(submitted: str, expected: str) -> bool:
    """Constant-time equality of a submitted value (CSRF or form token) with the expected one.

    `hmac.compare_digest` refuses str with non-ASCII characters (TypeError), and a submitted
    form field may hold any character: compare the UTF-8 bytes instead.
    """
    return hmac.compare_digest(
        submitted.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )
