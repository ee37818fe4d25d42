"""The one module that uses argon2: hashing and checking citizens' passwords (argon2id).

The parameters are configuration (IDP_PASSWORD_HASH_*), set once per process when it starts
(`configure_password_hashing`), never below OWASP's minimum; the default is OWASP's first
profile, m=46 MiB, t=1, p=1 (ADR 0017: about 70 ms of CPU a check, some 15 sign-ins per second
per core, where argon2-cffi's own default costs three times as much). Checks run on a small
dedicated pool of threads: a burst of sign-ins queues there, holding no request thread and no
database connection, and never takes every core. A hash made with other parameters
still verifies (argon2 hashes carry their own) and is made again with these at the next sign-in.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher(time_cost=1, memory_cost=47104, parallelism=1)  # as IdpSettings

# OWASP's Password Storage Cheat Sheet: argon2id with at least 19 MiB and 2 passes, or more
# memory with fewer passes (47 MiB and 1), or less with more (7 MiB and 5): about the same work.
MINIMUM_MEMORY_KIB = 7 * 1024
MINIMUM_WORK_KIB = 19 * 1024 * 2  # memory times passes


def check_hash_parameters(*, memory_kib: int, iterations: int, parallelism: int) -> None:
    """ValueError when the parameters are below OWASP's minimum or out of range."""
    if memory_kib < MINIMUM_MEMORY_KIB or memory_kib * iterations < MINIMUM_WORK_KIB:
        raise ValueError(
            "argon2id needs at least 7 MiB, and memory times passes of at least 19 MiB x 2"
        )
    if not 1 <= parallelism <= 16 or not 1 <= iterations <= 20 or memory_kib > 4 * 1024 * 1024:
        raise ValueError("argon2id passes 1-20, lanes 1-16, memory at most 4 GiB")


def configure_password_hashing(*, memory_kib: int, iterations: int, parallelism: int) -> None:
    """Hash new passwords (and the stand-in for unknown names) with these parameters."""
    global _hasher  # noqa: PLW0603  (one hasher per process, set when it starts)
    check_hash_parameters(memory_kib=memory_kib, iterations=iterations, parallelism=parallelism)
    current = _hasher
    if (current.memory_cost, current.time_cost, current.parallelism) == (
        memory_kib,
        iterations,
        parallelism,
    ):
        return
    _hasher = PasswordHasher(time_cost=iterations, memory_cost=memory_kib, parallelism=parallelism)
    _dummy_hash.cache_clear()


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
