"""The one module that uses argon2: hashing and checking citizens' passwords (argon2id).

argon2-cffi's default profile (RFC 9106 low-memory: t=3, m=64 MiB, p=4) is above every row that
OWASP ASVS 5 appendix C approves. A check costs tens of milliseconds of CPU, so checks run on a
small dedicated pool of threads: a burst of sign-ins queues there, holding no request thread and
no database connection, and never takes every core.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Checked against when the account is unknown or has no password, so the response time does
    not tell whether a username exists (ASVS 6.3.8). Made on first use, not at import: operator
    commands never check a password; a serving process makes it when it starts (PasswordChecker),
    so not even the first unknown username takes longer."""
    return _hasher.hash("not a real password, only spends the same time")


MAX_PASSWORD_LENGTH = 1024  # characters; longer input is refused before hashing (ASVS 2.4.1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password: str, password_hash: str | None) -> bool:
    """True when `password` matches. Always spends one argon2 verification."""
    try:
        matches = _hasher.verify(password_hash or _dummy_hash(), password)
        return matches and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than the current ones."""
    return _hasher.check_needs_rehash(password_hash)


@dataclass(frozen=True)
class PasswordVerdict:
    matches: bool
    # A hash with today's parameters, when the stored one was made with weaker ones.
    upgraded_hash: str | None = None


def judge_password(password: str, password_hash: str | None) -> PasswordVerdict:
    if not check_password(password, password_hash):
        return PasswordVerdict(matches=False)
    assert password_hash is not None
    upgraded = hash_password(password) if needs_rehash(password_hash) else None
    return PasswordVerdict(matches=True, upgraded_hash=upgraded)


class PasswordChecker:
    """A bounded pool of threads for argon2 work (argon2 releases the GIL while it hashes)."""

    def __init__(self, workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        _dummy_hash()

    def submit(self, password: str, password_hash: str | None) -> Future[PasswordVerdict]:
        return self._pool.submit(judge_password, password, password_hash)

    def submit_hash(self, password: str) -> Future[str]:
        """A hash of a new password, made on the same pool as the checks."""
        return self._pool.submit(hash_password, password)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
