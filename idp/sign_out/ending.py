"""Ending a browser session, with everything that follows from it, in the caller's transaction:
the session's tokens stop working, a logout token is owed to every app of the session that
registered a back-channel logout URI (the outbox, idp.sign_out.outbox), and the log says so.

Whatever ends a session comes through here (the citizen, an app's logout request, the account
page, support, a password reset, a new sign-in in the same browser, expiry), so no path can end
one and forget to tell its apps.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlencode

from sqlalchemy import select, update

from idp import events
from idp.events import ActorType
from idp.models import Account, BrowserSession, Client, IssuedToken
from idp.oauth.context import OperationContext
from idp.opaque_values import new_opaque_value
from idp.sign_out.models import LogoutDelivery, SessionApp

# An app given offline access keeps its refresh token when the citizen signs out: that is what
# the citizen agreed to (OpenID Connect Core 11).
OFFLINE_ACCESS = "offline_access"


class EndReason(StrEnum):
    SIGNED_OUT = "signed_out"  # the citizen, on the gateway's pages
    APP_SIGNED_OUT = "app_signed_out"  # an app's logout request with a valid ID token hint
    ENDED_FROM_ANOTHER_BROWSER = "ended_from_account_page"
    EXPIRED = "expired"  # its absolute lifetime
    IDLE = "idle"  # unused longer than the idle lifetime
    REPLACED = "replaced"  # a new sign-in in the same browser
    NEW_PASSWORD = "new_password"  # noqa: S105  (set with an activation code or on /account)
    SUPPORT = "support"  # support ended it, or locked the account


@dataclass(frozen=True)
class EndedBy:
    """Who ended the session, as the access log names actors."""

    actor_type: ActorType
    actor_id: str | None
    client_id: str | None = None


@dataclass(frozen=True)
class FrontChannelApp:
    name: str
    uri: str  # the registered URI with iss and sid added


@dataclass(frozen=True)
class EndedSession:
    sid: str
    apps: tuple[str, ...]
    front_channel: tuple[FrontChannelApp, ...]


def end_browser_session(
    ctx: OperationContext, record: BrowserSession, *, reason: EndReason, by: EndedBy
) -> EndedSession | None:
    """End the session once: of two requests ending it at once, one does the rest and the other
    gets None (it had ended already)."""
    claimed = ctx.session.execute(
        update(BrowserSession)
        .where(BrowserSession.id == record.id, BrowserSession.ended_at.is_(None))
        .values(ended_at=ctx.now, ended_reason=reason.value)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    record.ended_at, record.ended_reason = ctx.now, reason.value
    account = ctx.session.get(Account, record.account_id)
    apps = _apps_of(ctx, record)
    _end_tokens(ctx, record.sid)
    back_channel = [app for app in apps if app.backchannel_logout_uri and app.disabled_at is None]
    for app in back_channel:
        ctx.session.add(
            LogoutDelivery(
                jti=new_opaque_value(18),
                client_id=app.client_id,
                subject=account.subject if account else "",
                sid=record.sid,
                uri=app.backchannel_logout_uri,
                state="pending",
                attempts=0,
                created_at=ctx.now,
                next_attempt_at=ctx.now,
            )
        )
    ctx.record(
        events.browser_session_ended(
            actor_type=by.actor_type,
            actor_id=by.actor_id,
            client_id=by.client_id,
            subject=account.subject if account else "",
            sid=record.sid,
            reason=reason.value,
            apps=[app.client_id for app in apps],
            told_by_back_channel=[app.client_id for app in back_channel],
        )
    )
    return EndedSession(
        sid=record.sid,
        apps=tuple(app.client_id for app in apps),
        front_channel=tuple(
            FrontChannelApp(name=app.name, uri=_front_channel_uri(ctx, app, record.sid))
            for app in apps
            if app.frontchannel_logout_uri and app.disabled_at is None
        ),
    )


def end_account_sessions(
    ctx: OperationContext, account: Account, *, reason: EndReason, by: EndedBy
) -> int:
    """End every live browser session of the account; returns how many this call ended."""
    records = live_sessions_of(ctx, account)
    return sum(1 for record in records if end_browser_session(ctx, record, reason=reason, by=by))


def live_sessions_of(ctx: OperationContext, account: Account) -> list[BrowserSession]:
    return list(
        ctx.session.scalars(
            select(BrowserSession)
            .where(BrowserSession.account_id == account.id)
            .where(BrowserSession.ended_at.is_(None), BrowserSession.expires_at > ctx.now)
            .order_by(BrowserSession.last_seen_at.desc())
        )
    )


def _apps_of(ctx: OperationContext, record: BrowserSession) -> list[Client]:
    client_ids = ctx.session.scalars(
        select(SessionApp.client_id)
        .where(SessionApp.browser_session_id == record.id)
        .order_by(SessionApp.first_used_at, SessionApp.id)
    ).all()
    if not client_ids:
        return []
    by_id = {
        client.client_id: client
        for client in ctx.session.scalars(select(Client).where(Client.client_id.in_(client_ids)))
    }
    return [by_id[client_id] for client_id in client_ids if client_id in by_id]


def _end_tokens(ctx: OperationContext, sid: str) -> None:
    """Refresh tokens of the session are revoked, unless granted offline access; every access
    token of the session stops working now (introspection and userinfo read its row)."""
    rows = ctx.session.execute(
        select(IssuedToken.id, IssuedToken.scope)
        .where(IssuedToken.sid == sid)
        .where(IssuedToken.revoked_at.is_(None))
    ).all()
    online = [row.id for row in rows if OFFLINE_ACCESS not in row.scope.split()]
    offline = [row.id for row in rows if OFFLINE_ACCESS in row.scope.split()]
    if online:
        ctx.session.execute(
            update(IssuedToken).where(IssuedToken.id.in_(online)).values(revoked_at=ctx.now)
        )
    if offline:
        ctx.session.execute(
            update(IssuedToken)
            .where(IssuedToken.id.in_(offline), IssuedToken.access_token_expires_at > ctx.now)
            .values(access_token_expires_at=ctx.now)
        )


def _front_channel_uri(ctx: OperationContext, app: Client, sid: str) -> str:
    uri = app.frontchannel_logout_uri or ""
    separator = "&" if "?" in uri else "?"
    return f"{uri}{separator}{urlencode({'iss': ctx.settings.issuer, 'sid': sid})}"
