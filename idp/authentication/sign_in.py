"""Password sign-in on the interaction page: check, start a fresh browser session, continue.

The slow part (argon2) runs between two short transactions, so waiting for it holds no database
connection and no request thread. The first reserves the attempt with the throttle
(`idp.authentication.throttle`) or refuses it; the second gives the reservation back on success and
gives the browser its own allowance for the account (`idp.authentication.allowances`).
"""

from __future__ import annotations

from dataclasses import dataclass

from idp import events
from idp.accounts import StoredPassword, accept_password_verdict, stored_password_for
from idp.authentication.account_sign_in import agency_of, continue_after_sign_in
from idp.authentication.allowances import find_allowance, issue_allowance
from idp.authentication.assurance import begin_browser_session
from idp.authentication.passwords import MAX_PASSWORD_LENGTH, PasswordVerdict
from idp.authentication.throttle import (
    Claim,
    Refusal,
    Throttle,
    ThrottleRules,
    claim_attempt,
    release_claim,
)
from idp.interactions.browser import BrowserState
from idp.interactions.outcomes import Outcome
from idp.interactions.sessions import session_of_cookie
from idp.models import Account, Interaction
from idp.oauth.context import OperationContext
from idp.protocol.assurance import AuthenticationMethod, MethodUse
from idp.sign_out.ending import EndedBy, EndReason, end_browser_session


@dataclass(frozen=True)
class SignInFailed:
    """Deliberately says nothing about why: unknown name and wrong password look the same."""


@dataclass(frozen=True)
class SignInLocked:
    """The right password of an account support locked: the citizen is told to contact
    support. Only someone who knows the password learns that the account is locked."""


@dataclass(frozen=True)
class SignInThrottled:
    """Too many recent failures; says nothing about whether the username exists."""

    throttle: Throttle


@dataclass(frozen=True)
class SignedIn:
    outcome: Outcome
    session_secret: str
    allowance_cookie: str


@dataclass(frozen=True)
class PasswordCheck:
    """A reserved attempt: what the password must be checked against, and what was claimed."""

    stored: StoredPassword
    claim: Claim


def password_to_check(
    ctx: OperationContext,
    interaction: Interaction,
    *,
    username: str,
    password: str,
    allowances: list[str],
) -> PasswordCheck | SignInThrottled:
    """Step 1: reserve the attempt and say what the password must be checked against (nothing
    for impossible input), or refuse it (no argon2 work is spent on it then). `allowances` are
    the values of the browser's device cookie."""
    allowance = find_allowance(ctx.session, allowances, username, now=ctx.now)
    decision = claim_attempt(
        ctx.session,
        username=username,
        source_address=ctx.source_address,
        allowance=allowance,
        now=ctx.now,
        rules=ThrottleRules.of(ctx.settings),
    )
    # Only a browser that signed in to the account before names it in these entries.
    subject = _subject_of(ctx, allowance.account_id) if allowance else None
    if isinstance(decision, Refusal):
        ctx.record(
            events.sign_in_throttled(
                subject=subject,
                client_id=agency_of(interaction),
                method="pwd",
                throttle=decision.throttle,
            )
        )
        return SignInThrottled(decision.throttle)
    if decision.passed_username_wait:
        ctx.record(
            events.sign_in_device_allowance_used(
                subject=subject, client_id=agency_of(interaction), method="pwd"
            )
        )
    if not username or not password or len(password) > MAX_PASSWORD_LENGTH:
        return PasswordCheck(StoredPassword(account_id=None, password_hash=None), decision)
    return PasswordCheck(stored_password_for(ctx.session, username), decision)


def _subject_of(ctx: OperationContext, account_id: int) -> str | None:
    account = ctx.session.get(Account, account_id)
    return account.subject if account else None


def complete_password_sign_in(
    ctx: OperationContext,
    interaction: Interaction,
    browser: BrowserState,
    *,
    checked: PasswordCheck,
    verdict: PasswordVerdict,
    allowances: list[str],
    user_agent: str | None = None,
) -> SignInFailed | SignInLocked | SignedIn:
    """Step 3, after the check: start a new browser session and continue the request. A failure
    was already counted when the attempt was reserved (a locked account's too). `user_agent`:
    the browser's User-Agent header, which names the session in the citizen's list."""
    if verdict.matches and checked.stored.locked:
        ctx.record(
            events.sign_in_failed(
                client_id=agency_of(interaction), method="pwd", reason="account_locked"
            )
        )
        return SignInLocked()
    account = accept_password_verdict(ctx.session, checked.stored, verdict, now=ctx.now)
    if account is None:
        ctx.record(
            events.sign_in_failed(
                client_id=agency_of(interaction), method="pwd", reason="bad_credentials"
            )
        )
        return SignInFailed()
    release_claim(ctx.session, checked.claim, now=ctx.now, rules=ThrottleRules.of(ctx.settings))
    allowance_cookie = issue_allowance(
        ctx.session,
        account=account,
        presented=allowances,
        now=ctx.now,
        lifetime=ctx.settings.sign_in_device_lifetime,
    )
    # A new identifier at every sign-in: a planted or old cookie never becomes authenticated.
    earlier = session_of_cookie(ctx.session, browser.session_secret)
    if earlier is not None:
        end_browser_session(
            ctx, earlier, reason=EndReason.REPLACED, by=EndedBy("account", account.subject)
        )
    new = begin_browser_session(
        ctx, account, MethodUse.of(AuthenticationMethod.PASSWORD, ctx.now), user_agent=user_agent
    )
    interaction.authenticated_session_id = new.record.id
    ctx.record(
        events.sign_in_succeeded(
            subject=account.subject,
            client_id=agency_of(interaction),
            method="pwd",
            acr=new.record.acr,
        )
    )
    browser.session_secret = new.cookie_secret
    return SignedIn(
        outcome=continue_after_sign_in(ctx, interaction, browser),
        session_secret=new.cookie_secret,
        allowance_cookie=allowance_cookie,
    )
