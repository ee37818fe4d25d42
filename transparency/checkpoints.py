"""Signed checkpoints of the access log: a compact JWS over the tree's size and root hash, signed
with a key the gateway publishes in its JWKS, so anyone can check it."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from idp.keys.jose import InvalidJwt, SigningKey, sign_jwt, verify_jwt

CHECKPOINT_TYP = "checkpoint+jwt"
CHECKPOINT_ALG = "ES256"


class InvalidCheckpoint(Exception):
    """The checkpoint is not signed by the given keys or does not say what a checkpoint says."""


@dataclass(frozen=True)
class Checkpoint:
    issuer: str
    tree_size: int
    root_hash: str  # hex
    timestamp: int


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_checkpoint(
    *, key: SigningKey, issuer: str, tree_size: int, root_hash: str, now: datetime
) -> str:
    claims = {
        "iss": issuer,
        "tree_size": tree_size,
        "root_hash": b64url(bytes.fromhex(root_hash)),
        "timestamp": int(now.timestamp()),
        "iat": int(now.timestamp()),
    }
    return sign_jwt(claims, key=key, typ=CHECKPOINT_TYP)


def read_checkpoint(signed: str, *, keys: Iterable[SigningKey], issuer: str | None) -> Checkpoint:
    try:
        verified = verify_jwt(signed, keys=keys, algorithms=[CHECKPOINT_ALG], typ=CHECKPOINT_TYP)
    except InvalidJwt as error:
        raise InvalidCheckpoint(str(error)) from error
    claims = verified.claims
    try:
        checkpoint = Checkpoint(
            issuer=str(claims["iss"]),
            tree_size=int(claims["tree_size"]),
            root_hash=from_b64url(str(claims["root_hash"])).hex(),
            timestamp=int(claims["timestamp"]),
        )
    except (KeyError, ValueError, TypeError) as error:
        raise InvalidCheckpoint("checkpoint claims are malformed") from error
    if issuer is not None and checkpoint.issuer != issuer:
        raise InvalidCheckpoint("checkpoint names another issuer")
    if checkpoint.tree_size < 0 or len(checkpoint.root_hash) != 64:
        raise InvalidCheckpoint("checkpoint claims are malformed")
    return checkpoint
