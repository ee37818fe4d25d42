"""A citizen sets a new password with the activation code support gave them.

As at sign-in, the slow part (argon2, for the new password) runs between two short
transactions and holds no database connection. The first checks the code and counts a wrong one
against it (under the row's lock, so a burst of guesses is counted whole); only a right code goes
on to the hash. The second checks the code again under the lock, so of two redemptions at once
only one sets a password, then uses the code up, ends the account's browser sessions and logs it.

Every refusal reads the same, whether the username exists, the code was wrong, expired, used or
void: the page must not tell anyone which accounts exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from idp import events
from idp.accounts import find_account_by_username
from idp.activation import Verdict, count_failure, judge_code, locked_code_of
from idp.models import Account
from idp.oauth.context import OperationContext
from idp.sign_out.ending import EndedBy, EndReason, end_account_sessions


@dataclass(frozen=True)
class ActivationRefused:
    """Deliberately says nothing about why."""


@dataclass(frozen=True)
class CodeAccepted:
    """The code was right when checked; the new password may be hashed now."""

    account_id: int


@dataclass(frozen=True)
class Activated:
    username: str
    sessions_ended: int


def _account_for(ctx: OperationContext, username: str) -> Account | None:
    if len(username) > 256:
        return None
    account = find_account_by_username(ctx.session, username)
    # A locked account stays locked: support unlocks it first.
    return account if account is not None and account.disabled_at is None else None


def check_activation_code(
    ctx: OperationContext, *, username: str, code: str
) -> CodeAccepted | ActivationRefused:
    """Step 1: is it the account's live code? A wrong one is counted (and the last allowed
    voids the code) in this transaction, before anything slow."""
    account = _account_for(ctx, username)
    record = locked_code_of(ctx.session, account, now=ctx.now) if account else None
    verdict = (
        judge_code(record, subject=account.subject, typed=code, now=ctx.now)
        if account
        else Verdict.NOT_LIVE
    )
    if verdict is Verdict.REDEEMABLE and account is not None:
        return CodeAccepted(account.id)
    voided = record is not None and verdict is Verdict.WRONG and count_failure(record, now=ctx.now)
    ctx.record(
        events.activation_code_failed(
            subject=account.subject if account else None,
            reason="wrong_code" if verdict is Verdict.WRONG else "not_live",
            voided=voided,
        )
    )
    return ActivationRefused()


def complete_activation(
    ctx: OperationContext, *, accepted: CodeAccepted, code: str, password_hash: str
) -> Activated | ActivationRefused:
    """Step 3, with the new password's hash: the code checked again, then used up."""
    account = ctx.session.get(Account, accepted.account_id)
    if account is None or account.disabled_at is not None:
        return ActivationRefused()
    record = locked_code_of(ctx.session, account, now=ctx.now)
    verdict = judge_code(record, subject=account.subject, typed=code, now=ctx.now)
    if record is None or verdict is not Verdict.REDEEMABLE:
        return ActivationRefused()  # redeemed, replaced or voided meanwhile
    record.redeemed_at = ctx.now
    account.password_hash = password_hash
    account.updated_at = ctx.now
    # Whoever held a session on the old password is signed out.
    ended = end_account_sessions(
        ctx,
        account,
        reason=EndReason.NEW_PASSWORD,
        by=EndedBy("account", account.subject),
    )
    ctx.record(events.activation_code_redeemed(subject=account.subject, sessions_ended=ended))
    return Activated(username=account.username, sessions_ended=ended)
