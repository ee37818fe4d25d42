"""The sequencer: moves queued access log entries into the Merkle tree, in batches, and signs a
checkpoint of the grown tree.

Writers never wait for it: a request only queues its entry (one narrow INSERT). A turn seals each
queued entry (a fresh salt, the personal commitment, the content hash), numbers it, stores it in
`access_events` with its leaf hash and the subtree hashes it completes, and removes it from the
queue, all in one transaction. Turns serialize on the single log_state row, so every gateway
process can run a sequencer. Entries are numbered in the order they are sequenced.

A turn signs only a tree that extends the newest signed checkpoint, under the issuer that
checkpoint names; `move_issuer` (the operator's `idp issuer move`) is the one way to change it.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from anyio import to_thread
from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session

from idp.events import issuer_moved
from idp.keys.jose import SigningKey
from idp.storage.bulk_insert import insert_rows
from idp.storage.database import Database
from idp.storage.outage import is_database_unavailable
from transparency.access_log import queued_values
from transparency.checkpoints import Checkpoint, InvalidCheckpoint, read_checkpoint, sign_checkpoint
from transparency.entries import PERSONAL_FIELDS, leaf_data, seal_entry
from transparency.merkle import CompactRange, leaf_hash
from transparency.models import (
    FIRST_STORED_NODE_LEVEL,
    AccessEventRecord,
    AccessLogQueueEntry,
    LogCheckpoint,
    LogNode,
    LogState,
)
from transparency.time_blocks import record_placed_times

log = logging.getLogger("transparency.sequencer")
_QUEUE = cast(Table, AccessLogQueueEntry.__table__)
# Plain table statements and driver-level inserts: a turn handles thousands of rows and needs
# none of the ORM's bookkeeping.
_SELECT_QUEUED = select(
    _QUEUE.c.id, _QUEUE.c.public_fields, *(_QUEUE.c[name] for name in PERSONAL_FIELDS)
)
_ENTRIES = cast(Table, AccessEventRecord.__table__)
_NODES = cast(Table, LogNode.__table__)


class SequencingRefused(Exception):
    """The sequencer will not sign: what it would sign does not extend the log's newest signed
    checkpoint. Entries stay queued; nothing is lost."""


class IssuerMismatch(SequencingRefused):
    """This process signs as another issuer than the log's newest checkpoint names."""

    def __init__(self, *, log_issuer: str, node_issuer: str) -> None:
        self.log_issuer = log_issuer
        self.node_issuer = node_issuer
        super().__init__(
            f"this node's issuer is {node_issuer}, but the access log is signed as "
            f"{log_issuer}: start it with IDP_ISSUER={log_issuer}, or, if the gateway moves, "
            f"run `idp issuer move --to {node_issuer}`"
        )


@dataclass(frozen=True)
class SequencingResult:
    appended: int
    tree_size: int
    root_hash: str
    checkpoint_signed: bool
    more_pending: bool


@dataclass(frozen=True)
class SealedBatch:
    """Queued entries sealed ahead of a turn (salts, commitments, content hashes), with the
    queue rows they came from; their places in the tree are given under the tree's lock."""

    queue_ids: list[int]
    entries: list[dict[str, Any]]
    more_pending: bool


class BatchTakenMeanwhile(Exception):
    """Another process sequenced some of a sealed batch's rows first: the turn is rolled back."""


@dataclass(frozen=True)
class IssuerMove:
    from_issuer: str
    to_issuer: str
    log_index: int  # where the issuer.moved entry was placed


def seal_queued(row: Mapping[str, Any]) -> dict[str, Any]:
    """The sealed entry (access_events columns but its place) of one queue row."""
    return seal_entry(json.loads(row["public_fields"]), row)


def sequence_pending(
    session: Session,
    *,
    key: SigningKey,
    verification_keys: Sequence[SigningKey],
    issuer: str,
    now: datetime,
    batch_size: int = 250,
    sealed: SealedBatch | None = None,
) -> SequencingResult:
    """One turn: place up to `batch_size` queued entries (or the `sealed` batch, which must
    still be queued) and sign the grown tree.

    The turn first checks that the stored tree is the one the newest checkpoint signed (with
    `verification_keys`, every key that ever signed one) and that the checkpoint names `issuer`.
    Otherwise it raises SequencingRefused: after checkpoints were removed or entries rewritten
    a new signature would vouch for whatever the tables now hold."""
    state, compact = _lock_tree(session, now)
    newest = _newest_checkpoint(session, compact, verification_keys)
    if newest is not None and newest.issuer != issuer:
        raise IssuerMismatch(log_issuer=newest.issuer, node_issuer=issuer)
    batch = (
        sealed if sealed is not None else seal_batch(read_queued(session, batch_size), batch_size)
    )
    if batch.entries:
        taken = session.execute(delete(_QUEUE).where(_QUEUE.c.id.in_(batch.queue_ids)))
        if taken.rowcount != len(batch.queue_ids):  # type: ignore[attr-defined]
            raise BatchTakenMeanwhile
        _place(session, state, compact, batch.entries)
    # The first turn signs the empty tree too, so a log always has a checkpoint to extend.
    signed = newest is None or bool(batch.entries)
    if signed:
        _sign(session, compact, key=key, issuer=issuer, now=now)
    return SequencingResult(
        appended=len(batch.entries),
        tree_size=compact.size,
        root_hash=compact.root().hex(),
        checkpoint_signed=signed,
        more_pending=batch.more_pending,
    )


def read_queued(session: Session, batch_size: int) -> list[dict[str, Any]]:
    """The oldest `batch_size` queued rows, and one more if there are more (to tell)."""
    query = _SELECT_QUEUED.order_by(_QUEUE.c.id).limit(batch_size + 1)
    return [dict(row) for row in session.execute(query).mappings()]


def seal_batch(queued: list[dict[str, Any]], batch_size: int) -> SealedBatch:
    """Seal the first `batch_size` of `queued` (read_queued's rows): CPU only, no database."""
    rows = queued[:batch_size]
    return SealedBatch(
        queue_ids=[row["id"] for row in rows],
        entries=[seal_queued(row) for row in rows],
        more_pending=len(queued) > batch_size,
    )


def move_issuer(
    session: Session,
    *,
    to_issuer: str,
    actor_id: str,
    key: SigningKey,
    verification_keys: Sequence[SigningKey],
    now: datetime,
) -> IssuerMove:
    """Move the log to a new issuer: place an issuer.moved entry at once (ahead of the queue)
    and sign the tree that ends with it under `to_issuer`, in one turn. So every checkpoint
    before the entry names the old issuer and every one after it the new, which is how a
    verifier knows the issuer of each checkpoint's time."""
    state, compact = _lock_tree(session, now)
    newest = _newest_checkpoint(session, compact, verification_keys)
    if newest is None:
        raise SequencingRefused(
            "the access log has no checkpoint yet: the first node that signs one sets its issuer"
        )
    if newest.issuer == to_issuer:
        raise SequencingRefused(f"the access log is already signed as {to_issuer}")
    event = issuer_moved(
        operator=actor_id, from_issuer=newest.issuer, to_issuer=to_issuer
    ).occurred(now)
    index = compact.size
    _place(session, state, compact, [seal_queued(queued_values(event))])
    _sign(session, compact, key=key, issuer=to_issuer, now=now)
    return IssuerMove(from_issuer=newest.issuer, to_issuer=to_issuer, log_index=index)


def _lock_tree(session: Session, now: datetime) -> tuple[LogState, CompactRange]:
    # Updating the one log_state row first serializes sequencer turns on every engine
    # (PostgreSQL row lock, SQLite write lock); every read after it sees the previous turn.
    session.execute(update(LogState).where(LogState.id == 1).values(sequenced_at=now))
    state = session.execute(
        select(LogState).where(LogState.id == 1).execution_options(populate_existing=True)
    ).scalar_one()
    compact = CompactRange.from_hashes(state.tree_size, [bytes.fromhex(h) for h in state.frontier])
    return state, compact


def _newest_checkpoint(
    session: Session, compact: CompactRange, keys: Sequence[SigningKey]
) -> Checkpoint | None:
    """The newest checkpoint, which must sign exactly the stored tree (each turn places entries
    and signs them in one transaction, so an honest log never holds anything else)."""
    signed = session.scalar(
        select(LogCheckpoint.signed).order_by(LogCheckpoint.tree_size.desc()).limit(1)
    )
    if signed is None:
        if compact.size:
            raise SequencingRefused(
                f"the access log holds {compact.size} entries but no signed checkpoint: "
                "checkpoints were removed; not signing (run `idp audit verify`)"
            )
        return None
    try:
        newest = read_checkpoint(signed, keys=keys, issuer=None)
    except InvalidCheckpoint as error:
        raise SequencingRefused(
            f"the access log's newest checkpoint is not valid ({error}); not signing "
            "(run `idp audit verify`)"
        ) from error
    if newest.tree_size != compact.size or newest.root_hash != compact.root().hex():
        raise SequencingRefused(
            f"the stored tree ({compact.size} entries) is not the one the newest checkpoint "
            f"signed ({newest.tree_size} entries): checkpoints were removed or the tree was "
            "rewritten; not signing (run `idp audit verify`)"
        )
    return newest


def _place(
    session: Session, state: LogState, compact: CompactRange, sealed: list[dict[str, Any]]
) -> None:
    """Number sealed entries from the tree's size on and store them, their leaves, the
    subtrees they complete and the time bounds of their blocks; the log_state row gets the
    grown frontier."""
    entries: list[dict[str, object]] = []
    nodes: list[dict[str, object]] = []
    first_index = compact.size
    for entry in sealed:
        index = compact.size
        leaf = leaf_hash(leaf_data(index, entry["content_hash"]))
        for level, node_index, value in compact.append(leaf):
            # Smaller subtrees are folded from the entries' leaf hashes when a proof needs them.
            if level >= FIRST_STORED_NODE_LEVEL:
                nodes.append({"level": level, "index": node_index, "hash": value.hex()})
        entries.append({**entry, "log_index": index, "leaf_hash": leaf.hex()})
    connection = session.connection()
    insert_rows(connection, _ENTRIES, entries)
    insert_rows(connection, _NODES, nodes)
    record_placed_times(session, first_index, [entry["occurred_at"] for entry in sealed])
    state.tree_size = compact.size
    state.frontier = [h.hex() for h in compact.to_hashes()]


def _sign(
    session: Session, compact: CompactRange, *, key: SigningKey, issuer: str, now: datetime
) -> None:
    root = compact.root().hex()
    session.add(
        LogCheckpoint(
            tree_size=compact.size,
            root_hash=root,
            issuer=issuer,
            issued_at=now,
            signed=sign_checkpoint(
                key=key, issuer=issuer, tree_size=compact.size, root_hash=root, now=now
            ),
        )
    )


def sequence_everything(
    database: Database,
    *,
    key: Callable[[], SigningKey],
    verification_keys: Callable[[], Sequence[SigningKey]],
    issuer: str,
    clock: Callable[[], datetime],
    batch_size: int = 250,
) -> SequencingResult:
    """Run batches until nothing is pending; each batch commits on its own.

    A batch is read and sealed (most of a turn's CPU) before the turn takes the tree's lock,
    which on SQLite is the database's one write lock: requests' commits wait only for the
    placing and the signature (ADR 0025)."""
    while True:
        with database.unit_of_work() as session:
            queued = read_queued(session, batch_size)
        sealed = seal_batch(queued, batch_size)
        try:
            with database.unit_of_work() as session:
                result = sequence_pending(
                    session,
                    key=key(),
                    verification_keys=verification_keys(),
                    issuer=issuer,
                    now=clock(),
                    batch_size=batch_size,
                    sealed=sealed,
                )
        except BatchTakenMeanwhile:
            continue  # another process placed some of them: read what is left
        if not result.more_pending:
            return result


async def sequence_periodically(
    database: Database,
    *,
    key: Callable[[], SigningKey],
    verification_keys: Callable[[], Sequence[SigningKey]],
    issuer: str,
    clock: Callable[[], datetime],
    interval_seconds: float,
    batch_size: int,
) -> None:
    """The background task each gateway process runs; several processes simply take turns."""
    while True:
        try:
            # anyio's thread, not asyncio.to_thread: cancelled at shutdown, it lets a turn under
            # way finish and give its pooled connection back before the engine is disposed.
            await to_thread.run_sync(
                functools.partial(
                    sequence_everything,
                    database,
                    key=key,
                    verification_keys=verification_keys,
                    issuer=issuer,
                    clock=clock,
                    batch_size=batch_size,
                )
            )
        except SequencingRefused as refusal:  # retried each interval, so it keeps being said
            log.error("not sequencing the access log: %s", refusal)
        except Exception as error:  # a failed turn is retried next interval; entries wait
            # An unreachable database is logged once by the database's outage log, not at
            # every turn; anything else is a bug worth its traceback.
            if not is_database_unavailable(error):
                log.exception("sequencing the access log failed")
        await asyncio.sleep(interval_seconds)
