"""The gateway's database read and written directly, beside its HTTP interface: a statement,
and the access log's entries of one type whether still queued or already sealed."""

from __future__ import annotations

import json
from typing import Any, Protocol

from sqlalchemy import create_engine, text


class HasDatabase(Protocol):
    """A gateway under test, a real `idp serve` or one in this process."""

    @property
    def database_url(self) -> str: ...


def run_sql(gateway: HasDatabase, query: str, **values: Any) -> list[Any]:
    """`query` in a transaction of its own, committed; the rows it returns, if any."""
    engine = create_engine(gateway.database_url)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(query), values)
            return list(result.all()) if result.returns_rows else []
    finally:
        engine.dispose()


class _Anyone:
    """The subject filter that lets every entry through."""


ANYONE = _Anyone()

# Sealed entries and queued ones in one statement: the sequencer moves entries from the queue
# into the log while tests read, and two statements could see an entry twice or not at all.
_EVERY_ENTRY = (
    "SELECT 0 AS part, log_index AS position, event_type, client_id, actor_id, subject, "
    "CAST(detail AS TEXT) AS fields FROM access_events "
    "UNION ALL "
    "SELECT 1, id, NULL, NULL, actor_id, subject, public_fields FROM access_log_queue "
    "ORDER BY part, position"
)


def logged(
    gateway: HasDatabase, event_type: str, subject: str | _Anyone | None = ANYONE
) -> list[dict[str, Any]]:
    """Every entry of `event_type`, sealed or still queued, oldest first, as
    {event_type, client_id, actor_id, detail}; only those about `subject` when one is given
    (None: those about nobody named)."""
    found = []
    for part, _, sealed_type, sealed_client, actor_id, about, fields in run_sql(
        gateway, _EVERY_ENTRY
    ):
        if not isinstance(subject, _Anyone) and about != subject:
            continue
        document = json.loads(fields) if fields else {}
        if part == 0:
            entry = {"event_type": sealed_type, "client_id": sealed_client, "detail": document}
        else:
            entry = {
                "event_type": document.get("event_type"),
                "client_id": document.get("client_id"),
                "detail": document.get("detail") or {},
            }
        if entry["event_type"] == event_type:
            found.append({**entry, "actor_id": actor_id})
    return found


def logged_details(
    gateway: HasDatabase, event_type: str, subject: str | _Anyone | None = ANYONE
) -> list[dict[str, Any]]:
    """The details alone of `logged(gateway, event_type, subject)`."""
    return [entry["detail"] for entry in logged(gateway, event_type, subject)]
