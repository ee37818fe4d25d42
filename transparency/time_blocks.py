"""Where in the log a time range lies: per block of positions, bounds on the entries' times that
turn `since`/`until` into a `log_index` range, kept exact by the sequencer.

Entries are numbered in the order the sequencer takes them from the queue, which is nearly but
not exactly the order of their `occurred_at`: the time is read when the request builds its event,
the queue id is drawn at commit, transactions commit in any order, and several gateway processes
(each with its own clock) queue entries. So no entry's time says where it lies. What is exact is
a pair of monotone envelopes, stored per block of ENTRIES_PER_BLOCK positions:

- `latest_through_at` of block b: the latest time of any entry in blocks 0..b (a running
  maximum, so it never decreases from one block to the next);
- `earliest_from_at` of block b: the earliest time of any entry in block b or after it (a
  running minimum from the end, so it never decreases either).

Every entry in a block before the first one whose `latest_through_at` is at or after `since` is
earlier than `since`; every entry from the first block whose `earliest_from_at` is at or after
`until` on is at or after `until`. So every entry with since <= occurred_at < until lies between
those two blocks, whatever the order of times, and a search scans only that range of positions
(and still checks each entry's time). Out-of-order times only widen the range: an entry stamped
far in the future or sequenced long after its time makes searches near it scan more, never miss.
Each block's own earliest and latest time then leave out the blocks inside the range that hold
no entry of it, so such an entry costs a search its own block rather than all those between.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from transparency.models import ENTRIES_PER_TIME_BLOCK, LogTimeBlock

_BLOCKS = cast(Table, LogTimeBlock.__table__)
# A search reads each run of candidate blocks with one query; beyond this many it reads the
# whole range with one instead.
MAX_RUNS = 8


@dataclass(frozen=True)
class IndexRange:
    """Positions `start <= log_index < stop` (no upper end when `stop` is None)."""

    start: int
    stop: int | None

    @property
    def empty(self) -> bool:
        return self.stop is not None and self.stop <= self.start


def index_range_of(
    session: Session, *, since: datetime | None, until: datetime | None
) -> IndexRange:
    """The positions that hold every entry with since <= occurred_at < until (either end open).
    Two lookups on the block envelopes' indexes; the range may hold entries outside the time
    range too, so the caller still compares `occurred_at`."""
    start, stop = 0, None
    if since is not None:
        first = session.scalar(
            select(_BLOCKS.c.block)
            .where(_BLOCKS.c.latest_through_at >= since)
            .order_by(_BLOCKS.c.latest_through_at, _BLOCKS.c.block)
            .limit(1)
        )
        if first is None:  # every entry so far is earlier than `since`
            return IndexRange(0, 0)
        start = first * ENTRIES_PER_TIME_BLOCK
    if until is not None:
        beyond = session.scalar(
            select(_BLOCKS.c.block)
            .where(_BLOCKS.c.earliest_from_at >= until)
            .order_by(_BLOCKS.c.earliest_from_at, _BLOCKS.c.block)
            .limit(1)
        )
        if beyond is not None:
            stop = beyond * ENTRIES_PER_TIME_BLOCK
    return IndexRange(start, stop)


def index_ranges_of(
    session: Session, *, since: datetime | None, until: datetime | None
) -> list[IndexRange]:
    """Like index_range_of, as runs of blocks that can hold an entry of the time range, newest
    first: the blocks in between whose own entries are all outside it are left out, so one
    entry stamped far from its neighbours costs a search its own block, not all those between.
    Past MAX_RUNS runs (a log in great disorder) the one range is given."""
    whole = index_range_of(session, since=since, until=until)
    if whole.empty:
        return []
    blocks = _BLOCKS.c
    statement = select(blocks.block).where(blocks.block >= whole.start // ENTRIES_PER_TIME_BLOCK)
    if whole.stop is not None:
        statement = statement.where(blocks.block < whole.stop // ENTRIES_PER_TIME_BLOCK)
    if since is not None:
        statement = statement.where(blocks.own_latest_at >= since)
    if until is not None:
        statement = statement.where(blocks.own_earliest_at < until)
    runs: list[IndexRange] = []
    for (block,) in session.execute(statement.order_by(blocks.block.desc())):
        start = block * ENTRIES_PER_TIME_BLOCK
        if runs and runs[-1].start == start + ENTRIES_PER_TIME_BLOCK:
            runs[-1] = IndexRange(start, runs[-1].stop)
        elif len(runs) == MAX_RUNS:
            return [whole]
        else:
            runs.append(IndexRange(start, start + ENTRIES_PER_TIME_BLOCK))
    # Entries the sequencer places after this read are not searched: as if it had come a moment
    # later, like any search that pages while the log grows.
    return runs


def record_placed_times(session: Session, first_index: int, times: Sequence[datetime]) -> None:
    """Extend the envelopes with entries just placed at first_index, first_index + 1, ...

    Called by the sequencer in the turn that places them, under its lock on the tree, so the
    blocks always describe exactly the entries stored."""
    if not times:
        return
    earliest = min(times)
    # Every stored block now has these entries after it.
    blocks = _BLOCKS.c
    session.execute(
        update(_BLOCKS).where(blocks.earliest_from_at > earliest).values(earliest_from_at=earliest)
    )
    last = session.execute(
        select(blocks.block, blocks.latest_through_at, blocks.own_earliest_at, blocks.own_latest_at)
        .order_by(blocks.block.desc())
        .limit(1)
    ).first()
    latest = last.latest_through_at if last is not None else None
    earliest_after = _earliest_from_each_block(first_index, times)
    offset = 0
    rows: list[dict[str, object]] = []
    for block, earliest_here in earliest_after:
        end = min(len(times), (block + 1) * ENTRIES_PER_TIME_BLOCK - first_index)
        own = times[offset:end]
        latest = max(own) if latest is None else max(latest, *own)
        offset = end
        if last is not None and block == last.block:
            # The block was partly filled; its earliest_from_at was lowered above.
            session.execute(
                update(_BLOCKS)
                .where(blocks.block == block)
                .values(
                    latest_through_at=latest,
                    own_earliest_at=min(last.own_earliest_at, *own),
                    own_latest_at=max(last.own_latest_at, *own),
                )
            )
        else:
            rows.append(
                {
                    "block": block,
                    "latest_through_at": latest,
                    "earliest_from_at": earliest_here,
                    "own_earliest_at": min(own),
                    "own_latest_at": max(own),
                }
            )
    if rows:
        session.execute(insert(_BLOCKS), rows)


def _earliest_from_each_block(
    first_index: int, times: Sequence[datetime]
) -> list[tuple[int, datetime]]:
    """For each block the new entries reach: the earliest of them in that block or after it."""
    blocks: list[tuple[int, datetime]] = []
    running: datetime | None = None
    position = first_index + len(times)
    for time in reversed(times):
        position -= 1
        running = time if running is None else min(running, time)
        block = position // ENTRIES_PER_TIME_BLOCK
        if blocks and blocks[-1][0] == block:
            blocks[-1] = (block, running)
        else:
            blocks.append((block, running))
    return blocks[::-1]
