"""Password sign-in on the interaction page: check, start a fresh browser session, continue."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from idp.accounts import authenticate_with_password
from idp.models import Interaction
from idp.oauth.authorize import (
    PASSWORD_ACR,
    PASSWORD_AMR,
    BrowserState,
    Outcome,
    resume_authorization,
)
from idp.oauth.context import OperationContext
from idp.passwords import MAX_PASSWORD_LENGTH
from idp.sessions import end_sessions_of_cookie, start_browser_session


class PasswordCheckSlots:
    """Bounds how many argon2 checks run at once, so sign-in floods cannot take every core."""

    def __init__(self, slots: int) -> None:
        self._semaphore = threading.BoundedSemaphore(slots)

    def __enter__(self) -> None:
        self._semaphore.acquire()

    def __exit__(self, *_: object) -> None:
        self._semaphore.release()


@dataclass(frozen=True)
class SignInFailed:
    """Deliberately says nothing about why: unknown name and wrong password look the same."""


@dataclass(frozen=True)
class SignedIn:
    outcome: Outcome
    session_secret: str


def sign_in_with_password(
    ctx: OperationContext,
    interaction: Interaction,
    browser: BrowserState,
    *,
    username: str,
    password: str,
    slots: PasswordCheckSlots,
) -> SignInFailed | SignedIn:
    if not username or not password or len(password) > MAX_PASSWORD_LENGTH:
        account = None
    else:
        with slots:
            account = authenticate_with_password(ctx.session, username, password)
    if account is None:
        ctx.record(
            "sign_in.failed",
            actor_type="account",
            actor_id=None,
            client_id=interaction.client_id,
            outcome="failure",
            detail={"reason": "bad_credentials", "method": "pwd"},
        )
        return SignInFailed()
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
        client_id=interaction.client_id,
        outcome="success",
        detail={"method": "pwd", "acr": PASSWORD_ACR},
    )
    browser.session_secret = new.cookie_secret
    return SignedIn(
        outcome=resume_authorization(ctx, interaction, browser), session_secret=new.cookie_secret
    )
