"""Citizen accounts: creation, lookup and password sign-in."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from idp.authentication import passwords
from idp.authentication.password_policy import password_problem
from idp.authentication.passwords import PasswordVerdict
from idp.models import Account
from idp.opaque_values import new_identifier


class InvalidAccountData(ValueError):
    """The account cannot be created as given; the message says why."""


def normalize_username(username: str) -> str:
    """One spelling per name: NFKC folds look-alike forms (ASVS 1.1.1), casefold folds case."""
    return unicodedata.normalize("NFKC", username).strip().casefold()


def _check_username(username: str) -> str:
    normalized = normalize_username(username)
    if not 3 <= len(normalized) <= 128:
        raise InvalidAccountData("username must be 3 to 128 characters")
    if any(unicodedata.category(ch)[0] in "CZ" and ch != " " for ch in normalized) or " " in (
        normalized
    ):
        raise InvalidAccountData("username must not contain spaces or control characters")
    return normalized


def check_new_password(password: str, *, username: str) -> None:
    """The password policy (idp.authentication.password_policy), in the operator's words."""
    problem = password_problem(password, username=username)
    if problem is not None:
        raise InvalidAccountData(problem.description)


def create_account(
    session: Session,
    *,
    username: str,
    password: str | None,
    given_name: str | None = None,
    family_name: str | None = None,
    email: str | None = None,
    birthdate: date | None = None,
    national_id: str | None = None,
    now: datetime,
) -> Account:
    normalized = _check_username(username)
    if session.scalar(select(Account.id).where(Account.username == normalized)) is not None:
        raise InvalidAccountData("an account with this username exists")
    if password is not None:
        check_new_password(password, username=normalized)
    account = Account(
        subject=new_identifier(),
        username=normalized,
        password_hash=passwords.hash_password(password) if password else None,
        given_name=given_name,
        family_name=family_name,
        email=email,
        email_verified=False,
        birthdate=birthdate,
        national_id=national_id,
        created_at=now,
        updated_at=now,
    )
    session.add(account)
    session.flush()
    return account


def find_account_by_username(session: Session, username: str) -> Account | None:
    return session.scalar(select(Account).where(Account.username == normalize_username(username)))


# Built once (ADR 0021): the token endpoint reads an account for each code or refresh token.
_BY_ID = select(Account).where(Account.id == bindparam("account_id"))


def get_active_account(session: Session, account_id: int) -> Account | None:
    # An account this unit of work already read is taken from the session, without a statement.
    known = session.identity_map.get(identity_key(Account, account_id))
    account = known if isinstance(known, Account) else None
    if account is None:
        account = session.scalar(_BY_ID, {"account_id": account_id})
    if account is None or account.disabled_at is not None:
        return None
    return account


def list_accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.id)))


def find_accounts(session: Session, text: str, *, limit: int = 50) -> list[Account]:
    """Support's search: a username that starts with `text`, a name that contains it (either
    case), or exactly this national identifier."""
    text = text.strip()
    if not text:
        return []
    literal = _like_literal(text)
    contains = f"%{literal.lower()}%"
    query = (
        select(Account)
        .where(
            Account.username.like(f"{literal}%", escape="\\")
            | func.lower(Account.given_name).like(contains, escape="\\")
            | func.lower(Account.family_name).like(contains, escape="\\")
            | (Account.national_id == text)
        )
        .order_by(Account.username)
        .limit(limit)
    )
    return list(session.scalars(query))


def _like_literal(text: str) -> str:
    """`text` with LIKE's wildcards escaped, so a search for "a_b" finds "a_b" only."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class StoredPassword:
    """What a password check needs, read before the (slow) check so no transaction waits on it."""

    account_id: int | None
    password_hash: str | None
    # Support locked the account: even the right password does not sign in.
    locked: bool = False


def stored_password_for(session: Session, username: str) -> StoredPassword:
    account = find_account_by_username(session, username) if len(username) <= 256 else None
    if account is None:
        return StoredPassword(account_id=None, password_hash=None)
    # A locked account's password is still checked: only who knows it learns of the lock.
    return StoredPassword(
        account_id=account.id,
        password_hash=account.password_hash,
        locked=account.disabled_at is not None,
    )


def accept_password_verdict(
    session: Session, stored: StoredPassword, verdict: PasswordVerdict, *, now: datetime
) -> Account | None:
    """The account when the password matched and it is still active; stores an upgraded hash."""
    if not verdict.matches or stored.account_id is None or stored.locked:
        return None
    account = get_active_account(session, stored.account_id)
    if account is None or account.password_hash != stored.password_hash:
        return None  # disabled or password changed while the check ran
    if verdict.upgraded_hash is not None:
        account.password_hash = verdict.upgraded_hash
        account.updated_at = now
    return account
