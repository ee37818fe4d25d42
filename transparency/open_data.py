"""What the public open data pages publish: the daily counts of sign-ins per agency and method and
of consent given and withdrawn per agency, over the last days that are final, with small counts
suppressed; and the same as JSON and CSV.

Suppression (statistical disclosure control): a count below `min_count` is not shown, because a
count of one or two can single a person out ("the only sign-in to this agency that day"). Each
day's total over all agencies is shown too (the charts), so a single suppressed count in a day
could be worked out by subtracting the shown ones from the total: then the next smallest count
of that day and measure is suppressed as well. A total below `min_count` is itself suppressed.
Counts of zero are not listed; they single no one out. Nothing else is published (no totals
per agency over the period), so no other subtraction reaches a suppressed count.

Only days that are final are published (transparency.statistics.last_final_day): today is
partial, and its small counts are the most identifying.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.models import Client
from idp.web.spreadsheets import spreadsheet_safe
from transparency.statistics import (
    SETTLE_LIFETIME,
    DailyCount,
    Measure,
    daily_counts,
    day_bounds,
    days_between,
    last_final_day,
)

PUBLISHED_MEASURES = (Measure.SIGN_INS, Measure.CONSENTS_GIVEN, Measure.CONSENTS_WITHDRAWN)
PUBLISHED_DAYS = 30
CSV_COLUMNS = ("day", "measure", "client_id", "agency", "method", "count", "suppressed")


@dataclass(frozen=True)
class PublishedCount:
    """One published count; `count` is None when suppressed. `agency` is the agency's public
    name (None for an agency no longer registered, or for sign-ins outside any agency's
    request); `method` is the sign-in method (sign-ins only)."""

    day: date
    measure: Measure
    client_id: str | None
    agency: str | None
    method: str | None
    count: int | None

    @property
    def suppressed(self) -> bool:
        return self.count is None


@dataclass(frozen=True)
class OpenData:
    days: list[date]
    min_count: int
    counts: list[PublishedCount]
    # Per measure, the day's total over every agency and method, one per day (None: suppressed).
    totals: dict[Measure, list[int | None]]
    # When the next day becomes final and the publication changes.
    changes_at: datetime


def suppress(values: Sequence[int], *, min_count: int) -> tuple[list[int | None], bool]:
    """One day's counts of one measure with the small ones suppressed (see the module's
    docstring), and whether their total is suppressed too."""
    total = sum(values)
    if total < min_count:
        return [None] * len(values), True
    shown: list[int | None] = [v if v >= min_count else None for v in values]
    hidden = [n for n, v in enumerate(shown) if v is None]
    if len(hidden) == 1:
        others = [n for n, v in enumerate(shown) if v is not None]
        shown[min(others, key=lambda n: values[n])] = None
    return shown, False


def publish(
    session: Session, *, now: datetime, min_count: int, days: int = PUBLISHED_DAYS
) -> OpenData:
    """The open data of the `days` final days up to the newest one."""
    last_day = last_final_day(session, now=now)
    every_day = days_between(last_day - timedelta(days=days - 1), last_day)
    counts = [
        c
        for c in daily_counts(session, first_day=every_day[0], last_day=last_day, now=now)
        if c.measure in PUBLISHED_MEASURES
    ]
    names = _agency_names(session, {c.client_id for c in counts if c.client_id})
    groups: dict[tuple[date, Measure], list[DailyCount]] = defaultdict(list)
    for count in counts:
        groups[(count.day, count.measure)].append(count)
    published: list[PublishedCount] = []
    totals: dict[Measure, list[int | None]] = {m: [0] * len(every_day) for m in PUBLISHED_MEASURES}
    for (day, measure), group in sorted(groups.items()):
        shown, total_suppressed = suppress([c.count for c in group], min_count=min_count)
        totals[measure][(day - every_day[0]).days] = (
            None if total_suppressed else sum(c.count for c in group)
        )
        published += [
            PublishedCount(day, measure, c.client_id, names.get(c.client_id or ""), c.method, value)
            for c, value in zip(group, shown, strict=True)
        ]
    return OpenData(
        days=every_day,
        min_count=min_count,
        counts=published,
        totals=totals,
        changes_at=day_bounds(last_day + timedelta(days=1))[1] + SETTLE_LIFETIME,
    )


def _agency_names(session: Session, client_ids: set[str]) -> dict[str, str]:
    if not client_ids:
        return {}
    rows = session.execute(
        select(Client.client_id, Client.name).where(Client.client_id.in_(sorted(client_ids)))
    )
    return {str(client_id): str(name) for client_id, name in rows}


def as_json(data: OpenData) -> dict[str, Any]:
    return {
        "first_day": data.days[0].isoformat(),
        "last_day": data.days[-1].isoformat(),
        "days_are": "UTC",
        "min_count": data.min_count,
        "counts": [
            {
                "day": c.day.isoformat(),
                "measure": c.measure.value,
                "client_id": c.client_id,
                "agency": c.agency,
                "method": c.method,
                "count": c.count,
                "suppressed": c.suppressed,
            }
            for c in data.counts
        ],
        "totals": [
            {
                "day": day.isoformat(),
                "measure": measure.value,
                "count": series[n],
                "suppressed": series[n] is None,
            }
            for measure, series in data.totals.items()
            for n, day in enumerate(data.days)
        ],
    }


def as_csv(data: OpenData) -> str:
    """A header and a row per published count; a suppressed count is empty, with `suppressed`
    true. Every cell is spreadsheet-safe (agency names are operators' input)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for c in data.counts:
        writer.writerow(
            spreadsheet_safe(value)
            for value in (
                c.day.isoformat(),
                c.measure.value,
                c.client_id,
                c.agency,
                c.method,
                c.count,
                c.suppressed,
            )
        )
    return buffer.getvalue()
