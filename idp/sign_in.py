"""Password sign-in on the interaction page: check, start a fresh browser session, continue.

The slow part (argon2) runs between two short transactions, so waiting for it holds no database
connection and no request thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from idp.account_sign_in import agency_of, continue_after_sign_in
from idp.accounts import StoredPassword, accept_password_verdict, stored_password_for
from idp.models import Interaction
from idp.oauth.authorize import (
    PASSWORD_ACR,
    PASSWORD_AMR,
    BrowserState,
    Outcome,
)
from idp.oauth.context import OperationContext
from idp.passwords import MAX_PASSWORD_LENGTH, PasswordVerdict
from idp.sessions import end_sessions_of_cookie, start_browser_session
from idp.sign_in_throttle import blocked_until, note_failure, note_success


@dataclass(frozen=True)
class SignInFailed:
    """Deliberately says nothing about why: unknown name and wrong password look the same."""


@dataclass(frozen=True)
class SignInThrottled:
    """Too many recent failures for this username; says nothing about whether it exists."""


@dataclass(frozen=True)
class SignedIn:
    outcome: Outcome
    session_secret: str


def password_to_check(
    ctx: OperationContext, interaction: Interaction, *, username: str, password: str
) -> StoredPassword | SignInThrottled:
    """Step 1: what the password must be checked against (nothing for impossible input), or a
    refusal when this username must wait (no argon2 work is spent on it then)."""
    if username and blocked_until(ctx.session, username, now=ctx.now) is not None:
        ctx.record(
            "sign_in.throttled",
            actor_type="account",
            actor_id=None,
            client_id=agency_of(interaction),
            outcome="failure",
            detail={"method": "pwd"},
        )
        return SignInThrottled()
    if not username or not password or len(password) > MAX_PASSWORD_LENGTH:
        return StoredPassword(account_id=None, password_hash=None)
    return stored_password_for(ctx.session, username)


def complete_password_sign_in(
    ctx: OperationContext,
    interaction: Interaction,
    browser: BrowserState,
    *,
    username: str,
    stored: StoredPassword,
    verdict: PasswordVerdict,
) -> SignInFailed | SignedIn:
    """Step 3, after the check: start a new browser session and continue the request."""
    account = accept_password_verdict(ctx.session, stored, verdict, now=ctx.now)
    if account is None:
        if username:
            note_failure(
                ctx.session,
                username,
                now=ctx.now,
                free_attempts=ctx.settings.sign_in_free_attempts,
                max_delay=ctx.settings.sign_in_max_delay,
            )
        ctx.record(
            "sign_in.failed",
            actor_type="account",
            actor_id=None,
            client_id=agency_of(interaction),
            outcome="failure",
            detail={"reason": "bad_credentials", "method": "pwd"},
        )
        return SignInFailed()
    note_success(ctx.session, username)
    # A new identifier at every sign-in: a planted or old cookie never becomes authenticated.
    end_sessions_of_cookie(ctx.session, browser.session_secret, now=ctx.now)
    new = start_browser_session(
        ctx.session,
        account=account,
        acr=PASSWORD_ACR,
        amr=list(PASSWORD_AMR),
        now=ctx.now,
        lifetime=ctx.settings.session_lifetime,
    )
    interaction.authenticated_session_id = new.record.id
    ctx.record(
        "sign_in.succeeded",
        actor_type="account",
        actor_id=account.subject,
        subject=account.subject,
        client_id=agency_of(interaction),
        outcome="success",
        detail={"method": "pwd", "acr": PASSWORD_ACR},
    )
    browser.session_secret = new.cookie_secret
    return SignedIn(
        outcome=continue_after_sign_in(ctx, interaction, browser),
        session_secret=new.cookie_secret,
    )
