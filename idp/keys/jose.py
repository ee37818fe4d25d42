"""The one module that touches the JOSE library: key generation, JWT signing and verification.

Verification always takes an explicit key set and algorithm list chosen by the caller, never by the
token: `alg: none`, HMAC with a public key, embedded `jwk` and `jku`/`x5u` headers never select a
key (RFC 8725 sections 2.1, 3.1, 3.10).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jwk, jwt
from joserfc.errors import JoseError

SUPPORTED_ALGORITHMS = ("RS256", "ES256")
_KEY_TYPES = {"RS256": "RSA", "ES256": "EC"}
# Headers that would let a token name its own key; we never honour them, so reject outright.
_FORBIDDEN_HEADERS = frozenset({"jwk", "jku", "x5u", "x5c", "crit", "zip"})


class InvalidJwt(Exception):
    """The token is malformed, not signed by one of the given keys, or of the wrong type."""


@dataclass(frozen=True)
class SigningKey:
    """A parsed private key, kept as a key object so signing never re-parses PEM."""

    kid: str
    alg: str
    key: jwk.RSAKey | jwk.ECKey

    def public_jwk(self) -> dict[str, Any]:
        public = dict(self.key.as_dict(private=False))
        public.update({"kid": self.kid, "use": "sig", "alg": self.alg})
        return public

    def private_pem(self) -> bytes:
        return self.key.as_pem(private=True)


def generate_signing_key(*, alg: str, kid: str) -> SigningKey:
    params: Any = {"kid": kid, "use": "sig", "alg": alg}
    if alg == "RS256":
        # 2048 bits: the size RFC 7518 3.3 requires and NIST SP 800-57 accepts through 2030; a
        # 3072-bit key signs three times slower on every ID token.
        key = jwk.RSAKey.generate_key(2048, parameters=params, private=True)
        return SigningKey(kid, alg, key)
    if alg == "ES256":
        return SigningKey(
            kid, alg, jwk.ECKey.generate_key("P-256", parameters=params, private=True)
        )
    raise ValueError(f"unsupported signing algorithm {alg!r}")


def load_signing_key(*, pem: bytes, alg: str, kid: str) -> SigningKey:
    if alg not in _KEY_TYPES:
        raise ValueError(f"unsupported signing algorithm {alg!r}")
    params: Any = {"kid": kid, "use": "sig", "alg": alg}
    key = jwk.import_key(pem, _KEY_TYPES[alg], parameters=params)  # type: ignore[call-overload]
    if not isinstance(key, jwk.RSAKey | jwk.ECKey) or not key.is_private:
        raise ValueError(f"key {kid} is not a private {alg} key")
    return SigningKey(kid, alg, key)


def load_public_keys(jwks: Mapping[str, Any]) -> list[SigningKey]:
    """Verification keys from a published JWKS (an auditor checking signatures offline).
    Entries that are not RS256/ES256 signing keys, or carry private members, are skipped."""
    keys = []
    for entry in jwks.get("keys", []):
        if not isinstance(entry, dict) or entry.get("alg") not in _KEY_TYPES:
            continue
        if {"d", "p", "q", "k"} & entry.keys() or not isinstance(entry.get("kid"), str):
            continue
        try:
            key = jwk.import_key(dict(entry), _KEY_TYPES[entry["alg"]])  # type: ignore[call-overload]
        except (JoseError, ValueError, TypeError):
            continue
        keys.append(SigningKey(kid=entry["kid"], alg=entry["alg"], key=key))
    return keys


def sign_jwt(claims: Mapping[str, Any], *, key: SigningKey, typ: str = "JWT") -> str:
    header = {"alg": key.alg, "kid": key.kid, "typ": typ}
    return jwt.encode(header, dict(claims), key.key, algorithms=[key.alg])


@dataclass(frozen=True)
class VerifiedJwt:
    header: dict[str, Any]
    claims: dict[str, Any]
    key: SigningKey  # the one whose signature it carries


def verify_jwt(
    token: str,
    *,
    keys: Iterable[SigningKey],
    algorithms: Iterable[str],
    typ: str | None = None,
) -> VerifiedJwt:
    """Check the signature against `keys` (matched by `kid`) and the header `typ`.

    Claims (iss, aud, exp...) are the caller's business: what counts as valid differs between an
    access token at userinfo and an expired ID token used as a hint.
    """
    allowed = [alg for alg in algorithms if alg in SUPPORTED_ALGORITHMS]
    by_kid = {k.kid: k for k in keys if k.alg in allowed}
    if token.count(".") != 2 or len(token) > 16_384:
        raise InvalidJwt("not a compact JWS")
    header = _unverified_header(token)
    if _FORBIDDEN_HEADERS & header.keys():
        raise InvalidJwt("token names its own key or needs unsupported processing")
    if typ is not None and str(header.get("typ", "")).lower() != typ.lower():
        raise InvalidJwt("wrong token type")
    signing_key = by_kid.get(str(header.get("kid", "")))
    if signing_key is None or header.get("alg") != signing_key.alg:
        raise InvalidJwt("unknown key or algorithm")
    try:
        decoded = jwt.decode(token, signing_key.key, algorithms=[signing_key.alg])
    except (JoseError, ValueError, TypeError) as error:
        raise InvalidJwt("signature check failed") from error
    return VerifiedJwt(header=dict(decoded.header), claims=dict(decoded.claims), key=signing_key)


def _unverified_header(token: str) -> dict[str, Any]:
    segment = token.split(".", 1)[0]
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        header = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidJwt("malformed header") from error
    if not isinstance(header, dict):
        raise InvalidJwt("malformed header")
    return header
