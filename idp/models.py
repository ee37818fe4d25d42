"""Tables of the core provider: accounts, clients, sessions, interactions, codes and tokens."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from idp.storage.database import Base, UtcDateTime, utc_now


class Account(Base):
    """A citizen who signs in. `subject` is the stable public identifier put in `sub`."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), unique=True)
    username: Mapped[str] = mapped_column(String(128), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    given_name: Mapped[str | None] = mapped_column(String(255))
    family_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    birthdate: Mapped[date | None] = mapped_column(Date)
    national_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Client(Base):
    """An agency application registered by an operator."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    # Why the agency receives citizens' data, in its own words: shown on the consent page and
    # recorded with every release of data in the access log.
    purpose: Mapped[str | None] = mapped_column(String(500))
    # SHA-256 of a 256-bit random secret: a slow password hash here would cap the token endpoint.
    secret_digest: Mapped[str | None] = mapped_column(String(64))
    # The secret a rotation replaced, still accepted until `previous_secret_expires_at` so the
    # agency can deploy the new one without an outage (idp.clients.rotate_secret).
    previous_secret_digest: Mapped[str | None] = mapped_column(String(64))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    grant_types: Mapped[list[str]] = mapped_column(JSON)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    require_pkce: Mapped[bool] = mapped_column(Boolean, default=False)
    id_token_signed_response_alg: Mapped[str] = mapped_column(String(16), default="RS256")
    # Where the gateway tells the app that a citizen signed out (OpenID Connect Back-Channel and
    # Front-Channel Logout 1.0); None when the app did not ask to be told.
    backchannel_logout_uri: Mapped[str | None] = mapped_column(Text)
    frontchannel_logout_uri: Mapped[str | None] = mapped_column(Text)
    # The lowest level of assurance any sign-in for this client must reach, by name (`low`,
    # `substantial`, `high`: idp.protocol.assurance.Level), so a change of `acr` vocabulary
    # (IDP_ACR_*) keeps what each registration asks for.
    minimum_level: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class BrowserSession(Base):
    """A signed-in browser. The cookie carries a secret; only its SHA-256 is stored here."""

    __tablename__ = "browser_sessions"
    # The sweep that ends expired and idle sessions reads only live ones (idp.sign_out.expiry).
    __table_args__ = (
        Index(
            "ix_browser_sessions_live_expires_at",
            "expires_at",
            postgresql_where=text("ended_at IS NULL"),
            sqlite_where=text("ended_at IS NULL"),
        ),
        Index(
            "ix_browser_sessions_live_last_seen_at",
            "last_seen_at",
            postgresql_where=text("ended_at IS NULL"),
            sqlite_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    secret_digest: Mapped[str] = mapped_column(String(64), unique=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    auth_time: Mapped[datetime] = mapped_column(UtcDateTime)
    acr: Mapped[str] = mapped_column(String(128))
    amr: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Why it ended (idp.sign_out.ending.EndReason), for the citizen's list and the log.
    ended_reason: Mapped[str | None] = mapped_column(String(32))
    # Enough for the citizen to recognise the browser in their list of sessions, no more: the
    # browser and system named by its User-Agent, and the source address's network.
    device: Mapped[str | None] = mapped_column(String(100))
    network: Mapped[str | None] = mapped_column(String(64))


class SessionAuthentication(Base):
    """One authentication in a browser session: the sign-in that started it and every step-up
    after it (idp.authentication.assurance). The session's level is assessed from these, so an
    elevated level can lapse while the session lives."""

    __tablename__ = "session_authentications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    browser_session_id: Mapped[int] = mapped_column(ForeignKey("browser_sessions.id"), index=True)
    method: Mapped[str] = mapped_column(String(32))
    amr: Mapped[list[str]] = mapped_column(JSON)
    authenticated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SignInThrottle(Base):
    """Consecutive failed sign-ins for one username (known or not), by digest of the name.
    `failures` includes attempts still being checked: each is counted when it is reserved."""

    __tablename__ = "sign_in_throttles"

    username_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    blocked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SignInAllowance(Base):
    """A browser's own allowance of sign-in attempts for one account (OWASP's device cookie).

    Set at a successful sign-in; failures from other browsers never touch it. The cookie holds
    a random value; only its SHA-256 is stored, like a session cookie's.
    """

    __tablename__ = "sign_in_allowances"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    failures: Mapped[int] = mapped_column(Integer)
    blocked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SignInSourceLimit(Base):
    """Failed sign-ins from one source address (by digest), as a bucket that drains steadily.

    `drained_at` is when the bucket is empty again (the generic cell rate algorithm's
    theoretical arrival time): each counted attempt adds window / attempts to it.
    """

    __tablename__ = "sign_in_source_limits"

    source_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    drained_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ActivationCode(Base):
    """The one activation code support gave an account (idp.activation), by its SHA-256 only.
    Issuing another replaces the row; a redeemed or voided code stays until then."""

    __tablename__ = "activation_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)
    code_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    voided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    redeemed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Interaction(Base):
    """An authorization request waiting for the citizen (sign-in or consent page).

    It is bound to the browser that started it (cookie digest) and carries the CSRF token its
    forms must echo, so a page can be completed only by the browser it was shown to.
    """

    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handle: Mapped[str] = mapped_column(String(64), unique=True)
    browser_binding_digest: Mapped[str] = mapped_column(String(64))
    csrf_token: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(64))
    parameters: Mapped[list[list[str]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set once the sign-in page succeeded for this request (prompt=login / max_age satisfied).
    authenticated_session_id: Mapped[int | None] = mapped_column(ForeignKey("browser_sessions.id"))
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The language of its pages: from ui_locales, then changed by the citizen's switcher; None
    # leaves the choice to the browser (idp.protocol.languages).
    language: Mapped[str | None] = mapped_column(String(8))


class AuthorizationCode(Base):
    """A one-time code. Only its SHA-256 is stored; `consumed_at` makes redemption atomic."""

    __tablename__ = "authorization_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_digest: Mapped[str] = mapped_column(String(64), unique=True)
    grant_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(16))
    auth_time: Mapped[datetime] = mapped_column(UtcDateTime)
    acr: Mapped[str] = mapped_column(String(128))
    amr: Mapped[list[str]] = mapped_column(JSON)
    sid: Mapped[str | None] = mapped_column(String(64))
    claims_request: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    consumed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class IssuedToken(Base):
    """One token response: its JWT access token (by `jti`) and, if any, its refresh token.

    Every response that stems from one authorization (the code and all its refreshes) shares a
    `grant_id`, so a replayed code or refresh token revokes the whole family at once.
    """

    __tablename__ = "issued_tokens"
    __table_args__ = (Index("ix_issued_tokens_grant_id", "grant_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_id: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    scope: Mapped[str] = mapped_column(Text)
    access_token_jti: Mapped[str] = mapped_column(String(64), unique=True)
    access_token_expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    refresh_token_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    refresh_token_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    grant_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rotated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    auth_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acr: Mapped[str | None] = mapped_column(String(128))
    amr: Mapped[list[str] | None] = mapped_column(JSON)
    sid: Mapped[str | None] = mapped_column(String(64))
    claims_request: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
