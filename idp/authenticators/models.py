"""Tables of the citizen's authenticators: their authenticator app, their recovery codes, and
the count of wrong codes that slows down guessing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.storage.database import Base, UtcDateTime


class AuthenticatorApp(Base):
    """An account's authenticator app: at most one confirmed, and at most one being set up
    (`state` "pending") that replaces it once its first code is confirmed.

    The TOTP secret is stored sealed (idp.keys.sealing) with a key outside the database.
    `last_used_step` is the RFC 6238 time step of the last code accepted: a code is accepted
    only for a later step (5.2: a code is used once), by a conditional UPDATE.
    """

    __tablename__ = "authenticator_apps"
    __table_args__ = (UniqueConstraint("account_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    sealed_secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_step: Mapped[int | None] = mapped_column(Integer)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RecoveryCode(Base):
    """One of an account's single-use recovery codes, by its SHA-256 salted with the subject.
    A new set replaces the old one (its rows are deleted)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    code_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OneTimeCodeThrottle(Base):
    """Consecutive wrong codes (authenticator app or recovery code) for one account; after a
    few each further try waits, the wait doubling (idp.authenticators.code_attempts)."""

    __tablename__ = "one_time_code_throttles"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    blocked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
