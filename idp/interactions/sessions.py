"""Browser sessions (a signed-in citizen) and interactions (a request waiting on our pages).

Cookies carry 256-bit random secrets; the database keeps only their SHA-256, so a leaked table
yields no usable session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from idp.interactions.csrf import new_interaction_csrf_token
from idp.models import Account, BrowserSession, Interaction
from idp.opaque_values import digest, matches_digest, new_opaque_value

# Writing last_seen_at on every request would turn reads into writes; a minute is fine-grained
# enough for an idle timeout counted in minutes.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewBrowserSession:
    record: BrowserSession
    cookie_secret: str


def start_browser_session(
    session: Session,
    *,
    account: Account,
    acr: str,
    amr: list[str],
    now: datetime,
    lifetime: timedelta,
) -> NewBrowserSession:
    secret = new_opaque_value(32)
    record = BrowserSession(
        secret_digest=digest(secret),
        sid=new_opaque_value(16),
        account_id=account.id,
        auth_time=now,
        acr=acr,
        amr=amr,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
    )
    session.add(record)
    session.flush()
    return NewBrowserSession(record=record, cookie_secret=secret)


def find_browser_session(
    session: Session, cookie_secret: str | None, *, now: datetime, idle_lifetime: timedelta
) -> BrowserSession | None:
    """The live session for the cookie, or None when it ended, expired or sat idle too long."""
    if not cookie_secret or len(cookie_secret) > 128:
        return None
    record = session.scalar(
        select(BrowserSession).where(BrowserSession.secret_digest == digest(cookie_secret))
    )
    if record is None or record.ended_at is not None or record.expires_at <= now:
        return None
    if now - record.last_seen_at > idle_lifetime:
        return None
    account = session.get(Account, record.account_id)
    if account is None or account.disabled_at is not None:
        return None
    if now - record.last_seen_at >= LAST_SEEN_RESOLUTION:
        record.last_seen_at = now
    return record


def end_browser_session(session: Session, record: BrowserSession, *, now: datetime) -> None:
    record.ended_at = now


def end_sessions_of_cookie(session: Session, cookie_secret: str | None, *, now: datetime) -> None:
    """End whatever session the browser had, so a new sign-in never reuses an identifier."""
    if not cookie_secret or len(cookie_secret) > 128:
        return
    session.execute(
        update(BrowserSession)
        .where(BrowserSession.secret_digest == digest(cookie_secret))
        .where(BrowserSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def start_interaction(
    session: Session,
    *,
    client_id: str,
    parameters: list[tuple[str, str]],
    browser_binding: str,
    now: datetime,
    lifetime: timedelta,
) -> Interaction:
    interaction = Interaction(
        handle=new_opaque_value(24),
        browser_binding_digest=digest(browser_binding),
        csrf_token=new_interaction_csrf_token(),
        client_id=client_id,
        parameters=[list(p) for p in parameters],
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(interaction)
    session.flush()
    return interaction


def find_interaction(
    session: Session, handle: str | None, *, browser_binding: str | None, now: datetime
) -> Interaction | None:
    """The open interaction `handle`, only for the browser that started it."""
    if not handle or not browser_binding or len(handle) > 64:
        return None
    interaction = session.scalar(select(Interaction).where(Interaction.handle == handle))
    if interaction is None or interaction.completed_at is not None:
        return None
    if interaction.expires_at <= now:
        return None
    if not matches_digest(browser_binding, interaction.browser_binding_digest):
        return None
    return interaction


def interaction_parameters(interaction: Interaction) -> list[tuple[str, str]]:
    return [(str(name), str(value)) for name, value in interaction.parameters]
