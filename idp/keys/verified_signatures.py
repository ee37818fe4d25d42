"""JWTs whose signature this process has already checked, remembered with the key that checked
them (ADR 0029).

A resource server introspects the same access token at every call it serves, and an agency may
read userinfo with it more than once; its signature is the same each time, and checking it was
a fifth of each request's CPU. What the signature proves about those exact bytes cannot change,
so the answer is kept, for as long as the key that gave it is still accepted. Only successes are
kept: a token that fails is checked again each time, so a flood of forgeries costs what it did.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable

from idp.keys.jose import SigningKey, VerifiedJwt, verify_jwt

# About 2 KB each (the claims and the key's reference): a few MB at most.
DEFAULT_CAPACITY = 4096


class VerifiedSignatures:
    """`verify_jwt`, remembering its successes.

    Entries are keyed by the token's SHA-256, so the process holds no bearer token it would not
    hold anyway. An entry counts only for the algorithms and `typ` it was checked for, and only
    while its key is one of the keys the caller accepts now: a key that is unpublished, or
    replaced by a reload of the keyring, makes its tokens checked again (and refused). The
    oldest entry goes when the memo is full."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._entries: dict[bytes, tuple[tuple[str, ...], str, VerifiedJwt]] = {}
        self._lock = threading.Lock()

    def verify(
        self, token: str, *, keys: Iterable[SigningKey], algorithms: Iterable[str], typ: str
    ) -> VerifiedJwt:
        """As `verify_jwt`, and raises InvalidJwt as it does. The answer's claims are a copy
        the caller may change."""
        accepted, wanted = list(keys), tuple(algorithms)
        fingerprint = hashlib.sha256(token.encode()).digest()
        entry = self._entries.get(fingerprint)
        if entry is not None and entry[:2] == (wanted, typ):
            remembered = entry[2]
            if any(key is remembered.key for key in accepted):
                return _copy(remembered)
        verified = verify_jwt(token, keys=accepted, algorithms=wanted, typ=typ)
        with self._lock:
            while len(self._entries) >= self.capacity:
                self._entries.pop(next(iter(self._entries)))
            self._entries[fingerprint] = (wanted, typ, verified)
        return _copy(verified)

    def __len__(self) -> int:
        return len(self._entries)


def _copy(verified: VerifiedJwt) -> VerifiedJwt:
    return VerifiedJwt(header=dict(verified.header), claims=dict(verified.claims), key=verified.key)
