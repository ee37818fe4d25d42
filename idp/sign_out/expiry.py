"""Ending the sessions that ran out (their absolute lifetime, or idle too long) on the server, so
their apps are told as after a sign-out, instead of each session only failing to be found the
next time its cookie comes back."""

from __future__ import annotations

from sqlalchemy import select

from idp.models import BrowserSession
from idp.oauth.context import OperationContext
from idp.sign_out.ending import EndedBy, EndReason, end_browser_session

# Sessions ended per turn: a backlog (after downtime) is worked off over a few turns.
ENDED_PER_TURN = 200
EXPIRY = EndedBy("system", "session-expiry")


def end_expired_sessions(ctx: OperationContext) -> int:
    """End live sessions past their lifetime or idle lifetime; returns how many."""
    idle_since = ctx.now - ctx.settings.session_idle_lifetime
    past_lifetime = ctx.session.scalars(
        select(BrowserSession)
        .where(BrowserSession.ended_at.is_(None), BrowserSession.expires_at <= ctx.now)
        .order_by(BrowserSession.expires_at)
        .limit(ENDED_PER_TURN)
    ).all()
    idle = ctx.session.scalars(
        select(BrowserSession)
        .where(BrowserSession.ended_at.is_(None), BrowserSession.last_seen_at < idle_since)
        .order_by(BrowserSession.last_seen_at)
        .limit(ENDED_PER_TURN)
    ).all()
    ended = 0
    for record in past_lifetime:
        ended += end_browser_session(ctx, record, reason=EndReason.EXPIRED, by=EXPIRY) is not None
    for record in idle:
        if record.ended_at is None:
            ended += end_browser_session(ctx, record, reason=EndReason.IDLE, by=EXPIRY) is not None
    return ended
