"""Consent records: the ConsentRecords implementation the core provider asks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.models import Consent


class DatabaseConsentRecords:
    def granted_scopes(
        self, session: Session, *, account_id: int, client_id: str
    ) -> frozenset[str]:
        record = session.scalar(
            select(Consent).where(Consent.account_id == account_id, Consent.client_id == client_id)
        )
        if record is None or record.withdrawn_at is not None:
            return frozenset()
        return frozenset(record.scopes)

    def record_consent(
        self,
        session: Session,
        *,
        account_id: int,
        client_id: str,
        scopes: Iterable[str],
        now: datetime,
    ) -> None:
        record = session.scalar(
            select(Consent).where(Consent.account_id == account_id, Consent.client_id == client_id)
        )
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
