"""A citizen's passkeys as stored: the narrow storage the passkey flows use (adding one, finding
one by its credential ID, listing, renaming, removing, recording a use). Functions never
commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from idp.models import Account
from idp.passkeys.ceremonies import NewCredential
from idp.passkeys.models import Passkey
from idp.storage.insert_once import inserted_once

MAX_NAME_LENGTH = 64


def has_passkey(session: Session, account: Account) -> bool:
    """Whether the account can sign in with a passkey (idp.authentication.assurance)."""
    return bool(session.scalar(select(exists().where(Passkey.account_id == account.id))))


def passkeys_of(session: Session, account: Account) -> list[Passkey]:
    """Oldest first, as the account page lists them."""
    return list(
        session.scalars(
            select(Passkey).where(Passkey.account_id == account.id).order_by(Passkey.id)
        )
    )


def find_passkey(session: Session, credential_id: str) -> Passkey | None:
    if not credential_id or len(credential_id) > 1400:
        return None
    return session.scalar(select(Passkey).where(Passkey.credential_id == credential_id))


def add_passkey(
    session: Session, account: Account, credential: NewCredential, *, name: str, now: datetime
) -> Passkey | None:
    """The new passkey; None when its credential ID is registered already (to any account:
    WebAuthn 7.1 step 25), which the unique constraint decides even for two at once."""
    added = inserted_once(
        session,
        Passkey.__table__,  # type: ignore[arg-type]
        {
            "account_id": account.id,
            "credential_id": credential.credential_id,
            "public_key": credential.public_key,
            "sign_count": credential.sign_count,
            "name": clean_name(name),
            "backup_eligible": credential.backup_eligible,
            "created_at": now,
            "last_used_at": None,
        },
        unique=["credential_id"],
    )
    return find_passkey(session, credential.credential_id) if added else None


def clean_name(name: str) -> str:
    """A name as the citizen typed it, on one line and at most MAX_NAME_LENGTH characters."""
    return " ".join(name.split())[:MAX_NAME_LENGTH]


def record_use(session: Session, passkey: Passkey, *, new_sign_count: int, now: datetime) -> bool:
    """The counter and last use, if nobody moved the counter since it was read: two assertions
    of one counter value at once (a clone racing the original) cannot both pass."""
    recorded = session.execute(
        update(Passkey)
        .where(Passkey.id == passkey.id, Passkey.sign_count == passkey.sign_count)
        .values(sign_count=new_sign_count, last_used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return bool(recorded == 1)


def rename_passkey(session: Session, account: Account, passkey_id: int, name: str) -> bool:
    cleaned = clean_name(name)
    if not cleaned:
        return False
    renamed = session.execute(
        update(Passkey)
        .where(Passkey.id == passkey_id, Passkey.account_id == account.id)
        .values(name=cleaned)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return bool(renamed == 1)


def remove_passkey(session: Session, account: Account, passkey_id: int) -> Passkey | None:
    """The account's own passkey, removed (returned for the log); None when it has no such."""
    passkey = session.scalar(
        select(Passkey).where(Passkey.id == passkey_id, Passkey.account_id == account.id)
    )
    if passkey is None:
        return None
    session.execute(
        delete(Passkey).where(Passkey.id == passkey.id).execution_options(synchronize_session=False)
    )
    return passkey
