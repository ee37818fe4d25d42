"""Reading the access log's tree from the database: entries in log order, checkpoints and the
issuer they were signed under, subtree hashes for proofs, and erasing personal fields."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from transparency.entries import ISSUER_MOVED, PERSONAL_FIELDS, PUBLIC_FIELDS
from transparency.merkle import (
    CompactRange,
    consistency_proof,
    inclusion_proof,
    ranges_needed,
    root_from_leaf_hashes,
)
from transparency.models import (
    FIRST_STORED_NODE_LEVEL,
    AccessEventRecord,
    AccessLogQueueEntry,
    LogCheckpoint,
    LogNode,
    LogState,
)
from transparency.time_blocks import index_range_of
from transparency.verification import LoggedEntry

_FIELD_COLUMNS = [getattr(AccessEventRecord, name) for name in (*PUBLIC_FIELDS, *PERSONAL_FIELDS)]


class DatabaseHashSource:
    """`HashSource` over the stored tree: subtrees of FIRST_STORED_NODE_LEVEL and up from
    log_nodes, smaller ones folded from the entries' leaf hashes. `fetch` reads many subtrees in
    two queries; a subtree not fetched costs one query of its own."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._fetched: dict[tuple[int, int], bytes] = {}

    def fetch(self, ranges: Iterable[tuple[int, int]]) -> None:
        """Read these subtrees now: one query for the stored nodes, one for the leaves."""
        stored: set[tuple[int, int]] = set()
        small: list[tuple[int, int]] = []
        for start, end in set(ranges) - self._fetched.keys():
            level = _level_of(start, end)
            if level >= FIRST_STORED_NODE_LEVEL:
                stored.add((level, start >> level))
            else:
                small.append((start, end))
        if stored:
            # One primary-key probe per subtree, ORed: both engines plan it as index lookups.
            # (A row-value IN made SQLite scan the table; two IN lists made PostgreSQL do so.)
            rows = self.session.execute(
                select(LogNode.level, LogNode.index, LogNode.hash).where(
                    or_(
                        *(
                            and_(LogNode.level == level, LogNode.index == index)
                            for level, index in sorted(stored)
                        )
                    )
                )
            )
            for level, index, value in rows:
                self._fetched[(index << level, (index + 1) << level)] = bytes.fromhex(value)
        if small:
            leaves = self._leaves({i for start, end in small for i in range(start, end)})
            for start, end in small:
                if all(i in leaves for i in range(start, end)):
                    self._fetched[(start, end)] = root_from_leaf_hashes(
                        [leaves[i] for i in range(start, end)]
                    )

    def subtree_hash(self, start: int, end: int) -> bytes:
        level = _level_of(start, end)
        known = self._fetched.get((start, end))
        if known is not None:
            return known
        if level < FIRST_STORED_NODE_LEVEL:
            return self._folded_from_leaves(start, end)
        value = self.session.scalar(
            select(LogNode.hash).where(LogNode.level == level, LogNode.index == start >> level)
        )
        if value is None:
            raise LookupError(f"no subtree [{start}, {end}) in the log")
        return bytes.fromhex(value)

    def _leaves(self, indexes: set[int]) -> dict[int, bytes]:
        rows = self.session.execute(
            select(AccessEventRecord.log_index, AccessEventRecord.leaf_hash).where(
                AccessEventRecord.log_index.in_(sorted(indexes))
            )
        )
        return {int(index): bytes.fromhex(leaf) for index, leaf in rows}

    def _folded_from_leaves(self, start: int, end: int) -> bytes:
        leaves = self._leaves(set(range(start, end)))
        if len(leaves) != end - start:
            raise LookupError(f"no subtree [{start}, {end}) in the log")
        return root_from_leaf_hashes([leaves[i] for i in range(start, end)])


def _level_of(start: int, end: int) -> int:
    width = end - start
    level = width.bit_length() - 1
    if width <= 0 or width != 1 << level or start % width:
        raise ValueError("not an aligned perfect subtree")
    return level


def inclusion_proof_from(session: Session, index: int, tree_size: int) -> tuple[bytes, list[bytes]]:
    """Entry `index`'s leaf hash and its inclusion proof in the tree of `tree_size`, read in two
    queries."""
    source = DatabaseHashSource(session)
    source.fetch(
        [(index, index + 1), *ranges_needed(lambda s: inclusion_proof(s, index, tree_size))]
    )
    return source.subtree_hash(index, index + 1), inclusion_proof(source, index, tree_size)


def consistency_proof_from(session: Session, first: int, second: int) -> list[bytes]:
    """The consistency proof from the tree of `first` entries to that of `second`, read in two
    queries."""
    source = DatabaseHashSource(session)
    source.fetch(ranges_needed(lambda s: consistency_proof(s, first, second)))
    return consistency_proof(source, first, second)


def current_tree_size(session: Session) -> int:
    return int(session.scalar(select(LogState.tree_size).where(LogState.id == 1)) or 0)


def logged_entries(
    session: Session, *, since: int = 0, before: int | None = None, chunk: int = 5000
) -> Iterator[LoggedEntry]:
    """Sequenced entries in log order from `since` (up to `before`), read in chunks (memory
    stays flat on a large log)."""
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
    if before is not None:
        statement = statement.where(AccessEventRecord.log_index < before)
    # A reader that stops early (a verification that found tampering) closes the generator, and
    # with it the server-side cursor, instead of leaving it open on the connection.
    with session.execute(statement) as rows:
        for row in rows:
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


def signed_checkpoints(
    session: Session, *, min_tree_size: int = 0, max_tree_size: int | None = None
) -> list[str]:
    statement = select(LogCheckpoint.signed).where(LogCheckpoint.tree_size >= min_tree_size)
    if max_tree_size is not None:
        statement = statement.where(LogCheckpoint.tree_size <= max_tree_size)
    return list(session.scalars(statement.order_by(LogCheckpoint.tree_size)))


def recorded_issuers(session: Session) -> dict[str, str]:
    """Each stored checkpoint and the issuer recorded beside it, for the audit to hold the two
    to each other."""
    return dict(session.execute(select(LogCheckpoint.signed, LogCheckpoint.issuer)).all())


def latest_checkpoint(session: Session) -> LogCheckpoint | None:
    return session.scalar(select(LogCheckpoint).order_by(LogCheckpoint.tree_size.desc()).limit(1))


def checkpoint_at_or_before(session: Session, size: int) -> LogCheckpoint | None:
    """The newest checkpoint of a tree of at most `size` entries."""
    return session.scalar(
        select(LogCheckpoint)
        .where(LogCheckpoint.tree_size <= size)
        .order_by(LogCheckpoint.tree_size.desc())
        .limit(1)
    )


def log_issuer(session: Session) -> str | None:
    """The issuer the log is signed under now: its newest checkpoint's (None before the first,
    and for a checkpoint whose payload named none when 0007 filled the column)."""
    latest = latest_checkpoint(session)
    if latest is None or not latest.issuer:
        return None
    return latest.issuer


def frontier_at(session: Session, size: int) -> CompactRange:
    """The compact range of the first `size` leaves: one stored subtree per bit of `size`."""
    ranges = []
    start = 0
    for level in reversed(range(size.bit_length())):
        if size >> level & 1:
            ranges.append((start, start + (1 << level)))
            start += 1 << level
    source = DatabaseHashSource(session)
    source.fetch(ranges)
    return CompactRange.from_hashes(size, [source.subtree_hash(*r) for r in ranges])


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
        # An issuer move's detail is the log's issuer history: without it the checkpoints
        # signed before the move could not be checked any more.
        if period is None or event_type == ISSUER_MOVED:
            continue
        cutoff = now - period
        # Only the positions that can hold an entry that old are read (transparency.time_blocks).
        positions = index_range_of(session, since=None, until=cutoff)
        within = (
            [AccessEventRecord.log_index < positions.stop] if positions.stop is not None else []
        )
        result = session.execute(
            update(AccessEventRecord)
            .where(
                AccessEventRecord.event_type == event_type,
                AccessEventRecord.pruned_at.is_(None),
                AccessEventRecord.log_index.is_not(None),
                *within,
                AccessEventRecord.occurred_at < cutoff,
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
