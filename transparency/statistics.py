"""Daily counts of the access log (sign-ins per agency and method, failed and throttled sign-ins,
consent given and withdrawn, tokens issued), and their pivots into series for charts.

The log must stay fast at ten million entries, so no request counts the whole table. A day that
has ended never changes, so each ended day is counted once, by one range scan of the log over
that day's positions alone (transparency.time_blocks), and kept in `daily_statistics` (marked
done in `daily_statistics_days`); only days that are not final yet (today, and yesterday for a few
minutes after midnight) are counted live, and never kept.

The counts are filled on demand, by the first caller that asks for a day, rather than by the
sequencer: a sequencer turn runs every few seconds in every process and its transaction is the
log's write path, so it stays as small as it is; on demand, only days someone asks about are
counted, a database seeded or restored with a past month fills itself the first time its
statistics are read, and no schedule has to run at midnight. Two requests counting the same day
at once: the first to claim it keeps its counts, the other skips (ON CONFLICT DO NOTHING), so
neither fails. Kept counts also outlive `idp audit prune`, which clears the agency of entries
past their retention; erasure changes nothing here (no count is by citizen).

A day is final once it ended `SETTLE_LIFETIME` ago (a request that began before midnight may
commit its entry just after) and no entry of it still waits in the sequencer's queue (when
the sequencer cannot sign, entries wait there, and counting the sealed ones would freeze a day
short). Days are UTC days. `idp audit seed` writes into past days; it forgets their kept counts.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum, unique
from typing import cast

from sqlalchemy import Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from idp.events import EventType
from idp.storage.bulk_insert import insert_rows
from transparency.entries import decode_time
from transparency.models import AccessEventRecord, AccessLogQueueEntry, CountedDay, DailyStatistic
from transparency.time_blocks import index_range_of

SETTLE_LIFETIME = timedelta(minutes=10)
_STATISTICS = cast(Table, DailyStatistic.__table__)
_DAYS = cast(Table, CountedDay.__table__)


@unique
class Measure(StrEnum):
    """What is counted. The values are stored and published: never change one."""

    SIGN_INS = "sign_ins"
    FAILED_SIGN_INS = "failed_sign_ins"
    THROTTLED_SIGN_INS = "throttled_sign_ins"
    CONSENTS_GIVEN = "consents_given"
    CONSENTS_WITHDRAWN = "consents_withdrawn"
    TOKENS_ISSUED = "tokens_issued"


MEASURE_OF_EVENT: dict[str, Measure] = {
    EventType.SIGN_IN_SUCCEEDED: Measure.SIGN_INS,
    EventType.SIGN_IN_FAILED: Measure.FAILED_SIGN_INS,
    EventType.SIGN_IN_THROTTLED: Measure.THROTTLED_SIGN_INS,
    EventType.CONSENT_GIVEN: Measure.CONSENTS_GIVEN,
    EventType.CONSENT_WITHDRAWN: Measure.CONSENTS_WITHDRAWN,
    EventType.TOKEN_ISSUED: Measure.TOKENS_ISSUED,
}
# Sign-in events name their method in `detail` (idp.events.sign_in_*); the others have none.
BY_METHOD = frozenset({Measure.SIGN_INS, Measure.FAILED_SIGN_INS, Measure.THROTTLED_SIGN_INS})


@dataclass(frozen=True)
class DailyCount:
    """`count` events of `measure` on `day` (UTC) for agency `client_id` by sign-in `method`
    (None where the entries named none). Only counts above zero are listed."""

    day: date
    measure: Measure
    client_id: str | None
    method: str | None
    count: int


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The day's first moment and the next day's (UTC)."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


def days_between(first_day: date, last_day: date) -> list[date]:
    """Every day from `first_day` to `last_day`, both included."""
    return [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]


def last_final_day(session: Session, *, now: datetime) -> date:
    """The newest day whose counts can no longer change (see the module's docstring)."""
    last = (now - SETTLE_LIFETIME).astimezone(UTC).date() - timedelta(days=1)
    oldest_queued = session.scalar(
        select(AccessLogQueueEntry.public_fields).order_by(AccessLogQueueEntry.id).limit(1)
    )
    if oldest_queued is not None:
        queued_at = decode_time(json.loads(oldest_queued)["occurred_at"])
        last = min(last, queued_at.date() - timedelta(days=1))
    return last


def daily_counts(
    session: Session, *, first_day: date, last_day: date, now: datetime
) -> list[DailyCount]:
    """The counts of every day from `first_day` to `last_day` (both included), by day, measure,
    agency and method. Final days are read from the kept counts, and counted and kept the
    first time (the caller's unit of work commits them); the rest up to today are counted live.
    Never commits."""
    if last_day < first_day:
        return []
    today = now.astimezone(UTC).date()
    final_through = last_final_day(session, now=now)
    counted = set(
        session.scalars(
            select(CountedDay.day).where(CountedDay.day >= first_day, CountedDay.day <= last_day)
        )
    )
    found = _kept_counts(session, first_day, last_day) if counted else []
    for day in days_between(first_day, min(last_day, today)):
        if day in counted:
            continue
        fresh = count_day(session, day)
        if day <= final_through:
            _keep(session, day, fresh, now=now)
        found += fresh
    return sorted(found, key=_order)


def count_day(session: Session, day: date) -> list[DailyCount]:
    """One day's counts from the sealed entries: the day's times become a range of positions
    (transparency.time_blocks), scanned once on the log_index index; `occurred_at` is still
    compared, since the range may hold a few entries of the days around it."""
    start, end = day_bounds(day)
    positions = index_range_of(session, since=start, until=end)
    if positions.empty:
        return []
    record = AccessEventRecord
    method = record.detail["method"].as_string()
    statement = (
        select(record.event_type, record.client_id, method, func.count())
        .where(
            record.log_index >= positions.start,
            record.occurred_at >= start,
            record.occurred_at < end,
            record.event_type.in_(list(MEASURE_OF_EVENT)),
        )
        .group_by(record.event_type, record.client_id, method)
    )
    if positions.stop is not None:
        statement = statement.where(record.log_index < positions.stop)
    rows = session.execute(statement)
    totals: dict[tuple[Measure, str | None, str | None], int] = defaultdict(int)
    for event_type, client_id, named_method, count in rows:
        measure = MEASURE_OF_EVENT[event_type]
        kept_method = str(named_method) if measure in BY_METHOD and named_method else None
        totals[(measure, client_id or None, kept_method)] += int(count)
    return [
        DailyCount(day, measure, client_id, kept_method, count)
        for (measure, client_id, kept_method), count in totals.items()
    ]


def forget_counts(session: Session, *, first_day: date, last_day: date) -> None:
    """Drop the kept counts of these days, to be counted again when next asked. Only for
    `idp audit seed`, the one writer of entries into days that have ended. Never commits."""
    for model in (DailyStatistic, CountedDay):
        session.execute(delete(model).where(model.day >= first_day, model.day <= last_day))


def _kept_counts(session: Session, first_day: date, last_day: date) -> list[DailyCount]:
    # Plain rows, not ORM objects: a month of 200 agencies is tens of thousands of them.
    kept = _STATISTICS.c
    rows = session.execute(
        select(kept.day, kept.measure, kept.client_id, kept.method, kept.count).where(
            kept.day >= first_day, kept.day <= last_day
        )
    )
    return [
        DailyCount(day, Measure(measure), client_id or None, method or None, count)
        for day, measure, client_id, method, count in rows
    ]


def _keep(session: Session, day: date, counts: Sequence[DailyCount], *, now: datetime) -> None:
    """Keep a final day's counts, unless another request is keeping them: the day's row is
    claimed first (INSERT ... ON CONFLICT DO NOTHING; PostgreSQL makes a second claim wait
    for the first to commit, then skip), so only its claimant inserts the counts."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    claim = (
        dialect.insert(_DAYS)
        .values(day=day, counted_at=now)
        .on_conflict_do_nothing()
        .returning(_DAYS.c.day)
    )
    if session.execute(claim).first() is None:  # claimed by another request
        return
    insert_rows(
        session.connection(),
        _STATISTICS,
        [
            {
                "day": c.day,
                "measure": c.measure.value,
                "client_id": c.client_id or "",
                "method": c.method or "",
                "count": c.count,
            }
            for c in counts
        ],
    )


def _order(count: DailyCount) -> tuple[date, str, str, str]:
    return (count.day, count.measure.value, count.client_id or "", count.method or "")


# Pivots: a series is one number per day of `days`, in order; days without events are 0.


def daily_totals(
    counts: Iterable[DailyCount], *, days: Sequence[date], measure: Measure
) -> list[int]:
    """The measure's count per day over every agency and method."""
    position = {day: n for n, day in enumerate(days)}
    series = [0] * len(days)
    for count in counts:
        if count.measure is measure and count.day in position:
            series[position[count.day]] += count.count
    return series


def daily_series_by_agency(
    counts: Iterable[DailyCount], *, days: Sequence[date], measure: Measure
) -> dict[str | None, list[int]]:
    """The measure's count per day for each agency (client_id) that had any, over methods."""
    return _series_by(counts, days, measure, lambda c: c.client_id)


def daily_series_by_method(
    counts: Iterable[DailyCount], *, days: Sequence[date], measure: Measure
) -> dict[str | None, list[int]]:
    """The measure's count per day for each sign-in method that had any, over agencies."""
    return _series_by(counts, days, measure, lambda c: c.method)


def _series_by(
    counts: Iterable[DailyCount],
    days: Sequence[date],
    measure: Measure,
    key: Callable[[DailyCount], str | None],
) -> dict[str | None, list[int]]:
    position = {day: n for n, day in enumerate(days)}
    series: dict[str | None, list[int]] = {}
    for count in counts:
        if count.measure is measure and count.day in position:
            values = series.setdefault(key(count), [0] * len(days))
            values[position[count.day]] += count.count
    return dict(sorted(series.items(), key=lambda item: item[0] or ""))
