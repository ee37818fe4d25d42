"""Slowing down guessing of one-time codes (NIST SP 800-63B 5.2.2): six digits are a million
values, three of them right at any moment, so wrong codes are counted per account, across the
authenticator app and recovery codes alike, and after a few each further try waits.

The rules are the password throttle's (idp.authentication.throttle.ThrottleRules: the free
attempts, then a wait that doubles up to the longest), on a counter of the account's own: the
citizen is already signed in with their password, so whoever guesses is known. A try is counted
as wrong when it is claimed, under the row's lock, before the code is checked; a right code
clears the count. Functions never commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, update
from sqlalchemy.orm import Session

from idp.authentication.throttle import ThrottleRules
from idp.authenticators.models import OneTimeCodeThrottle
from idp.models import Account
from idp.storage.insert_once import insert_once


def claim_code_attempt(
    session: Session, account: Account, *, now: datetime, rules: ThrottleRules
) -> bool:
    """Reserve one check of a code, counted as wrong until `clear_code_attempts`; False when
    the account must wait (nothing is counted then)."""
    row = _locked_row(session, account, now=now)
    if row.blocked_until is not None and row.blocked_until > now:
        return False
    row.failures += 1
    wait = rules.wait_after(row.failures)
    if wait is not None:
        row.blocked_until = now + wait
    return True


def clear_code_attempts(session: Session, account: Account, *, now: datetime) -> None:
    """After a right code: the count starts again. The row stays (a try waiting for its lock
    finds it still there)."""
    session.execute(
        update(OneTimeCodeThrottle)
        .where(OneTimeCodeThrottle.account_id == account.id)
        .values(failures=0, blocked_until=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def _locked_row(session: Session, account: Account, *, now: datetime) -> OneTimeCodeThrottle:
    """The account's row, created if missing, held until commit: the UPDATE takes PostgreSQL's
    row lock and SQLite's write lock (as idp.authentication.throttle._locked), so two tries
    at once are both counted and a second waits for the first's code check."""
    insert_once(
        session,
        cast(Table, OneTimeCodeThrottle.__table__),
        {"account_id": account.id, "failures": 0, "updated_at": now},
        unique=["account_id"],
    )
    session.execute(
        update(OneTimeCodeThrottle)
        .where(OneTimeCodeThrottle.account_id == account.id)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    row = session.get(OneTimeCodeThrottle, account.id, populate_existing=True)
    assert row is not None
    return row
