"""The browser's cookies, and who is signed in there: the one door through which the pages of
idp and consent learn the signed-in citizen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from idp.accounts import get_active_account
from idp.interactions.sessions import find_browser_session
from idp.models import Account, BrowserSession
from idp.opaque_values import new_opaque_value

if TYPE_CHECKING:
    from idp.oauth.context import OperationContext


@dataclass
class BrowserState:
    """The browser's cookies; `new_binding` is set when a binding cookie must be created."""

    session_secret: str | None
    binding: str | None
    new_binding: str | None = None

    def ensure_binding(self) -> str:
        if self.binding is None:
            self.binding = self.new_binding = new_opaque_value(32)
        return self.binding


@dataclass(frozen=True)
class SignedIn:
    """A live browser session and its (active) account."""

    account: Account
    browser_session: BrowserSession


def signed_in(ctx: OperationContext, browser: BrowserState) -> SignedIn | None:
    """The citizen signed in on this browser, or None (no cookie, session ended, expired or
    idle too long, account disabled)."""
    record = find_browser_session(
        ctx.session,
        browser.session_secret,
        now=ctx.now,
        idle_lifetime=ctx.settings.session_idle_lifetime,
    )
    account = get_active_account(ctx.session, record.account_id) if record else None
    if record is None or account is None:
        return None
    return SignedIn(account=account, browser_session=record)


def signed_in_account(ctx: OperationContext, browser: BrowserState) -> Account | None:
    found = signed_in(ctx, browser)
    return found.account if found else None
