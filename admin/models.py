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
