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


def logged(gateway: HasDatabase, event_type: str) -> list[dict[str, Any]]:
    """The public fields of every entry of `event_type`, sealed or still queued."""
    found = []
    for (fields,) in run_sql(gateway, "SELECT public_fields FROM access_log_queue ORDER BY id"):
        document = json.loads(fields)
        if document.get("event_type") == event_type:
            found.append(document)
    for row in run_sql(
        gateway,
        "SELECT client_id, detail FROM access_events WHERE event_type = :t ORDER BY log_index",
        t=event_type,
    ):
        detail = row[1] if isinstance(row[1], dict) else json.loads(row[1])
        found.append({"event_type": event_type, "client_id": row[0], "detail": detail})
    return found
