"""Reading the access log's tree from the database: entries in log order, checkpoints, subtree
hashes for proofs, and erasing personal fields."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from consent.audit import LoggedEntry
from consent.log_entries import PERSONAL_FIELDS, PUBLIC_FIELDS
from consent.merkle import CompactRange, root_from_leaf_hashes
from consent.models import (
    FIRST_STORED_NODE_LEVEL,
    AccessEventRecord,
    AccessLogQueueEntry,
    LogCheckpoint,
    LogNode,
    LogState,
)

_FIELD_COLUMNS = [getattr(AccessEventRecord, name) for name in (*PUBLIC_FIELDS, *PERSONAL_FIELDS)]


class DatabaseHashSource:
    """`HashSource` over the stored tree: one lookup per perfect subtree, from log_nodes for the
    large ones and from the entries' leaf hashes for the small ones."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def subtree_hash(self, start: int, end: int) -> bytes:
        width = end - start
        level = width.bit_length() - 1
        if width <= 0 or width != 1 << level or start % width:
            raise ValueError("not an aligned perfect subtree")
        if level < FIRST_STORED_NODE_LEVEL:
            return self._folded_from_leaves(start, end)
        value = self.session.scalar(
            select(LogNode.hash).where(LogNode.level == level, LogNode.index == start >> level)
        )
        if value is None:
            raise LookupError(f"no subtree [{start}, {end}) in the log")
        return bytes.fromhex(value)

    def _folded_from_leaves(self, start: int, end: int) -> bytes:
        leaves = self.session.scalars(
            select(AccessEventRecord.leaf_hash)
            .where(AccessEventRecord.log_index >= start, AccessEventRecord.log_index < end)
            .order_by(AccessEventRecord.log_index)
        ).all()
        if len(leaves) != end - start:
            raise LookupError(f"no subtree [{start}, {end}) in the log")
        return root_from_leaf_hashes([bytes.fromhex(leaf) for leaf in leaves])


def current_tree_size(session: Session) -> int:
    return int(session.scalar(select(LogState.tree_size).where(LogState.id == 1)) or 0)


def logged_entries(session: Session, *, since: int = 0, chunk: int = 5000) -> Iterator[LoggedEntry]:
    """Sequenced entries in log order, read in chunks (memory stays flat on a large log)."""
    statement = (
        select(
            AccessEventRecord.log_index,
            AccessEventRecord.personal_salt,
            AccessEventRecord.personal_commitment,
            AccessEventRecord.content_hash,
            AccessEventRecord.leaf_hash,
            AccessEventRecord.pruned_at,
            *_FIELD_COLUMNS,
        )
        .where(AccessEventRecord.log_index.is_not(None), AccessEventRecord.log_index >= since)
        .order_by(AccessEventRecord.log_index, AccessEventRecord.id)
        .execution_options(yield_per=chunk)
    )
    for row in session.execute(statement):
        mapping = row._mapping
        yield LoggedEntry(
            log_index=int(mapping["log_index"]),
            fields={name: mapping[name] for name in (*PUBLIC_FIELDS, *PERSONAL_FIELDS)},
            personal_salt=mapping["personal_salt"],
            personal_commitment=mapping["personal_commitment"],
            content_hash=mapping["content_hash"],
            leaf_hash=mapping["leaf_hash"],
            pruned=mapping["pruned_at"] is not None,
        )


def signed_checkpoints(session: Session, *, min_tree_size: int = 0) -> list[str]:
    return list(
        session.scalars(
            select(LogCheckpoint.signed)
            .where(LogCheckpoint.tree_size >= min_tree_size)
            .order_by(LogCheckpoint.tree_size)
        )
    )


def latest_checkpoint(session: Session) -> LogCheckpoint | None:
    return session.scalar(select(LogCheckpoint).order_by(LogCheckpoint.tree_size.desc()).limit(1))


def frontier_at(session: Session, size: int) -> CompactRange:
    """The compact range of the first `size` leaves: one stored subtree per bit of `size`."""
    source = DatabaseHashSource(session)
    hashes = []
    start = 0
    for level in reversed(range(size.bit_length())):
        if size >> level & 1:
            hashes.append(source.subtree_hash(start, start + (1 << level)))
            start += 1 << level
    return CompactRange.from_hashes(size, hashes)


def erase_personal_fields(session: Session, *, subject: str, now: datetime) -> int:
    """Erase a citizen's personal fields (and the salts that could confirm a guess). Content
    hashes keep their commitments, so every proof still verifies."""
    result = session.execute(
        update(AccessEventRecord)
        .where(AccessEventRecord.subject == subject)
        .values(subject=None, actor_id=None, source_address=None, personal_salt=None, erased_at=now)
    )
    # Entries still queued are erased before they are ever sealed.
    queued = session.execute(
        update(AccessLogQueueEntry)
        .where(AccessLogQueueEntry.subject == subject)
        .values(subject=None, actor_id=None, source_address=None)
    )
    return int(result.rowcount or 0) + int(queued.rowcount or 0)  # type: ignore[attr-defined]


def prune_entries(
    session: Session, *, retention: Mapping[str, timedelta], now: datetime
) -> dict[str, int]:
    """Clear the content of sequenced entries older than their type's retention period.
    Time, type, actor type, outcome and every hash stay, so proofs and checkpoints verify."""
    default = retention.get("default")
    event_types = session.scalars(
        select(AccessEventRecord.event_type)
        .distinct()
        .where(AccessEventRecord.pruned_at.is_(None), AccessEventRecord.log_index.is_not(None))
    ).all()
    pruned: dict[str, int] = {}
    for event_type in event_types:
        period = retention.get(event_type, default)
        if period is None:
            continue
        result = session.execute(
            update(AccessEventRecord)
            .where(
                AccessEventRecord.event_type == event_type,
                AccessEventRecord.pruned_at.is_(None),
                AccessEventRecord.log_index.is_not(None),
                AccessEventRecord.occurred_at < now - period,
            )
            .values(
                actor_id=None,
                subject=None,
                source_address=None,
                personal_salt=None,
                client_id=None,
                request_id=None,
                purpose=None,
                claims_released=[],
                detail={},
                pruned_at=now,
            )
        )
        if result.rowcount:  # type: ignore[attr-defined]
            pruned[event_type] = int(result.rowcount)  # type: ignore[attr-defined]
    return pruned
