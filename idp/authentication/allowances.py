"""A browser's own sign-in allowance for an account: OWASP's device cookies.

A successful sign-in gives the browser a cookie with a random value bound to that account; only
its SHA-256 is stored (ADR 0003), so it cannot be forged or read from the database. Attempts for
that account from that browser are counted on the allowance's own counter
(`idp.authentication.throttle`), never on the username's, so an attacker elsewhere cannot keep the
citizen out of their usual browser; failures typed in that browser do use it up. Each success
replaces the value (a copied cookie stops working once the citizen signs in again) and renews
its lifetime.

One browser may be shared (a family computer): the cookie holds the values of the last few
accounts signed in there, separated by dots (base64url has none).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.orm import Session

from idp.accounts import normalize_username
from idp.models import Account, SignInAllowance
from idp.opaque_values import digest, new_opaque_value

ALLOWANCES_PER_BROWSER = 3
_SEPARATOR = "."
_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 random bytes, base64url without padding


def allowance_values(cookie: str | None) -> list[str]:
    """The well-formed values of a device cookie, at most ALLOWANCES_PER_BROWSER."""
    if not cookie or len(cookie) > 44 * ALLOWANCES_PER_BROWSER:
        return []
    values = [v for v in cookie.split(_SEPARATOR) if _VALUE.fullmatch(v)]
    return list(dict.fromkeys(values))[:ALLOWANCES_PER_BROWSER]


def find_allowance(
    session: Session, values: Sequence[str], username: str, *, now: datetime
) -> SignInAllowance | None:
    """The browser's live allowance for the account named `username`, locked until commit.

    The UPDATE both finds and holds it (PostgreSQL row lock, SQLite write lock), as in
    `idp.authentication.throttle._locked`; `updated_at` is when the browser last tried.
    """
    if not values or not username or len(username) > 256:
        return None
    account_id = (
        select(Account.id).where(Account.username == normalize_username(username)).scalar_subquery()
    )
    found = session.scalars(
        update(SignInAllowance)
        .where(
            SignInAllowance.token_digest.in_([digest(v) for v in values]),
            SignInAllowance.account_id == account_id,
            SignInAllowance.expires_at > now,
        )
        .values(updated_at=now)
        .returning(SignInAllowance.token_digest)
        .execution_options(synchronize_session=False)
    ).first()
    if found is None:
        return None
    return session.get(SignInAllowance, found, populate_existing=True)


def issue_allowance(
    session: Session,
    *,
    account: Account,
    presented: Sequence[str],
    now: datetime,
    lifetime: timedelta,
) -> str:
    """After a successful sign-in: a fresh allowance for `account` in this browser. Returns the
    new cookie value: the fresh one first, then the browser's live ones for other accounts."""
    digests = {digest(v): v for v in presented}
    others: set[str] = set()
    gone: ColumnElement[bool] = SignInAllowance.expires_at <= now  # expired ones are swept here
    if digests:  # a browser new to the gateway brings none: no query for them
        others = set(
            session.scalars(
                select(SignInAllowance.token_digest).where(
                    SignInAllowance.token_digest.in_(list(digests)),
                    SignInAllowance.account_id != account.id,
                    SignInAllowance.expires_at > now,
                )
            )
        )
        # The value this browser held for the account is replaced.
        gone = or_(SignInAllowance.token_digest.in_(list(digests)), gone)
    session.execute(delete(SignInAllowance).where(SignInAllowance.account_id == account.id, gone))
    value = new_opaque_value(32)
    session.add(
        SignInAllowance(
            token_digest=digest(value),
            account_id=account.id,
            failures=0,
            blocked_until=None,
            created_at=now,
            updated_at=now,
            expires_at=now + lifetime,
        )
    )
    kept = [v for d, v in digests.items() if d in others]
    return _SEPARATOR.join([value, *kept][:ALLOWANCES_PER_BROWSER])
