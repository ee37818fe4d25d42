"""Activation codes: what support reads to a citizen over the telephone so they can set a new
password themselves (/account/activate). Making a code, its digest, and the rules of redeeming
one, with the storage they need (functions that never commit).

A code is 12 characters from an alphabet without look-alikes (no 0/O, 1/I/L, nor U), in groups
of four for reading aloud: 30^12, about 2^59. The database keeps only its SHA-256, salted with the
account's subject so one digest never serves for two accounts. Against guessing online, a code
takes at most `MAX_FAILURES` wrong tries and then is void; it expires after
IDP_ACTIVATION_CODE_LIFETIME, and redeeming it once uses it up.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum, auto

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from idp.models import Account, ActivationCode
from idp.opaque_values import digest, same_value

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
GROUP = 4
MAX_FAILURES = 5  # wrong tries per code; the next one finds it void
_LONGEST_INPUT = 64  # anything longer is not a code, whatever its spacing


@dataclass(frozen=True)
class IssuedActivationCode:
    """The code as support reads it out: shown once, never stored."""

    code: str
    expires_at: datetime


def new_activation_code() -> str:
    """A fresh code, grouped for reading aloud: `ABCD-EFGH-JKMN`."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(chars[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


def normalize_code(typed: str) -> str | None:
    """The code as typed, without its spacing and in capitals; None when it cannot be one."""
    if len(typed) > _LONGEST_INPUT:
        return None
    compact = "".join(ch for ch in typed.upper() if ch not in " -\t")
    if len(compact) != CODE_LENGTH or any(ch not in ALPHABET for ch in compact):
        return None
    return compact


def code_digest(subject: str, code: str) -> str:
    """`code` is normalized first, so the grouping never matters."""
    compact = normalize_code(code) or ""
    return digest(f"activation:{subject}:{compact}")


class Verdict(Enum):
    REDEEMABLE = auto()
    WRONG = auto()  # a try counted against the code
    NOT_LIVE = auto()  # expired, used, void, or there is none: nothing to count


def judge_code(
    record: ActivationCode | None, *, subject: str, typed: str, now: datetime
) -> Verdict:
    """The redemption rules, on their own: a live code, and the same one."""
    if record is None or record.redeemed_at is not None or record.voided_at is not None:
        return Verdict.NOT_LIVE
    if record.expires_at <= now or record.failures >= MAX_FAILURES:
        return Verdict.NOT_LIVE
    if not same_value(code_digest(subject, typed), record.code_digest):
        return Verdict.WRONG
    return Verdict.REDEEMABLE


def issue_code(
    session: Session, account: Account, *, now: datetime, lifetime: timedelta
) -> IssuedActivationCode:
    """A new code for `account`; the one it had before, used or not, stops working."""
    code = new_activation_code()
    session.execute(delete(ActivationCode).where(ActivationCode.account_id == account.id))
    session.add(
        ActivationCode(
            account_id=account.id,
            code_digest=code_digest(account.subject, code),
            created_at=now,
            expires_at=now + lifetime,
            failures=0,
            updated_at=now,
        )
    )
    session.flush()
    return IssuedActivationCode(code=code, expires_at=now + lifetime)


def locked_code_of(session: Session, account: Account, *, now: datetime) -> ActivationCode | None:
    """The account's code, current and held until commit, or None.

    As the sign-in throttle does (idp.authentication.throttle._locked): the UPDATE holds the row
    on both engines, so two wrong tries at once are both counted and two right ones at once
    redeem it once.
    """
    session.execute(
        update(ActivationCode)
        .where(ActivationCode.account_id == account.id)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return session.scalar(
        select(ActivationCode)
        .where(ActivationCode.account_id == account.id)
        .execution_options(populate_existing=True)
    )


def count_failure(record: ActivationCode, *, now: datetime) -> bool:
    """One wrong try; True when it was the last one the code allows (it is void now)."""
    record.failures += 1
    record.updated_at = now
    if record.failures >= MAX_FAILURES:
        record.voided_at = now
        return True
    return False


def void_code(session: Session, account: Account, *, now: datetime) -> bool:
    """Stop the account's live code, if any (the account was locked); True when there was one."""
    ended = session.execute(
        update(ActivationCode)
        .where(
            ActivationCode.account_id == account.id,
            ActivationCode.voided_at.is_(None),
            ActivationCode.redeemed_at.is_(None),
        )
        .values(voided_at=now, updated_at=now)
    )
    return bool(ended.rowcount)  # type: ignore[attr-defined]
