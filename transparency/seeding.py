"""Synthetic access log entries for test and benchmark databases (`idp audit seed`): a realistic
mix of events over many citizens and agencies and a month of time, written straight into the
queue and then sequenced and signed like any other entry.

A log is append-only: seeded entries can never be taken out again. Each one says so in its
detail (`"synthetic": true`), and the command refuses to run without being told that it is
writing to a database that is not production.
"""

from __future__ import annotations

import ipaddress
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert

from idp.events import EventType
from idp.ports import AccessEvent
from idp.storage.database import Database
from transparency.access_log import queued_values
from transparency.models import AccessLogQueueEntry
from transparency.statistics import forget_counts

CHUNK = 10_000  # rows per INSERT (and per transaction)

# (event type, actor type, share of the mix, outcome, what it releases)
_MIX: tuple[tuple[EventType, str, float, str, tuple[str, ...]], ...] = (
    (EventType.SIGN_IN_SUCCEEDED, "account", 0.22, "success", ()),
    (EventType.SIGN_IN_FAILED, "account", 0.04, "failure", ()),
    (EventType.SIGN_IN_THROTTLED, "system", 0.01, "failure", ()),
    (EventType.CONSENT_GIVEN, "account", 0.05, "success", ()),
    (EventType.CONSENT_WITHDRAWN, "account", 0.01, "success", ()),
    (EventType.AUTHORIZATION_CODE_ISSUED, "account", 0.17, "success", ()),
    (EventType.TOKEN_ISSUED, "client", 0.20, "success", ("sub", "name", "email")),
    (EventType.TOKEN_REFRESHED, "client", 0.08, "success", ()),
    (EventType.TOKEN_INTROSPECTED, "client", 0.04, "success", ()),
    (EventType.USERINFO_ANSWERED, "client", 0.18, "success", ("sub", "name", "email", "birthdate")),
)


@dataclass(frozen=True)
class Population:
    citizens: int
    agencies: int
    days: int = 30

    @classmethod
    def for_entries(cls, entries: int) -> Population:
        """About twenty entries per citizen and two hundred agencies at most."""
        return cls(citizens=max(100, entries // 20), agencies=max(5, min(200, entries // 5000)))


def synthetic_events(
    count: int, population: Population, *, now: datetime, seed: int = 1
) -> Iterator[AccessEvent]:
    """`count` events in time order over the `population.days` before `now`."""
    chooser = random.Random(seed)  # noqa: S311  (repeatable test data, not a secret)
    kinds = list(_MIX)
    weights = [kind[2] for kind in _MIX]
    start = now - timedelta(days=population.days)
    step = timedelta(days=population.days) / max(count, 1)
    network = ipaddress.ip_network("198.18.0.0/15")  # RFC 2544 benchmarking addresses
    for number in range(count):
        event_type, actor_type, _, outcome, released = chooser.choices(kinds, weights)[0]
        subject = f"seed-citizen-{chooser.randrange(population.citizens):09d}"
        client_id = f"seed-agency-{chooser.randrange(population.agencies):04d}"
        yield AccessEvent(
            event_type=event_type,
            occurred_at=start + step * number,
            actor_type=actor_type,
            actor_id=client_id if actor_type == "client" else subject,
            outcome=outcome,
            client_id=client_id,
            request_id=uuid.UUID(int=chooser.getrandbits(128)).hex,
            source_address=str(network[chooser.randrange(network.num_addresses)]),
            subject=subject,
            claims_released=released,
            detail=_detail(event_type),
        )


_SIGN_INS = frozenset(
    {EventType.SIGN_IN_SUCCEEDED, EventType.SIGN_IN_FAILED, EventType.SIGN_IN_THROTTLED}
)


def _detail(event_type: EventType) -> dict[str, object]:
    # Sign-in entries name their method, as the real ones do (idp.events), so statistics by
    # method (transparency.statistics) see a realistic log.
    if event_type in _SIGN_INS:
        return {"synthetic": True, "method": "pwd"}
    return {"synthetic": True}


def write_synthetic_entries(
    database: Database,
    count: int,
    *,
    now: datetime,
    progress: Callable[[int], None] = lambda done: None,
    seed: int = 1,
) -> int:
    """Queues `count` synthetic entries in chunks; the caller sequences them."""
    population = Population.for_entries(count)
    events = synthetic_events(count, population, now=now, seed=seed)
    written = 0
    while written < count:
        size = min(CHUNK, count - written)
        rows = [queued_values(next(events)) for _ in range(size)]
        with database.unit_of_work() as session:
            session.execute(insert(AccessLogQueueEntry), rows)
        written += size
        progress(written)
    with database.unit_of_work() as session:
        # The seeded days have ended: their kept counts would no longer be right.
        forget_counts(
            session, first_day=(now - timedelta(days=population.days)).date(), last_day=now.date()
        )
    return written
