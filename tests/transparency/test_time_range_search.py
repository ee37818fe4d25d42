"""Searching the sealed log by time range is exact: `since`/`until` become a range of positions
(transparency.time_blocks), and every entry in the time range is found, none outside it, also
when times are out of order across blocks, with every other filter and across pages. On SQLite
and PostgreSQL, below HTTP (the admin API over HTTP is in tests/admin/test_admin_api.py)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from gateway.schema import downgrade_database, upgrade_database
from idp.keys.jose import generate_signing_key
from idp.ports import AccessEvent
from idp.storage.database import Database, create_database_engine
from transparency.access_log import queued_values
from transparency.models import (
    ENTRIES_PER_TIME_BLOCK,
    AccessEventRecord,
    AccessLogQueueEntry,
    LogTimeBlock,
)
from transparency.search import EntryFilter, FoundEntry, search_entries
from transparency.sequencer import sequence_pending
from transparency.store import prune_entries
from transparency.time_blocks import IndexRange, index_range_of, index_ranges_of

KEY = generate_signing_key(alg="ES256", kid="time-range-test")
ISSUER = "https://id.example.gov"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
START = NOW - timedelta(days=3)
TICK = timedelta(minutes=1)
TINY = timedelta(microseconds=1)
TYPES = ("token.issued", "userinfo.answered", "sign_in.succeeded")
# Turns of different sizes, so blocks are filled across turns and turns span blocks.
TURNS = (100, 37, ENTRIES_PER_TIME_BLOCK, 1, 500, 5000)


def _chooser(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311  (repeatable test data, not a secret)


def _event(number: int, occurred_at: datetime, chooser: random.Random) -> AccessEvent:
    return AccessEvent(
        event_type=chooser.choice(TYPES),
        occurred_at=occurred_at,
        actor_type="client",
        actor_id=None,
        outcome=chooser.choice(("success", "success", "failure")),
        client_id=chooser.choice(("agency-a", "agency-b", None)),
        source_address=chooser.choice(("192.0.2.1", "192.0.2.2", None)),
        subject=chooser.choice(("citizen-1", "citizen-2", "citizen-3", None)),
        detail={"n": number},
    )


def _jittered_times(count: int, chooser: random.Random) -> list[datetime]:
    """Nearly in order, as several nodes and concurrent commits queue them: up to five minutes
    either side of the entry's turn, a few exact duplicates, one entry sequenced two days late
    and one stamped a day ahead (a node with a wrong clock)."""
    times = [START + TICK * n + timedelta(seconds=chooser.randint(-300, 300)) for n in range(count)]
    for n in range(0, count, 97):
        times[n] = times[n - 1] if n else times[n]
    times[count * 2 // 3] = START + TICK * (count // 3) - timedelta(days=2)
    times[count // 3] = START + TICK * (count // 3) + timedelta(days=1)
    return times


def _place(database: Database, times: Sequence[datetime], *, seed: int = 7) -> None:
    """Queue entries at these times, in this order, and sequence them in turns of many sizes."""
    chooser = _chooser(seed)
    rows = [queued_values(_event(n, occurred_at, chooser)) for n, occurred_at in enumerate(times)]
    with database.unit_of_work() as session:
        session.execute(insert(AccessLogQueueEntry), rows)
    turns = iter(TURNS * 100)
    more = True
    while more:
        with database.unit_of_work() as session:
            more = sequence_pending(
                session,
                key=KEY,
                verification_keys=[KEY],
                issuer=ISSUER,
                now=NOW,
                batch_size=next(turns),
            ).more_pending


def _every_entry(database: Database) -> list[AccessEventRecord]:
    with database.unit_of_work() as session:
        return list(
            session.scalars(select(AccessEventRecord).order_by(AccessEventRecord.log_index))
        )


def _expected(entries: list[AccessEventRecord], matching: EntryFilter) -> list[int]:
    def matches(entry: AccessEventRecord) -> bool:
        return (
            all(
                wanted is None or getattr(entry, name) == wanted
                for name, wanted in (
                    ("subject", matching.subject),
                    ("client_id", matching.client_id),
                    ("event_type", matching.event_type),
                    ("outcome", matching.outcome),
                    ("source_address", matching.source_address),
                )
            )
            and (matching.since is None or entry.occurred_at >= matching.since)
            and (matching.until is None or entry.occurred_at < matching.until)
        )

    return [e.log_index for e in reversed(entries) if matches(e)]


def _found_by_paging(database: Database, matching: EntryFilter, *, limit: int) -> list[int]:
    found: list[FoundEntry] = []
    before = None
    for _ in range(10_000):
        with database.unit_of_work() as session:
            page = search_entries(session, matching, before=before, limit=limit)
        found.extend(page.entries)
        if page.next_before is None:
            break
        before = page.next_before
    assert all(
        (matching.since is None or f.occurred_at >= matching.since)
        and (matching.until is None or f.occurred_at < matching.until)
        for f in found
    )
    return [f.log_index for f in found]


@pytest.fixture
def jittered_log(migrated_database: Database) -> list[AccessEventRecord]:
    _place(migrated_database, _jittered_times(3 * ENTRIES_PER_TIME_BLOCK + 77, _chooser(3)))
    return _every_entry(migrated_database)


def _boundaries(entries: list[AccessEventRecord]) -> list[tuple[datetime | None, datetime | None]]:
    """Time ranges whose ends fall exactly on entries' times, just beside them, on the
    out-of-order entries, across blocks, and past either end of the log."""
    times = sorted({e.occurred_at for e in entries})
    late = entries[len(entries) * 2 // 3].occurred_at
    early = entries[len(entries) // 3].occurred_at
    middle = times[len(times) // 2]
    return [
        (times[10], times[400]),
        (times[10] + TINY, times[400] + TINY),
        (times[10] - TINY, times[400] - TINY),
        (middle, middle + TINY),  # exactly one instant
        (middle, middle),  # empty by definition
        (late, late + timedelta(hours=1)),
        (late - TINY, late + TINY),
        (early, None),
        (early - TINY, early + TINY),
        (None, times[300]),
        (times[-50], None),
        (None, times[0]),
        (times[-1] + TINY, None),
        (times[0] - timedelta(days=30), times[-1] + timedelta(days=30)),
        (times[500], times[100]),  # since after until
    ]


def test_every_time_range_finds_exactly_its_entries_across_pages(
    migrated_database: Database, jittered_log: list[AccessEventRecord]
) -> None:
    for since, until in _boundaries(jittered_log):
        matching = EntryFilter(since=since, until=until)
        expected = _expected(jittered_log, matching)
        for limit in (25, 500):
            assert _found_by_paging(migrated_database, matching, limit=limit) == expected, (
                since,
                until,
                limit,
            )


@pytest.mark.parametrize(
    "other",
    [
        {"subject": "citizen-2"},
        {"client_id": "agency-a"},
        {"event_type": "token.issued"},
        {"outcome": "failure"},
        {"source_address": "192.0.2.2"},
        {"event_type": "userinfo.answered", "client_id": "agency-b", "subject": "citizen-1"},
    ],
)
def test_a_time_range_with_each_other_filter_is_exact(
    migrated_database: Database, jittered_log: list[AccessEventRecord], other: dict[str, str]
) -> None:
    for since, until in _boundaries(jittered_log):
        matching = EntryFilter(since=since, until=until, **other)
        expected = _expected(jittered_log, matching)
        assert _found_by_paging(migrated_database, matching, limit=20) == expected, (since, until)


def _blocks(database: Database) -> list[tuple[int, datetime, datetime, datetime, datetime]]:
    block = LogTimeBlock
    with database.unit_of_work() as session:
        rows = session.execute(
            select(
                block.block,
                block.latest_through_at,
                block.earliest_from_at,
                block.own_earliest_at,
                block.own_latest_at,
            ).order_by(block.block)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_the_blocks_bound_every_entry_time_exactly(
    migrated_database: Database, jittered_log: list[AccessEventRecord]
) -> None:
    times = [e.occurred_at for e in jittered_log]
    assert [e.log_index for e in jittered_log] == list(range(len(times)))
    per = ENTRIES_PER_TIME_BLOCK
    expected = [
        (
            block,
            max(times[: (block + 1) * per]),
            min(times[block * per :]),
            min(times[block * per : (block + 1) * per]),
            max(times[block * per : (block + 1) * per]),
        )
        for block in range(-(-len(times) // per))
    ]
    assert _blocks(migrated_database) == expected


def test_a_search_reads_only_the_positions_of_its_time_range(
    migrated_database: Database,
) -> None:
    chooser = _chooser(5)
    count = 4 * ENTRIES_PER_TIME_BLOCK
    # Out of order by up to five minutes, nothing further: the range is its own blocks.
    times = [START + TICK * n + timedelta(seconds=chooser.randint(-300, 300)) for n in range(count)]
    _place(migrated_database, times)
    assert [e.occurred_at for e in _every_entry(migrated_database)] == times
    since, until = START + TICK * 600, START + TICK * 700
    with migrated_database.unit_of_work() as session:
        positions = index_range_of(session, since=since, until=until)
        assert index_range_of(session, since=max(times) + TINY, until=None).empty
        assert index_range_of(session, since=None, until=min(times)).empty
    inside = [n for n, t in enumerate(times) if since <= t < until]
    assert positions.stop is not None
    assert positions.start <= min(inside) and max(inside) < positions.stop
    assert positions.start >= 512 and positions.stop <= 768


def test_a_search_skips_the_blocks_between_an_entry_stamped_ahead_and_its_range(
    migrated_database: Database,
) -> None:
    """As in a seeded log: the first entry is stamped after all the others."""
    count = 8 * ENTRIES_PER_TIME_BLOCK
    times = [START + TICK * n for n in range(count)]
    times[0] = START + TICK * count
    _place(migrated_database, times)
    since, until = START + TICK * 1000, START + TICK * 1100
    with migrated_database.unit_of_work() as session:
        assert index_range_of(session, since=since, until=until).start == 0
        ranges = index_ranges_of(session, since=since, until=until)
        # Blocks 3 and 4 hold the range, block 0 the entry stamped ahead.
    assert ranges == [IndexRange(768, 1280), IndexRange(0, 256)]
    matching = EntryFilter(since=since, until=until)
    expected = _expected(_every_entry(migrated_database), matching)
    assert _found_by_paging(migrated_database, matching, limit=30) == expected
    assert len(expected) == 100


def test_an_empty_log_finds_nothing_in_any_range(migrated_database: Database) -> None:
    with migrated_database.unit_of_work() as session:
        page = search_entries(session, EntryFilter(since=START, until=NOW))
        assert page.entries == [] and page.next_before is None
        assert search_entries(session, EntryFilter(until=NOW)).entries == []


def test_an_entry_sequenced_long_after_its_time_is_still_pruned(
    migrated_database: Database,
) -> None:
    times = [NOW - timedelta(days=2) + TICK * n for n in range(3 * ENTRIES_PER_TIME_BLOCK)]
    times[-1] = NOW - timedelta(days=40)  # queued on a node that was cut off for weeks
    _place(migrated_database, times)
    with migrated_database.unit_of_work() as session:
        pruned = prune_entries(session, retention={"default": timedelta(days=30)}, now=NOW)
    assert sum(pruned.values()) == 1
    entries = _every_entry(migrated_database)
    assert [e.log_index for e in entries if e.pruned_at is not None] == [len(times) - 1]


def test_the_migration_fills_the_blocks_of_a_log_already_stored(empty_database_url: str) -> None:
    upgrade_database(empty_database_url)
    engine = create_database_engine(empty_database_url)
    try:
        database = Database(engine)
        _place(database, _jittered_times(3 * ENTRIES_PER_TIME_BLOCK + 5, _chooser(11)))
        made_by_sequencer = _blocks(database)
        engine.dispose()
        downgrade_database(empty_database_url, "0011")
        upgrade_database(empty_database_url)
        assert _blocks(database) == made_by_sequencer
        assert len(made_by_sequencer) == 4
    finally:
        engine.dispose()
