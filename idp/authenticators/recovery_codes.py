"""Recovery codes: ten single-use codes the citizen keeps on paper for the day their
authenticator app is lost (NIST SP 800-63B 5.1.2, look-up secrets). Making them, their digests,
issuing a set and using one; storage functions never commit.

Each code is 12 characters from the activation codes' alphabet without look-alikes (no 0/O,
1/I/L, nor U: idp.activation), in groups of four: 30^12, about 2^59, far beyond guessing within
the wrong-code throttle (idp.authenticators.code_attempts). They are shown once, when issued;
the database keeps only their SHA-256 salted with the account's subject, which for random codes
of that size is as good as a slow hash. Issuing a set voids the one before.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from idp.activation import ALPHABET, GROUP
from idp.authenticators.models import RecoveryCode
from idp.models import Account
from idp.oauth.context import OperationContext
from idp.opaque_values import digest

CODES_PER_SET = 10
CODE_LENGTH = 12
_LONGEST_INPUT = 64


def new_recovery_code() -> str:
    """A fresh code, grouped for writing down: `ABCD-EFGH-JKMN`."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(chars[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


def normalize_recovery_code(typed: str) -> str | None:
    """The code as typed, without its spacing and in capitals; None when it cannot be one."""
    if len(typed) > _LONGEST_INPUT:
        return None
    compact = "".join(ch for ch in typed.upper() if ch not in " -\t")
    if len(compact) != CODE_LENGTH or any(ch not in ALPHABET for ch in compact):
        return None
    return compact


def recovery_code_digest(subject: str, code: str) -> str:
    return digest(f"recovery-code:{subject}:{normalize_recovery_code(code) or ''}")


@dataclass(frozen=True)
class IssuedRecoveryCodes:
    """The codes as the citizen sees them, once; `voided`: unused codes of the old set."""

    codes: tuple[str, ...]
    voided: int


def issue_recovery_codes(ctx: OperationContext, account: Account) -> IssuedRecoveryCodes:
    """A new set of codes for `account`; the old ones stop working."""
    voided = unused_recovery_codes(ctx.session, account)
    ctx.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    codes = tuple(new_recovery_code() for _ in range(CODES_PER_SET))
    ctx.session.add_all(
        RecoveryCode(
            account_id=account.id,
            code_digest=recovery_code_digest(account.subject, code),
            created_at=ctx.now,
        )
        for code in codes
    )
    ctx.session.flush()
    return IssuedRecoveryCodes(codes=codes, voided=voided)


def use_recovery_code(ctx: OperationContext, account: Account, typed: str) -> bool:
    """Whether `typed` is one of the account's unused codes; if so it is used up now. The
    UPDATE's WHERE clause is the check, so two posts of one code at once pass once."""
    if normalize_recovery_code(typed) is None:
        return False
    used = ctx.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.account_id == account.id,
            RecoveryCode.code_digest == recovery_code_digest(account.subject, typed),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=ctx.now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return bool(used == 1)


def unused_recovery_codes(session: Session, account: Account) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def void_recovery_codes(session: Session, account: Account) -> int:
    """Every code of the account stops working (its app was removed); the unused ones count."""
    unused = unused_recovery_codes(session, account)
    session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    return unused
