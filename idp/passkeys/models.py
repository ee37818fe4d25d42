"""Tables of passkeys: an account's credentials and the challenges of ceremonies under way."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.storage.database import Base, UtcDateTime


class Passkey(Base):
    """A WebAuthn credential registered to an account (idp.passkeys.credentials).

    `credential_id` is unique across all accounts (WebAuthn 7.1 step 25: a credential ID
    registered to another user is refused). `public_key` is the COSE key the registration gave;
    `sign_count` the authenticator's counter last seen, which a later assertion must exceed
    unless both are zero (6.1.1: a counter that goes back signals a cloned authenticator).
    """

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)  # base64url
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(64))
    # Whether the authenticator said the key may be synced to other devices (the BE flag).
    backup_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PasskeyChallenge(Base):
    """The challenge of one ceremony under way (idp.passkeys.challenges): random, kept on the
    server, claimed once by a conditional DELETE, and only by the browser it was given to:
    a sign-in's belongs to its interaction (bound to the browser's binding cookie), a
    registration's to the browser session, a step-up's to both."""

    __tablename__ = "passkey_challenges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handle: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    challenge: Mapped[bytes] = mapped_column(LargeBinary)
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interactions.id"), index=True)
    browser_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("browser_sessions.id"), index=True
    )
    # The account the ceremony is for: the one registering, the one stepping up, or the one
    # whose username was typed before a passkey sign-in (None: any account's passkey).
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
