"""The console's own sessions and the sign-ins it starts at the gateway, kept in the database so
any node can continue them. Framework-free; the routes hold the cookies.

A console session is separate from the citizen's single sign-on session: shorter (an idle
limit of minutes), confined to `/admin`, and ended by its own sign-out. Its secret is random and
only its digest is stored; the console's form token is derived from it
(idp.interactions.csrf.console_form_token), so a page on another site, which cannot read the
cookie, cannot forge a form (CSRF).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from admin.models import ConsoleSession, ConsoleSignIn
from admin.roles import Role, roles_of
from admin.settings import ConsoleSettings
from idp.models import Account
from idp.opaque_values import digest, new_opaque_value, same_value

SIGN_IN_LIFETIME = timedelta(minutes=15)  # as long as the gateway's own sign-in page lasts


@dataclass(frozen=True)
class SignedInAdministrator:
    session: ConsoleSession
    account: Account
    roles: frozenset[Role]

    @property
    def actor(self) -> str:
        """How the access log names what this administrator does."""
        return f"{self.account.username} (console)"

    def signed_in_within(self, lifetime: timedelta, *, now: datetime) -> bool:
        return now - self.session.auth_time <= lifetime


def start_console_session(
    session: Session,
    account: Account,
    *,
    auth_time: datetime,
    now: datetime,
    settings: ConsoleSettings,
) -> str:
    """A new session for `account` signed in at `auth_time`; returns the cookie's secret."""
    secret = new_opaque_value(32)
    session.add(
        ConsoleSession(
            secret_digest=digest(secret),
            account_id=account.id,
            auth_time=auth_time,
            created_at=now,
            last_seen_at=now,
            expires_at=now + settings.session_lifetime,
        )
    )
    session.flush()
    return secret


def find_administrator(
    session: Session, secret: str | None, *, now: datetime, settings: ConsoleSettings
) -> SignedInAdministrator | None:
    """The administrator whose live session `secret` opens, with the roles held right now; the
    session's idle clock restarts. An account that was disabled has no session."""
    if not secret or len(secret) > 128:
        return None
    row = session.scalar(
        select(ConsoleSession).where(ConsoleSession.secret_digest == digest(secret))
    )
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    if now - row.last_seen_at > settings.session_idle_lifetime:
        row.ended_at = now
        return None
    account = session.get(Account, row.account_id)
    if account is None or account.disabled_at is not None:
        return None
    row.last_seen_at = now
    return SignedInAdministrator(
        session=row, account=account, roles=frozenset(roles_of(session, account))
    )


def end_console_session(session: Session, secret: str | None, *, now: datetime) -> None:
    if secret and len(secret) <= 128:
        session.execute(
            update(ConsoleSession)
            .where(
                ConsoleSession.secret_digest == digest(secret), ConsoleSession.ended_at.is_(None)
            )
            .values(ended_at=now)
        )


@dataclass(frozen=True)
class StartedSignIn:
    state: str  # for the browser's cookie and the authorization request
    nonce: str
    code_verifier: str


def start_sign_in(
    session: Session, *, return_to: str, max_age: timedelta | None, now: datetime
) -> StartedSignIn:
    started = StartedSignIn(
        state=new_opaque_value(32), nonce=new_opaque_value(24), code_verifier=new_opaque_value(48)
    )
    session.add(
        ConsoleSignIn(
            state_digest=digest(started.state),
            code_verifier=started.code_verifier,
            nonce=started.nonce,
            return_to=return_to,
            max_age_seconds=int(max_age.total_seconds()) if max_age is not None else None,
            created_at=now,
            expires_at=now + SIGN_IN_LIFETIME,
        )
    )
    session.flush()
    return started


def claim_sign_in(
    session: Session, *, state: str, browser_state: str | None, now: datetime
) -> ConsoleSignIn | None:
    """The sign-in `state` names, if this browser started it and it is live and unused; it can
    be claimed once (a conditional UPDATE, so two racing callbacks cannot both continue)."""
    if not state or not browser_state or not same_value(state, browser_state):
        return None
    if len(state) > 128:
        return None
    claimed = session.execute(
        update(ConsoleSignIn)
        .where(
            ConsoleSignIn.state_digest == digest(state),
            ConsoleSignIn.used_at.is_(None),
            ConsoleSignIn.expires_at > now,
        )
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.scalar(select(ConsoleSignIn).where(ConsoleSignIn.state_digest == digest(state)))
