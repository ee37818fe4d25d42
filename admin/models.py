"""Who administers the gateway: the roles granted to accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.storage.database import Base, UtcDateTime


class AdminRole(Base):
    """One role held by one account (admin.roles.Role). Granting and revoking are access log
    events; a revoked role's row is deleted, the log keeps its history."""

    __tablename__ = "admin_roles"
    __table_args__ = (UniqueConstraint("account_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    granted_by: Mapped[str] = mapped_column(String(255))


class ConsoleSession(Base):
    """An administrator signed in to the console. The browser holds the secret; only its digest
    is stored. Roles are read on every request, so a revoked role takes effect at once."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    secret_digest: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    auth_time: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ConsoleSignIn(Base):
    """A sign-in the console started at the gateway's authorization endpoint: the PKCE
    verifier and nonce it must see again, bound to the browser that started it (its cookie
    holds `state`, stored here as a digest). Used once."""

    __tablename__ = "console_sign_ins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state_digest: Mapped[str] = mapped_column(String(64), unique=True)
    code_verifier: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str] = mapped_column(String(64))
    return_to: Mapped[str] = mapped_column(String(512))
    max_age_seconds: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LogVerificationRun(Base):
    """One "verify the log" an auditor started in the console: its progress, written as it
    goes, so any node can show it; a run whose progress stops moving was interrupted."""

    __tablename__ = "log_verification_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_by: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    entries_total: Mapped[int] = mapped_column(Integer)
    entries_checked: Mapped[int] = mapped_column(Integer, default=0)
    progressed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))  # intact or damaged
    summary: Mapped[str | None] = mapped_column(String(2000))
