"""The access log writer: each event is appended in the same transaction as the act it records.

Appending is O(1) and takes no lock: the entry's content hash is computed here; its place in the
Merkle tree is assigned later, in batches, by the sequencer (consent/sequencer.py).
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from consent.log_entries import content_hash, new_salt, personal_commitment, public_content
from consent.models import AccessEventRecord
from idp.ports import AccessEvent

_INSERT_ENTRY = insert(cast(Table, AccessEventRecord.__table__))


def entry_values(event: AccessEvent) -> dict[str, object]:
    fields: dict[str, object] = {
        "occurred_at": event.occurred_at,
        "event_type": event.event_type,
        "actor_type": event.actor_type,
        "actor_id": event.actor_id,
        "subject": event.subject,
        "client_id": event.client_id,
        "outcome": event.outcome,
        "request_id": event.request_id,
        "source_address": event.source_address,
        "claims_released": list(event.claims_released),
        "purpose": event.purpose,
        "detail": dict(event.detail),
    }
    salt = new_salt()
    commitment = personal_commitment(salt, fields)
    fields["personal_salt"] = salt
    fields["personal_commitment"] = commitment
    fields["content_hash"] = content_hash(public_content(fields), commitment)
    return fields


class DatabaseAccessLog:
    def record(self, session: Session, event: AccessEvent) -> None:
        # A plain Core INSERT on the table: no ORM bookkeeping on the token endpoint's hot path
        # (an ORM object or ORM bulk insert costs several times more CPU per event).
        session.execute(_INSERT_ENTRY, [entry_values(event)])
