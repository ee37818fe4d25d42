"""Reading the sealed log for review: entries that match a filter, newest first, a page at a time.

Pages are keyset pages on `log_index` (the entries after the last one shown, never an OFFSET),
so the hundredth page costs what the first does. Each filter has an index that starts with its
column and ends with `log_index` (migration 0011), so a filtered page is an index range scan.
A time range is first turned into the range of positions that holds it (transparency.time_blocks),
so `since`/`until` narrow that scan too instead of being checked against every newer entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from transparency.models import AccessEventRecord
from transparency.time_blocks import IndexRange, index_ranges_of

MAX_PAGE = 500


@dataclass(frozen=True)
class EntryFilter:
    """Every given field must match; `since` is inclusive and `until` exclusive."""

    subject: str | None = None
    client_id: str | None = None
    event_type: str | None = None
    outcome: str | None = None
    source_address: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class FoundEntry:
    log_index: int
    occurred_at: datetime
    event_type: str
    outcome: str
    actor_type: str
    actor_id: str | None
    client_id: str | None
    subject: str | None
    source_address: str | None
    request_id: str | None
    claims_released: list[str]
    purpose: str | None
    detail: dict[str, Any]
    erased: bool  # its personal fields were erased on request
    pruned: bool  # past its retention: only its hashes, time and type are left
    leaf_hash: str


@dataclass(frozen=True)
class EntryPage:
    entries: list[FoundEntry]
    # Where the next page starts (give it as `before`), or None on the last page.
    next_before: int | None


def search_entries(
    session: Session, matching: EntryFilter, *, before: int | None = None, limit: int = 50
) -> EntryPage:
    """Sequenced entries that match, newest first, those below `before` only."""
    limit = max(1, min(limit, MAX_PAGE))
    statement = _matching_statement(matching)
    if matching.since is None and matching.until is None:
        ranges = [IndexRange(0, None)]
    else:
        ranges = index_ranges_of(session, since=matching.since, until=matching.until)
    rows: list[AccessEventRecord] = []
    record = AccessEventRecord
    for positions in ranges:  # newest first; usually one
        if before is not None and positions.start >= before:
            continue
        stops = [end for end in (positions.stop, before) if end is not None]
        stop = min(stops) if stops else None
        # The positions bound the scan; the times themselves decide (an entry's neighbours
        # may be a little earlier or later than it).
        within = statement
        if positions.start > 0:
            within = within.where(record.log_index >= positions.start)
        if stop is not None:
            within = within.where(record.log_index < stop)
        rows.extend(
            session.scalars(within.order_by(record.log_index.desc()).limit(limit + 1 - len(rows)))
        )
        if len(rows) > limit:
            break
    more = len(rows) > limit
    entries = [_found(row) for row in rows[:limit]]
    return EntryPage(entries, entries[-1].log_index if more and entries else None)


def _matching_statement(matching: EntryFilter) -> Select[AccessEventRecord]:
    record = AccessEventRecord
    statement = select(record).where(record.log_index.is_not(None))
    for column, wanted in (
        (record.subject, matching.subject),
        (record.client_id, matching.client_id),
        (record.event_type, matching.event_type),
        (record.outcome, matching.outcome),
        (record.source_address, matching.source_address),
    ):
        if wanted is not None:
            statement = statement.where(column == wanted)
    if matching.since is not None:
        statement = statement.where(record.occurred_at >= matching.since)
    if matching.until is not None:
        statement = statement.where(record.occurred_at < matching.until)
    return statement


def entry_at(session: Session, log_index: int) -> FoundEntry | None:
    row = session.scalar(select(AccessEventRecord).where(AccessEventRecord.log_index == log_index))
    return _found(row) if row is not None else None


def _found(row: AccessEventRecord) -> FoundEntry:
    return FoundEntry(
        log_index=int(row.log_index),
        occurred_at=row.occurred_at,
        event_type=row.event_type,
        outcome=row.outcome,
        actor_type=row.actor_type,
        actor_id=row.actor_id,
        client_id=row.client_id,
        subject=row.subject,
        source_address=row.source_address,
        request_id=row.request_id,
        claims_released=list(row.claims_released or []),
        purpose=row.purpose,
        detail=dict(row.detail or {}),
        erased=row.erased_at is not None,
        pruned=row.pruned_at is not None,
        leaf_hash=row.leaf_hash,
    )


def latest_of_kinds(
    session: Session, subject: str, event_types: Sequence[str], *, limit: int
) -> list[FoundEntry]:
    """The newest sealed entries about `subject` of the given types (the subject index)."""
    record = AccessEventRecord
    rows = session.scalars(
        select(record)
        .where(
            record.subject == subject,
            record.event_type.in_(list(event_types)),
            record.log_index.is_not(None),
        )
        .order_by(record.log_index.desc())
        .limit(limit)
    )
    return [_found(row) for row in rows]
