"""Slowing down password guessing per username (ASVS 6.3.1, NIST 800-63B 5.2.2).

After a few consecutive failures for one username, further attempts must wait, the wait doubling
each time up to a cap; a success clears it. Unknown usernames are throttled exactly like real
ones, so the throttle tells nothing about which accounts exist. Nothing is ever locked for good,
so an attacker cannot keep a citizen out for longer than the cap.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.accounts import normalize_username
from idp.models import SignInThrottle
from idp.opaque_values import digest


def _key(username: str) -> str:
    return digest("sign-in:" + normalize_username(username[:256]))


def blocked_until(session: Session, username: str, *, now: datetime) -> datetime | None:
    """When the next attempt for `username` may be made, if that is still in the future."""
    until = session.scalar(
        select(SignInThrottle.blocked_until).where(SignInThrottle.username_digest == _key(username))
    )
    return until if until is not None and until > now else None


def note_failure(
    session: Session, username: str, *, now: datetime, free_attempts: int, max_delay: timedelta
) -> None:
    key = _key(username)
    row = session.get(SignInThrottle, key, with_for_update=True)
    if row is None:
        try:
            # Two first failures may race to create the row: one wins, the other reads it.
            with session.begin_nested():
                session.add(SignInThrottle(username_digest=key, failures=0, updated_at=now))
        except IntegrityError:
            pass
        row = session.get(SignInThrottle, key, with_for_update=True, populate_existing=True)
        assert row is not None
    row.failures += 1
    row.updated_at = now
    over = row.failures - free_attempts + 1  # the attempt after the last free one waits
    if over > 0:
        row.blocked_until = now + min(timedelta(seconds=2 ** min(over - 1, 20)), max_delay)


def note_success(session: Session, username: str) -> None:
    session.execute(delete(SignInThrottle).where(SignInThrottle.username_digest == _key(username)))
