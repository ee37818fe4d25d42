"""Consent records: every query of the consents table, and the ConsentRecords implementation
the core provider asks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from consent.models import Consent
from idp.models import Client

# Built once, with bound values (ADR 0021): every code exchange and refresh holds its consent.
# FOR SHARE: token requests for one consent do not wait for each other, only for a withdrawal
# (FOR UPDATE in hold_consent_for_withdrawal). SQLite serializes writers by itself.
# populate_existing: a row this session read before the lock is read again.
_HOLD_CONSENT_SHARED = (
    select(Consent)
    .where(
        Consent.account_id == bindparam("account_id"), Consent.client_id == bindparam("client_id")
    )
    .with_for_update(read=True)
    .execution_options(populate_existing=True)
)


# Every authorization request on a session reads its consent.
_CONSENT = select(Consent).where(
    Consent.account_id == bindparam("account_id"), Consent.client_id == bindparam("client_id")
)


def find_consent(session: Session, *, account_id: int, client_id: str) -> Consent | None:
    return session.scalar(_CONSENT, {"account_id": account_id, "client_id": client_id})


def hold_consent_for_withdrawal(
    session: Session, *, account_id: int, client_id: str
) -> Consent | None:
    """The consent, locked (FOR UPDATE) until the transaction ends: it waits for token requests
    that hold it (FOR SHARE, `hold_granted_scopes`) and makes later ones read it withdrawn."""
    return session.scalar(
        select(Consent)
        .where(Consent.account_id == account_id, Consent.client_id == client_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def live_consents_with_clients(
    session: Session, *, account_id: int
) -> list[tuple[Consent, Client | None]]:
    """The account's consents not withdrawn, oldest first, each with its client (None when no
    longer registered), in one query."""
    rows = session.execute(
        select(Consent, Client)
        .outerjoin(Client, Client.client_id == Consent.client_id)
        .where(Consent.account_id == account_id, Consent.withdrawn_at.is_(None))
        .order_by(Consent.granted_at)
    ).all()
    return [(record, client) for record, client in rows]


def _scopes_of(record: Consent | None) -> frozenset[str]:
    if record is None or record.withdrawn_at is not None:
        return frozenset()
    return frozenset(record.scopes)


class DatabaseConsentRecords:
    def granted_scopes(
        self, session: Session, *, account_id: int, client_id: str
    ) -> frozenset[str]:
        return _scopes_of(find_consent(session, account_id=account_id, client_id=client_id))

    def hold_granted_scopes(
        self, session: Session, *, account_id: int, client_id: str
    ) -> frozenset[str]:
        return _scopes_of(
            session.scalar(_HOLD_CONSENT_SHARED, {"account_id": account_id, "client_id": client_id})
        )

    def record_consent(
        self,
        session: Session,
        *,
        account_id: int,
        client_id: str,
        scopes: Iterable[str],
        now: datetime,
    ) -> None:
        record = find_consent(session, account_id=account_id, client_id=client_id)
        if record is None:
            session.add(
                Consent(
                    account_id=account_id,
                    client_id=client_id,
                    scopes=sorted(set(scopes)),
                    granted_at=now,
                    updated_at=now,
                )
            )
            return
        previous = set() if record.withdrawn_at is not None else set(record.scopes)
        record.scopes = sorted(previous | set(scopes))
        record.withdrawn_at = None
        record.updated_at = now
