"""Rows the storage tests write: a client's token row and its access log entry, as the token
endpoint writes them, and how many of each are stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, select

from idp.models import IssuedToken
from idp.ports import AccessEvent
from idp.storage.database import Database
from transparency.models import AccessLogQueueEntry

TOKENS = cast(Table, IssuedToken.__table__)
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def token_row(jti: str, **changes: Any) -> dict[str, Any]:
    return {
        "grant_id": f"grant-{jti}",
        "client_id": "client-1",
        "account_id": None,
        "scope": "read",
        "access_token_jti": jti,
        "access_token_expires_at": NOW + timedelta(minutes=5),
        "created_at": NOW,
        **changes,
    }


def token_event(request_id: str) -> AccessEvent:
    return AccessEvent(
        event_type="token.issued",
        occurred_at=NOW,
        actor_type="client",
        actor_id="client-1",
        outcome="success",
        client_id="client-1",
        request_id=request_id,
        detail={"grant_type": "client_credentials"},
    )


def counts(database: Database) -> tuple[int, int]:
    """(token rows, queued log entries)."""
    with database.unit_of_work() as session:
        tokens = session.scalar(select(func.count()).select_from(IssuedToken))
        queued = session.scalar(select(func.count()).select_from(AccessLogQueueEntry))
    return int(tokens or 0), int(queued or 0)
