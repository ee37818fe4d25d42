"""A signed-in citizen changes their password on the account page (/account/password).

The current password is the fresh authentication the change asks for (ASVS 5 6.2.3): a session
left open on a shared computer must not be enough to take the account. So it is checked as a
sign-in is: the attempt is reserved with the throttle (the browser's allowance, else the
username and the source address) before any argon2 work, and a wrong one is counted and logged
as a failed sign-in. This form is no faster way to guess a password than the sign-in page.

As at sign-in, the slow part (argon2: the current password checked, then the new one hashed)
runs between two short transactions and holds no database connection. The second replaces the
hash only if it is still the one checked (two changes at once: one wins), gives the attempt
back, renews the browser's allowance as a sign-in does, and ends every other browser session
of the account, with their tokens and their apps told (ASVS 5 7.4.3): whoever knew the old
password is signed out; this browser stays signed in.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update

from idp import events
from idp.accounts import StoredPassword
from idp.authentication.allowances import find_allowance, issue_allowance
from idp.authentication.passwords import MAX_PASSWORD_LENGTH, PasswordVerdict
from idp.authentication.throttle import (
    Claim,
    Refusal,
    Throttle,
    ThrottleRules,
    claim_attempt,
    release_claim,
)
from idp.interactions.browser import SignedIn
from idp.models import Account
from idp.oauth.context import OperationContext
from idp.sign_out.ending import EndedBy, EndReason, end_browser_session, live_sessions_of


@dataclass(frozen=True)
class ChangeThrottled:
    """Too many recent failures for the account (or from this browser or network)."""

    throttle: Throttle


@dataclass(frozen=True)
class CurrentPasswordCheck:
    """A reserved attempt: what the typed current password must be checked against."""

    stored: StoredPassword
    claim: Claim


@dataclass(frozen=True)
class CurrentPasswordWrong:
    """The current password did not match (or the password changed while it was checked)."""


@dataclass(frozen=True)
class PasswordChanged:
    sessions_ended: int  # the account's other browsers, signed out
    allowance_cookie: str  # the browser's renewed sign-in allowance


def current_password_to_check(
    ctx: OperationContext, citizen: SignedIn, *, current_password: str, allowances: list[str]
) -> CurrentPasswordCheck | ChangeThrottled:
    """Step 1: reserve the attempt, or refuse it (no argon2 work is spent on it then).
    `allowances` are the values of the browser's device cookie."""
    account = citizen.account
    allowance = find_allowance(ctx.session, allowances, account.username, now=ctx.now)
    decision = claim_attempt(
        ctx.session,
        username=account.username,
        source_address=ctx.source_address,
        allowance=allowance,
        now=ctx.now,
        rules=ThrottleRules.of(ctx.settings),
    )
    if isinstance(decision, Refusal):
        ctx.record(
            events.sign_in_throttled(
                subject=account.subject, client_id=None, method="pwd", throttle=decision.throttle
            )
        )
        return ChangeThrottled(decision.throttle)
    if decision.passed_username_wait:
        ctx.record(
            events.sign_in_device_allowance_used(
                subject=account.subject, client_id=None, method="pwd"
            )
        )
    # Input sign-in would refuse is checked against nothing: the same work, never a match.
    checkable = len(current_password) <= MAX_PASSWORD_LENGTH
    stored = StoredPassword(
        account_id=account.id, password_hash=account.password_hash if checkable else None
    )
    return CurrentPasswordCheck(stored=stored, claim=decision)


def complete_password_change(
    ctx: OperationContext,
    citizen: SignedIn,
    *,
    checked: CurrentPasswordCheck,
    verdict: PasswordVerdict,
    new_password_hash: str | None,
    allowances: list[str],
) -> PasswordChanged | CurrentPasswordWrong:
    """Step 3, after the check (and, when it matched, the new password's hash): the change, or
    the failure, which was counted when the attempt was reserved."""
    account = citizen.account
    if (
        not verdict.matches
        or new_password_hash is None
        or account.id != checked.stored.account_id
        or not _replace_hash(ctx, account, checked.stored.password_hash, new_password_hash)
    ):
        ctx.record(events.sign_in_failed(client_id=None, method="pwd", reason="bad_credentials"))
        return CurrentPasswordWrong()
    rules = ThrottleRules.of(ctx.settings)
    release_claim(ctx.session, checked.claim, now=ctx.now, rules=rules)
    allowance_cookie = issue_allowance(
        ctx.session,
        account=account,
        presented=allowances,
        now=ctx.now,
        lifetime=ctx.settings.sign_in_device_lifetime,
    )
    by = EndedBy("account", account.subject)
    ended = sum(
        1
        for record in live_sessions_of(ctx, account)
        if record.id != citizen.browser_session.id
        and end_browser_session(ctx, record, reason=EndReason.NEW_PASSWORD, by=by)
    )
    ctx.record(events.account_password_changed(subject=account.subject, sessions_ended=ended))
    return PasswordChanged(sessions_ended=ended, allowance_cookie=allowance_cookie)


def _replace_hash(ctx: OperationContext, account: Account, checked: str | None, new: str) -> bool:
    """The new hash, only over the one the current password was checked against: of two
    changes at once, or a change and an activation, one wins and the other is refused."""
    if checked is None:
        return False
    replaced = ctx.session.execute(
        update(Account)
        .where(Account.id == account.id, Account.password_hash == checked)
        .values(password_hash=new, updated_at=ctx.now)
        .execution_options(synchronize_session=False)
    )
    if replaced.rowcount != 1:  # type: ignore[attr-defined]
        return False
    account.password_hash, account.updated_at = new, ctx.now
    return True
