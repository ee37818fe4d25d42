"""The sequencer: gives new access log entries their place in the Merkle tree, in batches, and
signs a checkpoint of the grown tree.

Writers never wait for it: an entry is appended with its content hash only (O(1), no lock). The
sequencer serializes itself by updating the single log_state row first; on PostgreSQL that row
lock makes concurrent sequencers (one per gateway process) take turns, and every read after it
sees what the previous turn committed. Entries are numbered in the order they are sequenced.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from consent.checkpoints import sign_checkpoint
from consent.log_entries import leaf_data
from consent.merkle import CompactRange, leaf_hash
from consent.models import AccessEventRecord, LogCheckpoint, LogNode, LogState
from idp.database import Database
from idp.jose import SigningKey

log = logging.getLogger("consent.sequencer")


@dataclass(frozen=True)
class SequencingResult:
    appended: int
    tree_size: int
    root_hash: str
    checkpoint_signed: bool
    more_pending: bool


def sequence_pending(
    session: Session,
    *,
    key: SigningKey,
    issuer: str,
    now: datetime,
    batch_size: int = 5000,
) -> SequencingResult:
    session.execute(update(LogState).where(LogState.id == 1).values(sequenced_at=now))
    state = session.execute(
        select(LogState).where(LogState.id == 1).execution_options(populate_existing=True)
    ).scalar_one()
    compact = CompactRange.from_hashes(state.tree_size, [bytes.fromhex(h) for h in state.frontier])
    pending = session.execute(
        select(AccessEventRecord.id, AccessEventRecord.content_hash)
        .where(AccessEventRecord.log_index.is_(None))
        .order_by(AccessEventRecord.id)
        .limit(batch_size + 1)
    ).all()
    batch = pending[:batch_size]
    placed: list[dict[str, object]] = []
    nodes: list[dict[str, object]] = []
    for entry_id, entry_content_hash in batch:
        index = compact.size
        leaf = leaf_hash(leaf_data(index, entry_content_hash))
        for level, node_index, value in compact.append(leaf):
            nodes.append({"level": level, "index": node_index, "hash": value.hex()})
        placed.append({"id": entry_id, "log_index": index, "leaf_hash": leaf.hex()})
    if placed:
        session.execute(update(AccessEventRecord), placed)
        session.execute(insert(LogNode), nodes)
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
        appended=len(placed),
        tree_size=compact.size,
        root_hash=root,
        checkpoint_signed=signed,
        more_pending=len(pending) > batch_size,
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
        except Exception:  # a failed turn is retried next interval; the log keeps its entries
            log.exception("sequencing the access log failed")
        await asyncio.sleep(interval_seconds)
