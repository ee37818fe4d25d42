"""A filtered view of the access log as CSV or JSON, produced a page at a time: memory stays
flat however many entries match (keyset pages of transparency.search)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy.orm import Session

from idp.web.spreadsheets import spreadsheet_safe
from transparency.search import EntryFilter, FoundEntry, search_entries

EXPORT_PAGE = 1000
COLUMNS = (
    "index",
    "time",
    "type",
    "outcome",
    "actor_type",
    "actor_id",
    "client_id",
    "subject",
    "source",
    "request_id",
    "claims_released",
    "purpose",
    "detail",
    "erased",
    "pruned",
)


def exported_fields(entry: FoundEntry) -> dict[str, Any]:
    return {
        "index": entry.log_index,
        "time": entry.occurred_at.isoformat(),
        "type": entry.event_type,
        "outcome": entry.outcome,
        "actor_type": entry.actor_type,
        "actor_id": entry.actor_id,
        "client_id": entry.client_id,
        "subject": entry.subject,
        "source": entry.source_address,
        "request_id": entry.request_id,
        "claims_released": entry.claims_released,
        "purpose": entry.purpose,
        "detail": entry.detail,
        "erased": entry.erased,
        "pruned": entry.pruned,
    }


def matching_entries(
    unit_of_work: Callable[[], AbstractContextManager[Session]], matching: EntryFilter
) -> Iterator[FoundEntry]:
    """Every matching entry, newest first; each page read in a short transaction of its own,
    so a long export holds no transaction open while the client reads."""
    before: int | None = None
    while True:
        with unit_of_work() as session:
            page = search_entries(session, matching, before=before, limit=EXPORT_PAGE)
        yield from page.entries
        if page.next_before is None:
            return
        before = page.next_before


def as_csv(entries: Iterator[FoundEntry]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    yield flush()
    for entry in entries:
        fields = exported_fields(entry)
        writer.writerow(
            [
                json.dumps(fields[c], separators=(",", ":"))
                if c in ("claims_released", "detail")
                else spreadsheet_safe(fields[c])
                for c in COLUMNS
            ]
        )
        yield flush()


def as_json(entries: Iterator[FoundEntry]) -> Iterator[str]:
    yield "["
    first = True
    for entry in entries:
        yield ("" if first else ",") + json.dumps(exported_fields(entry), separators=(",", ":"))
        first = False
    yield "]"
