"""Browser sessions (a signed-in citizen) and interactions (a request waiting on our pages).

Cookies carry 256-bit random secrets; the database keeps only their SHA-256, so a leaked table
yields no usable session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from idp.interactions.csrf import new_interaction_csrf_token
from idp.models import Account, BrowserSession, Interaction
from idp.opaque_values import digest, matches_digest, new_opaque_value
from idp.protocol.languages import language_from_ui_locales

# Writing last_seen_at on every request would turn reads into writes; a minute is fine-grained
# enough for an idle timeout counted in minutes.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)

# Built once, with bound values (ADR 0021): every request of a signed-in browser reads it.
_BY_SECRET_DIGEST = select(BrowserSession).where(
    BrowserSession.secret_digest == bindparam("secret_digest")
)


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
    device: str | None = None,
    network: str | None = None,
) -> NewBrowserSession:
    """`device` and `network`: what the citizen's list of sessions shows to tell this one apart
    (idp.interactions.devices), never the User-Agent or the address themselves."""
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
        device=device,
        network=network,
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
    record = session.scalar(_BY_SECRET_DIGEST, {"secret_digest": digest(cookie_secret)})
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


def session_of_cookie(session: Session, cookie_secret: str | None) -> BrowserSession | None:
    """The session the cookie names if it has not ended, however long ago it was used: a new
    sign-in ends it (idp.sign_out.ending), so a new sign-in never reuses an identifier."""
    if not cookie_secret or len(cookie_secret) > 128:
        return None
    return session.scalar(
        select(BrowserSession)
        .where(BrowserSession.secret_digest == digest(cookie_secret))
        .where(BrowserSession.ended_at.is_(None))
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
        language=language_from_ui_locales(dict(parameters).get("ui_locales")),
    )
    session.add(interaction)
    session.flush()
    return interaction


def extend_interaction(
    interaction: Interaction, *, now: datetime, lifetime: timedelta, longest: timedelta
) -> datetime:
    """More time for a citizen who asked: `lifetime` from now, never past `longest` after the
    request started. Returns the new end."""
    interaction.expires_at = max(
        interaction.expires_at, min(now + lifetime, interaction.created_at + longest)
    )
    return interaction.expires_at


class InteractionAlreadyCompleted(Exception):
    """Another request completed the interaction first (one form posted twice at once)."""


def find_interaction(
    session: Session,
    handle: str | None,
    *,
    browser_binding: str | None,
    now: datetime,
    lock: bool = False,
) -> Interaction | None:
    """The open interaction `handle`, only for the browser that started it. With `lock`, for
    a form post: parallel posts of one interaction's form then run one after the other (the
    row stays locked until the transaction ends), and each later one reads what the earlier
    did: the check and the action it allows are one atomic step (ASVS 5.0 15.4.2). SQLite
    serializes writers by itself."""
    if not handle or not browser_binding or len(handle) > 64:
        return None
    query = select(Interaction).where(Interaction.handle == handle)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    interaction = session.scalar(query)
    if interaction is None or interaction.completed_at is not None:
        return None
    if interaction.expires_at <= now:
        return None
    if not matches_digest(browser_binding, interaction.browser_binding_digest):
        return None
    return interaction


def complete_interaction(session: Session, interaction: Interaction, *, now: datetime) -> None:
    """Mark the interaction done, once: only one UPDATE finds it still open, so of two requests
    finishing it at once only one goes on (a code is issued at most once per interaction). The
    other gets InteractionAlreadyCompleted and must roll back."""
    claimed = session.execute(
        update(Interaction)
        .where(Interaction.id == interaction.id, Interaction.completed_at.is_(None))
        .values(completed_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise InteractionAlreadyCompleted


def interaction_parameters(interaction: Interaction) -> list[tuple[str, str]]:
    return [(str(name), str(value)) for name, value in interaction.parameters]
