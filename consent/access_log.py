"""The access log: events appended in the same transaction as the act they record."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.orm import Session

from consent.models import AccessEventRecord
from idp.ports import AccessEvent


class DatabaseAccessLog:
    def record(self, session: Session, event: AccessEvent) -> None:
        # A Core INSERT: cheaper than an ORM object on the token endpoint's hot path.
        session.execute(
            insert(AccessEventRecord),
            [
                {
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
            ],
        )
