"""The citizen's signed-in browsers, as the account page lists them, and signing one of them out
from another.

A browser is named by its session's `sid`, which is no secret (apps receive it in ID tokens);
only sessions of the signed-in citizen are ever found by it, so a form naming another citizen's
session ends nothing. Ending goes through idp.sign_out.ending like every other way a session
ends, so the apps it served are told just the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from idp.interactions.browser import SignedIn
from idp.interactions.devices import Device, device_of
from idp.models import Account, BrowserSession
from idp.oauth.context import OperationContext
from idp.sign_out.ending import EndedBy, EndReason, end_browser_session, live_sessions_of
from idp.sign_out.session_apps import app_names_by_session

# A sid is 16 random bytes in base64url (22 characters); anything much longer is no sid of ours.
MAX_SID_LENGTH = 64


@dataclass(frozen=True)
class SignedInBrowser:
    """One live session of the citizen, as the account page shows it."""

    sid: str
    signed_in_at: datetime
    last_used_at: datetime
    device: Device
    network: str | None  # e.g. "192.0.2.0/24"; None when it was not known
    apps: list[str]  # the names of the apps it was used with, first used first
    this_browser: bool


def signed_in_browsers(ctx: OperationContext, citizen: SignedIn) -> list[SignedInBrowser]:
    """Every browser the citizen is signed in on: this one first, then the others, most
    recently used first. A session idle longer than the idle lifetime is left out: it can no
    longer be used, and the expiry sweep ends it."""
    current = citizen.browser_session
    records = [
        record
        for record in live_sessions_of(ctx, citizen.account)
        if record.id == current.id
        or ctx.now - record.last_seen_at <= ctx.settings.session_idle_lifetime
    ]
    records.sort(key=lambda record: record.id != current.id)  # stable: keeps the order
    apps = app_names_by_session(ctx.session, [record.id for record in records])
    return [
        SignedInBrowser(
            sid=record.sid,
            signed_in_at=record.auth_time,
            last_used_at=record.last_seen_at,
            device=device_of(record.device),
            network=record.network,
            apps=apps.get(record.id, []),
            this_browser=record.id == current.id,
        )
        for record in records
    ]


def sign_out_other_browser(ctx: OperationContext, citizen: SignedIn, sid: str) -> bool:
    """End the citizen's session `sid` from this browser, with its tokens and its apps told.
    False when `sid` names no live session of the citizen, or this browser's own (which signs
    out with the page's "Sign out", whose page says so)."""
    record = _session_of(ctx, citizen.account, sid)
    if record is None or record.id == citizen.browser_session.id:
        return False
    by = EndedBy("account", citizen.account.subject)
    ended = end_browser_session(ctx, record, reason=EndReason.ENDED_FROM_ANOTHER_BROWSER, by=by)
    return ended is not None


def signed_out_browser(ctx: OperationContext, account: Account, sid: str) -> Device | None:
    """The device of the citizen's session `sid` if it has ended, for the page's confirmation;
    None for anything else (a sid of another citizen's says nothing about it)."""
    if not sid or len(sid) > MAX_SID_LENGTH:
        return None
    record = ctx.session.scalar(
        select(BrowserSession)
        .where(BrowserSession.sid == sid, BrowserSession.account_id == account.id)
        .where(BrowserSession.ended_at.is_not(None))
    )
    return device_of(record.device) if record else None


def _session_of(ctx: OperationContext, account: Account, sid: str) -> BrowserSession | None:
    if not sid or len(sid) > MAX_SID_LENGTH:
        return None
    return ctx.session.scalar(
        select(BrowserSession)
        .where(BrowserSession.sid == sid, BrowserSession.account_id == account.id)
        .where(BrowserSession.ended_at.is_(None))
    )
