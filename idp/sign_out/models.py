"""Tables of sign-out: the apps each browser session served, and the outbox of logout tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.storage.database import Base, UtcDateTime


class SessionApp(Base):
    """An agency app that was given a code (and so tokens) in one browser session: the apps to
    tell when the session ends."""

    __tablename__ = "session_apps"
    __table_args__ = (UniqueConstraint("browser_session_id", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    browser_session_id: Mapped[int] = mapped_column(ForeignKey("browser_sessions.id"))
    client_id: Mapped[str] = mapped_column(String(64))
    first_used_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LogoutDelivery(Base):
    """One back-channel logout token owed to one app: written in the transaction that ended the
    session, then sent until the app answers 200 or the delivery is given up.

    `next_attempt_at` is also the claim: a node that takes a delivery moves it a lease ahead, so
    no other node sends it meanwhile, and a node that dies leaves it to be retried after the
    lease. The token itself is signed afresh at each attempt (a current `iat` and `exp`) with
    the same `jti`, so an app that got it twice can tell.
    """

    __tablename__ = "logout_deliveries"
    __table_args__ = (
        Index("ix_logout_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jti: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))
    sid: Mapped[str] = mapped_column(String(64))
    uri: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))  # pending, delivered, given_up
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_outcome: Mapped[str | None] = mapped_column(String(255))
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
