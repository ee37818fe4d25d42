"""Tables of the access log: the queue, sealed entries, the tree's state, stored subtrees, signed
checkpoints, the time bounds of blocks of entries, and the daily counts kept of days that
ended (transparency.statistics)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from idp.storage.database import Base, UtcDateTime

# The review filters on fields an entry may lack; their indexes hold only entries that have one.
NULLABLE_FILTERS = ("subject", "client_id", "source_address")


class AccessLogQueueEntry(Base):
    """An event a request wrote that is not yet in the tree. Its public fields are one canonical
    JSON document, written once by the request and read once by the sequencer, so the write on
    the request's path is as small as an insert gets. The personal fields are columns, so erasure
    reaches entries still queued. The sequencer moves entries into `access_events` in batches."""

    __tablename__ = "access_log_queue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_fields: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[str | None] = mapped_column(String(128))
    subject: Mapped[str | None] = mapped_column(String(64))
    source_address: Mapped[str | None] = mapped_column(String(64))


class AccessEventRecord(Base):
    """One access log entry, placed in the Merkle tree. No password, code, token, secret or
    assertion is ever stored.

    Personal fields (actor_id, subject, source_address) are covered only by the salted
    `personal_commitment`, which `content_hash` includes, so they can be erased without breaking
    any proof. `leaf_hash` binds the content hash to the entry's position `log_index`.
    """

    __tablename__ = "access_events"
    __table_args__ = (
        Index("ix_access_events_log_index", "log_index", unique=True),
        # Review filters (transparency.search): each column, then the position, for keyset pages
        # newest first. The subject index also serves erasure. A filter is always an equality,
        # so entries without the field (erased, pruned, a system's) need no place in its index.
        # A time range is a range of positions (transparency.time_blocks), not an index.
        *(
            Index(
                f"ix_access_events_{column}_log_index",
                column,
                "log_index",
                postgresql_where=text(f"{column} IS NOT NULL"),
                sqlite_where=text(f"{column} IS NOT NULL"),
            )
            for column in NULLABLE_FILTERS
        ),
        Index("ix_access_events_event_type_log_index", "event_type", "log_index"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    event_type: Mapped[str] = mapped_column(String(64))
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(128))
    subject: Mapped[str | None] = mapped_column(String(64))
    client_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(64))
    source_address: Mapped[str | None] = mapped_column(String(64))
    claims_released: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    personal_salt: Mapped[str | None] = mapped_column(String(32))
    personal_commitment: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    log_index: Mapped[int] = mapped_column(BigInteger)
    leaf_hash: Mapped[str] = mapped_column(String(64))
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Past its retention period the entry keeps only its hashes, time and type (prune_entries).
    pruned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LogState(Base):
    """The one row describing the tree so far: its size and its frontier (compact range)."""

    __tablename__ = "log_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    frontier: Mapped[list[str]] = mapped_column(JSON)
    sequenced_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# Subtrees of 16 leaves and more are stored; a smaller one is folded from at most 8 leaf hashes
# of access_events when a proof needs it. Storing every level would write about two node rows per
# entry; this writes one per 16.
FIRST_STORED_NODE_LEVEL = 4


class LogNode(Base):
    """The hash of a perfect subtree of level FIRST_STORED_NODE_LEVEL or more: level k covers
    2**k leaves starting at index * 2**k. Proofs read O(log n) of these."""

    __tablename__ = "log_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))


class LogCheckpoint(Base):
    """A signed statement of the tree's size and root at one moment (a compact JWS), and the
    issuer it was signed under (its `iss`), which a node compares with its own at start."""

    __tablename__ = "log_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, unique=True)
    root_hash: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    signed: Mapped[str] = mapped_column(Text)


class CountedDay(Base):
    """A day (UTC) whose counts are in `daily_statistics`, counted once after it ended and every
    entry of it was sequenced. A day without events has this row and no counts."""

    __tablename__ = "daily_statistics_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    counted_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DailyStatistic(Base):
    """How many events of one measure one agency had on one counted day, by sign-in method.
    `client_id` and `method` are "" where the entries named none (the key cannot hold NULL)."""

    __tablename__ = "daily_statistics"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    measure: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    method: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


# Positions per block of LogTimeBlock. Fixed by migration 0015, which filled the blocks of the
# entries already stored: changing it needs a migration that rebuilds them.
ENTRIES_PER_TIME_BLOCK = 256


class LogTimeBlock(Base):
    """Bounds on the times of the entries around one block of ENTRIES_PER_TIME_BLOCK positions,
    which turn a time range into a range of positions (transparency.time_blocks): the latest
    time of any entry up to the block's end, and the earliest of any entry from its start on.
    Both only grow from block to block."""

    __tablename__ = "log_time_blocks"
    __table_args__ = (
        Index("ix_log_time_blocks_latest_through_at", "latest_through_at", "block"),
        Index("ix_log_time_blocks_earliest_from_at", "earliest_from_at", "block"),
    )

    block: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    latest_through_at: Mapped[datetime] = mapped_column(UtcDateTime)
    earliest_from_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The block's own entries, so a search skips blocks inside its range that hold none of it.
    own_earliest_at: Mapped[datetime] = mapped_column(UtcDateTime)
    own_latest_at: Mapped[datetime] = mapped_column(UtcDateTime)
