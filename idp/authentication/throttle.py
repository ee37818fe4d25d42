"""Slowing down password guessing (ASVS 6.3.1, NIST 800-63B 5.2.2) without locking anyone out.

Three counters decide whether an attempt may spend an argon2 check:

- per username (known or not, so the throttle tells nothing about which accounts exist): after
  a few consecutive failures each further attempt waits, the wait doubling up to a cap;
- per browser and account, for a browser that holds the account's allowance cookie
  (`idp.authentication.allowances`, OWASP's device cookies): the same rule on its own counter, so
  failures elsewhere, however many, never keep the citizen out of their usual browser;
- per source address (IPv6: its /64), for attempts without such an allowance: a bucket of
  attempts that refills steadily over a window, against spraying one password over many names.

The check runs between two short transactions, so the attempt is reserved in the first one,
under a lock on the counter's row, before any argon2 work: a burst of any size gets at most the
free attempts checked, and one with the right password inside is refused like the others once the
waits begin. A success clears the counter it went through (the username's; a browser's
allowance is replaced by a fresh one) and gives the source address its attempt back.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from idp.accounts import normalize_username
from idp.models import SignInAllowance, SignInSourceLimit, SignInThrottle
from idp.opaque_values import digest
from idp.settings import IdpSettings

Throttle = Literal["username", "device", "source_address"]
_Row = TypeVar("_Row", SignInThrottle, SignInAllowance, SignInSourceLimit)


@dataclass(frozen=True)
class ThrottleRules:
    free_attempts: int
    first_delay: timedelta
    max_delay: timedelta
    source_attempts: int
    source_window: timedelta

    @classmethod
    def of(cls, settings: IdpSettings) -> ThrottleRules:
        return cls(
            free_attempts=settings.sign_in_free_attempts,
            first_delay=settings.sign_in_first_delay,
            max_delay=settings.sign_in_max_delay,
            source_attempts=settings.sign_in_source_attempts,
            source_window=settings.sign_in_source_window,
        )

    def wait_after(self, failures: int) -> timedelta | None:
        """The wait after `failures` consecutive failures: none within the free attempts."""
        over = failures - self.free_attempts
        if over < 0:
            return None
        wait = self.first_delay
        for _ in range(over):  # ends within ~60 doublings: first_delay is positive
            if wait >= self.max_delay:
                break
            wait *= 2
        return min(wait, self.max_delay)

    @property
    def source_interval(self) -> timedelta:
        # Floor division: `source_attempts` intervals never add up to more than the window.
        return self.source_window // self.source_attempts


@dataclass(frozen=True)
class Claim:
    """What an attempt reserved before its password check; a success gives it back."""

    username_key: str | None = None
    source_key: str | None = None
    allowance_digest: str | None = None
    # The username is waiting, but this browser's own allowance let the attempt through.
    passed_username_wait: bool = False


@dataclass(frozen=True)
class Refusal:
    throttle: Throttle


def claim_attempt(
    session: Session,
    *,
    username: str,
    source_address: str | None,
    allowance: SignInAllowance | None,
    now: datetime,
    rules: ThrottleRules,
) -> Claim | Refusal:
    """Reserve one password check, or refuse it. `allowance` is the browser's allowance for
    this username, already locked (`idp.authentication.allowances.find_allowance`)."""
    if allowance is not None:
        if not _take_attempt(allowance, now=now, rules=rules):
            return Refusal("device")
        return Claim(
            allowance_digest=allowance.token_digest,
            passed_username_wait=bool(username) and _username_waits(session, username, now=now),
        )
    # Rows are always locked in this order (username, then source), so claims never deadlock.
    by_name = _locked_username_row(session, username, now=now) if username else None
    by_source = _locked_source_row(session, source_address, now=now) if source_address else None
    if by_name is not None and _is_waiting(by_name, now=now):
        return Refusal("username")
    if by_source is not None and not _source_has_room(by_source, now=now, rules=rules):
        return Refusal("source_address")
    if by_name is not None:
        _take_attempt(by_name, now=now, rules=rules)
    if by_source is not None:
        by_source.drained_at = max(by_source.drained_at, now) + rules.source_interval
    return Claim(
        username_key=by_name.username_digest if by_name else None,
        source_key=by_source.source_digest if by_source else None,
    )


def release_claim(session: Session, claim: Claim, *, now: datetime, rules: ThrottleRules) -> None:
    """After a successful sign-in: the username's failures are cleared and the source gets its
    attempt back. (The browser's allowance is renewed by `issue_allowance`.) A success through a
    browser's allowance leaves the username's count alone, so an attacker's guesses elsewhere do
    not start afresh whenever the citizen signs in."""
    if claim.username_key is not None:
        session.execute(
            delete(SignInThrottle).where(SignInThrottle.username_digest == claim.username_key)
        )
    if claim.source_key is not None:
        row = _locked(session, SignInSourceLimit, claim.source_key, now=now)
        if row is not None:
            row.drained_at = max(row.drained_at - rules.source_interval, now)


def _take_attempt(
    row: SignInThrottle | SignInAllowance, *, now: datetime, rules: ThrottleRules
) -> bool:
    """Count the attempt as a failure in advance (a success clears it), or refuse it."""
    if _is_waiting(row, now=now):
        return False
    row.failures += 1
    row.updated_at = now
    wait = rules.wait_after(row.failures)
    if wait is not None:
        row.blocked_until = now + wait
    return True


def _is_waiting(row: SignInThrottle | SignInAllowance, *, now: datetime) -> bool:
    return row.blocked_until is not None and row.blocked_until > now


def _source_has_room(row: SignInSourceLimit, *, now: datetime, rules: ThrottleRules) -> bool:
    # The generic cell rate algorithm: room while the bucket, after this attempt, still drains
    # within the window.
    return max(row.drained_at, now) + rules.source_interval - now <= rules.source_window


def _username_waits(session: Session, username: str, *, now: datetime) -> bool:
    until = session.scalar(
        select(SignInThrottle.blocked_until).where(
            SignInThrottle.username_digest == username_key(username)
        )
    )
    return until is not None and until > now


def username_key(username: str) -> str:
    return digest("sign-in:" + normalize_username(username[:256]))


def source_key(address: str) -> str:
    """IPv6 hands a /64 to one subscriber, so the /64 is the source; other text stays itself."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return digest("sign-in-source:" + address)
    if parsed.version == 6:
        return digest("sign-in-source:" + str(ipaddress.ip_network(f"{parsed}/64", strict=False)))
    return digest("sign-in-source:" + str(parsed))


def _locked_username_row(session: Session, username: str, *, now: datetime) -> SignInThrottle:
    key = username_key(username)
    _insert_missing(session, SignInThrottle, username_digest=key, failures=0, updated_at=now)
    row = _locked(session, SignInThrottle, key, now=now)
    assert row is not None
    return row


def _locked_source_row(session: Session, address: str, *, now: datetime) -> SignInSourceLimit:
    key = source_key(address)
    _insert_missing(session, SignInSourceLimit, source_digest=key, drained_at=now, updated_at=now)
    row = _locked(session, SignInSourceLimit, key, now=now)
    assert row is not None
    return row


def _insert_missing(session: Session, model: type[_Row], **values: object) -> None:
    """INSERT unless the row exists; two first attempts may race to create it, both succeed."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing())


def _locked(session: Session, model: type[_Row], key: str, *, now: datetime) -> _Row | None:
    """The row with primary key `key`, current and held until commit, or None.

    The UPDATE is what holds it, on both engines: PostgreSQL locks the row (a concurrent claim
    waits, then reads what this one wrote), and SQLite takes its single write lock (a plain
    SELECT there would let another process's claim slip in between the read and the write).
    """
    key_column = model.__mapper__.primary_key[0]
    session.execute(
        update(model)
        .where(key_column == key)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return session.get(model, key, populate_existing=True)
