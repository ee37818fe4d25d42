"""What support does for one citizen: lock and unlock the account, give an activation code,
end the browser sessions, read the citizen's history in the access log. Framework-free: the admin
API and the console call the same functions, inside their unit of work.

Each does its change and records its event in the caller's transaction, naming the
administrator (`actor`, and `client_id` when they act through an API client), the citizen's
subject and the reason the administrator gave. A reason is required: it is what an auditor, and
for a look at their data the citizen, reads later. The refusals (`UnknownAccount`,
`ReasonRequired`, `AccountIsLocked`) are raised before anything is changed, so nothing is lost
when the caller's unit of work rolls back.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from idp import events
from idp.accounts import find_account_by_username
from idp.activation import IssuedActivationCode, issue_code, void_code
from idp.models import Account
from idp.oauth.context import OperationContext
from idp.sign_out.ending import EndedBy, EndReason, end_account_sessions
from transparency.search import EntryFilter, EntryPage, search_entries

MAX_REASON_LENGTH = 500
# What `normalized_reason` accepts, for the API's document: no control character but tab and
# line breaks, and something besides spacing.
_NOT_CONTROL = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
REASON_PATTERN = rf"^{_NOT_CONTROL}*[^\s\x00-\x1f\x7f-\x9f]{_NOT_CONTROL}*$"


class UnknownAccount(LookupError):
    """No account by this username."""


class ReasonRequired(ValueError):
    """The reason is empty once its spacing is taken away, too long, or holds control
    characters."""


class AccountIsLocked(ValueError):
    """An activation code is not given to a locked account: unlock it first."""


@dataclass(frozen=True)
class AccountStatus:
    username: str
    subject: str
    locked_at: datetime | None
    sessions_ended: int = 0  # by this operation


def normalized_reason(reason: str) -> str:
    """The reason with its spacing collapsed, or ReasonRequired."""
    if any(unicodedata.category(ch) == "Cc" and not ch.isspace() for ch in reason):
        raise ReasonRequired("the reason holds control characters")
    why = " ".join(reason.split())
    if not why:
        raise ReasonRequired("a reason is required")
    if len(why) > MAX_REASON_LENGTH:
        raise ReasonRequired(f"the reason is longer than {MAX_REASON_LENGTH} characters")
    return why


def _account(ctx: OperationContext, username: str) -> Account:
    # NUL cannot even be compared by PostgreSQL; no username holds it.
    if "\x00" in username or len(username) > 256:
        raise UnknownAccount(username)
    account = find_account_by_username(ctx.session, username)
    if account is None:
        raise UnknownAccount(username)
    return account


def _status(account: Account, sessions_ended: int = 0) -> AccountStatus:
    return AccountStatus(account.username, account.subject, account.disabled_at, sessions_ended)


def lock_account(
    ctx: OperationContext, *, actor: str, username: str, reason: str, client_id: str | None = None
) -> AccountStatus:
    """The account can no longer sign in; its browser sessions end and its activation code
    stops working. Locking a locked account changes nothing and logs nothing."""
    why = normalized_reason(reason)
    account = _account(ctx, username)
    if account.disabled_at is not None:
        return _status(account)
    account.disabled_at = ctx.now
    account.updated_at = ctx.now
    ended = end_account_sessions(
        ctx, account, reason=EndReason.SUPPORT, by=EndedBy("admin", actor, client_id)
    )
    void_code(ctx.session, account, now=ctx.now)
    ctx.record(
        events.account_locked(
            operator=actor,
            subject=account.subject,
            reason=why,
            sessions_ended=ended,
            client_id=client_id,
        )
    )
    return _status(account, ended)


def unlock_account(
    ctx: OperationContext, *, actor: str, username: str, reason: str, client_id: str | None = None
) -> AccountStatus:
    """The account can sign in again (with its old password). Unlocking an unlocked account
    changes nothing and logs nothing."""
    why = normalized_reason(reason)
    account = _account(ctx, username)
    if account.disabled_at is None:
        return _status(account)
    account.disabled_at = None
    account.updated_at = ctx.now
    ctx.record(
        events.account_unlocked(
            operator=actor, subject=account.subject, reason=why, client_id=client_id
        )
    )
    return _status(account)


def issue_activation_code(
    ctx: OperationContext, *, actor: str, username: str, reason: str, client_id: str | None = None
) -> IssuedActivationCode:
    """A new activation code, to be read to the citizen once; the old one stops working. It
    lasts IDP_ACTIVATION_CODE_LIFETIME."""
    why = normalized_reason(reason)
    account = _account(ctx, username)
    if account.disabled_at is not None:
        raise AccountIsLocked(username)
    issued = issue_code(
        ctx.session, account, now=ctx.now, lifetime=ctx.settings.activation_code_lifetime
    )
    ctx.record(
        events.activation_code_issued(
            operator=actor,
            subject=account.subject,
            reason=why,
            expires_at=issued.expires_at,
            client_id=client_id,
        )
    )
    return issued


def end_browser_sessions(
    ctx: OperationContext, *, actor: str, username: str, reason: str, client_id: str | None = None
) -> int:
    """Ends every live browser session of the account (the citizen signs in again anywhere);
    returns how many. Logged even when there were none: support did look."""
    why = normalized_reason(reason)
    account = _account(ctx, username)
    ended = end_account_sessions(
        ctx, account, reason=EndReason.SUPPORT, by=EndedBy("admin", actor, client_id)
    )
    ctx.record(
        events.browser_sessions_ended(
            operator=actor,
            subject=account.subject,
            reason=why,
            sessions_ended=ended,
            client_id=client_id,
        )
    )
    return ended


def access_history(
    ctx: OperationContext,
    *,
    actor: str,
    username: str,
    reason: str,
    limit: int = 50,
    before: int | None = None,
    client_id: str | None = None,
) -> EntryPage:
    """The citizen's entries in the access log, newest first, a keyset page at a time (give
    `next_before` as `before`). The look is itself logged, and the citizen sees it with the
    reason on their account page."""
    why = normalized_reason(reason)
    account = _account(ctx, username)
    page = search_entries(
        ctx.session, EntryFilter(subject=account.subject), before=before, limit=limit
    )
    ctx.record(
        events.account_history_read(
            operator=actor,
            subject=account.subject,
            reason=why,
            entries=len(page.entries),
            client_id=client_id,
        )
    )
    return page
