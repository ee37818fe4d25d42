"""The access log writer: each event is appended in the same transaction as the act it records.

Appending is one INSERT into a narrow queue table with nothing but a primary key: no hashing, no
lock, no read on the request's path. The INSERT is sent at commit with the request's other
written-only rows (idp/storage/pending_inserts.py): on PostgreSQL a token and its entry are one
statement. The sequencer (transparency/sequencer.py) seals queued entries (salted commitment,
content hash), places them in the Merkle tree and signs a checkpoint, in batches.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from idp.events import ADMINISTRATOR_LOOKS
from idp.ports import AccessEvent, AdministratorLook
from idp.storage.pending_inserts import insert_at_commit
from transparency.entries import canonical_text, encode_time
from transparency.models import AccessLogQueueEntry
from transparency.search import latest_of_kinds

_QUEUE = cast(Table, AccessLogQueueEntry.__table__)


def queued_values(event: AccessEvent) -> dict[str, object]:
    """The queue row of an event: its public content as canonical JSON, its personal fields."""
    if event.occurred_at.tzinfo is None:
        raise ValueError("an access event needs a timezone-aware time")
    public = {
        "occurred_at": encode_time(event.occurred_at),
        "event_type": event.event_type,
        "actor_type": event.actor_type,
        "client_id": event.client_id,
        "outcome": event.outcome,
        "request_id": event.request_id,
        "claims_released": list(event.claims_released),
        "purpose": event.purpose,
        "detail": dict(event.detail),
    }
    return {
        "public_fields": canonical_text(public),
        "actor_id": event.actor_id,
        "subject": event.subject,
        "source_address": event.source_address,
    }


class DatabaseAccessLog:
    def record(self, session: Session, event: AccessEvent) -> None:
        insert_at_commit(session, _QUEUE, queued_values(event))

    def looks_at(self, session: Session, subject: str, *, limit: int) -> list[AdministratorLook]:
        found = latest_of_kinds(
            session, subject, [str(t) for t in ADMINISTRATOR_LOOKS], limit=limit
        )
        return [
            AdministratorLook(
                occurred_at=entry.occurred_at,
                event_type=entry.event_type,
                actor_type=entry.actor_type,
                actor_id=entry.actor_id,
                client_id=entry.client_id,
                reason=str(entry.detail["reason"]) if "reason" in entry.detail else None,
            )
            for entry in found
        ]
