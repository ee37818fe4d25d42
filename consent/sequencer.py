"""The sequencer: moves queued access log entries into the Merkle tree, in batches, and signs a
checkpoint of the grown tree.

Writers never wait for it: a request only queues its entry (one narrow INSERT). A turn seals each
queued entry (a fresh salt, the personal commitment, the content hash), numbers it, stores it in
`access_events` with its leaf hash and the subtree hashes it completes, and removes it from the
queue, all in one transaction. Turns serialize on the single log_state row, so every gateway
process can run a sequencer. Entries are numbered in the order they are sequenced.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.orm import Session

from consent.checkpoints import sign_checkpoint
from consent.log_entries import PERSONAL_FIELDS, leaf_data, seal_entry
from consent.merkle import CompactRange, leaf_hash
from consent.models import (
    FIRST_STORED_NODE_LEVEL,
    AccessEventRecord,
    AccessLogQueueEntry,
    LogCheckpoint,
    LogNode,
    LogState,
)
from idp.bulk_insert import insert_rows
from idp.database import Database
from idp.database_outage import is_database_unavailable
from idp.jose import SigningKey

log = logging.getLogger("consent.sequencer")
_QUEUE = cast(Table, AccessLogQueueEntry.__table__)
# Plain table statements and driver-level inserts: a turn handles thousands of rows and needs
# none of the ORM's bookkeeping.
_SELECT_QUEUED = select(
    _QUEUE.c.id, _QUEUE.c.public_fields, *(_QUEUE.c[name] for name in PERSONAL_FIELDS)
)
_ENTRIES = cast(Table, AccessEventRecord.__table__)
_NODES = cast(Table, LogNode.__table__)


@dataclass(frozen=True)
class SequencingResult:
    appended: int
    tree_size: int
    root_hash: str
    checkpoint_signed: bool
    more_pending: bool


def seal_queued(row: Mapping[str, Any]) -> dict[str, Any]:
    """The sealed entry (access_events columns but its place) of one queue row."""
    return seal_entry(json.loads(row["public_fields"]), row)


def sequence_pending(
    session: Session,
    *,
    key: SigningKey,
    issuer: str,
    now: datetime,
    batch_size: int = 5000,
) -> SequencingResult:
    # Updating the one log_state row first serializes sequencer turns on every engine
    # (PostgreSQL row lock, SQLite write lock); every read after it sees the previous turn.
    session.execute(update(LogState).where(LogState.id == 1).values(sequenced_at=now))
    state = session.execute(
        select(LogState).where(LogState.id == 1).execution_options(populate_existing=True)
    ).scalar_one()
    compact = CompactRange.from_hashes(state.tree_size, [bytes.fromhex(h) for h in state.frontier])
    queued = (
        session.execute(_SELECT_QUEUED.order_by(_QUEUE.c.id).limit(batch_size + 1)).mappings().all()
    )
    batch = queued[:batch_size]
    entries: list[dict[str, object]] = []
    nodes: list[dict[str, object]] = []
    for queued_entry in batch:
        entry = seal_queued(dict(queued_entry))
        index = compact.size
        leaf = leaf_hash(leaf_data(index, entry["content_hash"]))
        for level, node_index, value in compact.append(leaf):
            # Smaller subtrees are folded from the entries' leaf hashes when a proof needs them.
            if level >= FIRST_STORED_NODE_LEVEL:
                nodes.append({"level": level, "index": node_index, "hash": value.hex()})
        entries.append({**entry, "log_index": index, "leaf_hash": leaf.hex()})
    if entries:
        connection = session.connection()
        insert_rows(connection, _ENTRIES, entries)
        insert_rows(connection, _NODES, nodes)
        session.execute(delete(_QUEUE).where(_QUEUE.c.id.in_([q["id"] for q in batch])))
        state.tree_size = compact.size
        state.frontier = [h.hex() for h in compact.to_hashes()]
    root = compact.root().hex()
    latest = session.scalar(select(func.max(LogCheckpoint.tree_size)))
    signed = latest is None or latest != compact.size
    if signed:
        session.add(
            LogCheckpoint(
                tree_size=compact.size,
                root_hash=root,
                issued_at=now,
                signed=sign_checkpoint(
                    key=key, issuer=issuer, tree_size=compact.size, root_hash=root, now=now
                ),
            )
        )
    return SequencingResult(
        appended=len(entries),
        tree_size=compact.size,
        root_hash=root,
        checkpoint_signed=signed,
        more_pending=len(queued) > batch_size,
    )


def sequence_everything(
    database: Database,
    *,
    key: Callable[[], SigningKey],
    issuer: str,
    clock: Callable[[], datetime],
    batch_size: int = 5000,
) -> SequencingResult:
    """Run batches until nothing is pending; each batch commits on its own."""
    while True:
        with database.unit_of_work() as session:
            result = sequence_pending(
                session, key=key(), issuer=issuer, now=clock(), batch_size=batch_size
            )
        if not result.more_pending:
            return result


async def sequence_periodically(
    database: Database,
    *,
    key: Callable[[], SigningKey],
    issuer: str,
    clock: Callable[[], datetime],
    interval_seconds: float,
    batch_size: int,
) -> None:
    """The background task each gateway process runs; several processes simply take turns."""
    while True:
        try:
            await asyncio.to_thread(
                sequence_everything,
                database,
                key=key,
                issuer=issuer,
                clock=clock,
                batch_size=batch_size,
            )
        except Exception as error:  # a failed turn is retried next interval; entries wait
            # An unreachable database is logged once by the database's outage log, not at
            # every turn; anything else is a bug worth its traceback.
            if not is_database_unavailable(error):
                log.exception("sequencing the access log failed")
        await asyncio.sleep(interval_seconds)
