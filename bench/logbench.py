"""Benchmark of the tamper-evident access log, in process (no HTTP): what the log costs the token
endpoint, how fast a large log verifies, and how proofs grow with the tree.

    python bench/logbench.py [--backend sqlite|postgresql] [--entries 1000000] [--json out.json]

1. token endpoint: client_credentials requests through handle_token_request, each in its own
   unit of work, with the real DatabaseAccessLog and with a log that does nothing, interleaved
   in rounds on one thread; plus raw appends (DatabaseAccessLog.record) per second.
2. verification: a log of --entries entries is written straight into the database, sequenced
   with sequence_everything, then checked end to end with verify_log.
3. proofs: inclusion and consistency proofs as the /transparency endpoints make them (the
   subtrees a proof needs, read in two queries) for tree sizes 1k, 10k, 100k and 1M (those not
   larger than the log): time, hashes, bytes and SQL queries against log2(n).

See bench/README.md, section "Access log", for what the figures mean.
"""

from __future__ import annotations

import argparse
import base64
import ipaddress
import json
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
for folder in (BENCH_DIR, REPO_ROOT):  # measurement.py beside this file; tests/ of the checkout
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from measurement import CpuSnapshot, cpu_snapshot, source_revision  # noqa: E402
from sqlalchemy import Engine, event, func, insert, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from consent.records import DatabaseConsentRecords  # noqa: E402
from gateway.schema import upgrade_database  # noqa: E402
from idp.clients import ClientCache, register_client  # noqa: E402
from idp.events import EventType  # noqa: E402
from idp.keys.jose import SigningKey  # noqa: E402
from idp.keys.keyring import Keyring  # noqa: E402
from idp.keys.sealing import Sealer  # noqa: E402
from idp.oauth.context import OperationContext, Provider  # noqa: E402
from idp.oauth.requests import Headers, ProtocolRequest  # noqa: E402
from idp.oauth.server import allow_loopback_http, handle_token_request  # noqa: E402
from idp.ports import AccessEvent, AccessLog  # noqa: E402
from idp.settings import IdpSettings  # noqa: E402
from idp.storage.database import Database, create_database_engine  # noqa: E402
from tests.databases import (  # noqa: E402
    POSTGRES_ADMIN_URL,
    create_postgres_database,
    drop_postgres_database,
)
from transparency.access_log import DatabaseAccessLog, queued_values  # noqa: E402
from transparency.checkpoints import CHECKPOINT_ALG  # noqa: E402
from transparency.merkle import (  # noqa: E402
    root_from_source,
    verify_consistency,
    verify_inclusion,
)
from transparency.models import AccessLogQueueEntry  # noqa: E402
from transparency.sequencer import sequence_everything  # noqa: E402
from transparency.settings import AccessLogSettings  # noqa: E402
from transparency.store import (  # noqa: E402
    DatabaseHashSource,
    consistency_proof_from,
    current_tree_size,
    inclusion_proof_from,
    latest_checkpoint,
    logged_entries,
    signed_checkpoints,
)
from transparency.verification import verify_log  # noqa: E402

ISSUER = "http://localhost:8000"  # never contacted: everything runs in this process
SOURCE_ADDRESS = "127.0.0.1"
PROOF_SIZES = (1_000, 10_000, 100_000, 1_000_000)
HASH_BYTES = 32
INSERT_CHUNK = 10_000  # rows per INSERT statement (and per transaction) while generating
SEQUENCE_BATCH = 50_000  # entries per sequencer transaction while generating
GATEWAY_BATCH = int(AccessLogSettings.model_fields["batch_size"].default)  # the gateway's default
PROGRESS_EVERY_S = 5.0


class BenchError(Exception):
    """Something the benchmark did not expect: a refused token, a log that does not verify."""


# -- safety and bookkeeping ------------------------------------------------------------------------


def require_loopback(url: str, what: str) -> None:
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SystemExit(f"refusing to run: {what} {url!r} is not a loopback address")


class Deadline:
    """The whole run's time budget: every loop checks it, so nothing runs away."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def check(self, what: str) -> None:
        if time.monotonic() > self.end:
            raise BenchError(f"time limit of {self.seconds:g} s reached during {what}")


class Progress:
    """Prints a line at most every PROGRESS_EVERY_S seconds: done, rate, ETA."""

    def __init__(self, label: str, total: int) -> None:
        self.label = label
        self.total = total
        self.started = time.perf_counter()
        self.printed = self.started

    def update(self, done: int, *, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self.printed < PROGRESS_EVERY_S:
            return
        self.printed = now
        elapsed = now - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - done) / rate if rate > 0 else float("nan")
        print(
            f"    {self.label}: {done:,}/{self.total:,} ({100 * done / max(self.total, 1):.0f} %)"
            f"  {elapsed:.0f} s  {rate:,.0f}/s  ETA {eta:.0f} s",
            flush=True,
        )


# -- the gateway's parts, built like gateway/app.py does -------------------------------------------


class NoAccessLog:
    """The baseline: an access log that records nothing."""

    def record(self, session: Session, event: AccessEvent) -> None:
        """Drop the event."""


@dataclass
class Setup:
    settings: IdpSettings
    database: Database
    keyring: Keyring
    clients: ClientCache
    client_id: str
    client_secret: str
    database_name: str | None  # the PostgreSQL database, for its backends' CPU

    def provider(self, access_log: AccessLog) -> Provider:
        return Provider(
            settings=self.settings,
            keyring=self.keyring,
            access_log=access_log,
            consent=DatabaseConsentRecords(),
            clock=lambda: datetime.now(UTC),
            clients=self.clients,
            sealer=Sealer(self.settings.keys_dir),
        )

    def checkpoint_key(self) -> SigningKey:
        return self.keyring.signing_key(CHECKPOINT_ALG)


def build_setup(database_url: str, workdir: Path, database_name: str | None = None) -> Setup:
    settings = IdpSettings(issuer=ISSUER, database_url=database_url, keys_dir=workdir / "keys")
    allow_loopback_http(settings)
    upgrade_database(database_url)
    database = Database(create_database_engine(database_url, pool_size=2))
    keyring = Keyring(settings.keys_dir, retention=settings.longest_token_lifetime)
    keyring.ensure_initial_keys()
    with database.unit_of_work() as session:
        registered = register_client(
            session,
            name="Log bench agency",
            redirect_uris=[],
            grant_types=["client_credentials"],
            scopes=["openid"],
            issuer=settings.issuer,
            now=datetime.now(UTC),
        )
        client_id = registered.client.client_id
    assert registered.client_secret is not None
    return Setup(
        settings=settings,
        database=database,
        keyring=keyring,
        clients=ClientCache(settings.client_cache_lifetime),
        client_id=client_id,
        client_secret=registered.client_secret,
        database_name=database_name,
    )


def token_request(setup: Setup) -> ProtocolRequest:
    pair = f"{quote(setup.client_id, safe='')}:{quote(setup.client_secret, safe='')}"
    basic = "Basic " + base64.b64encode(pair.encode()).decode()
    return ProtocolRequest(
        method="POST",
        url=setup.settings.endpoint("/token"),
        form=[("grant_type", "client_credentials")],
        headers=Headers(
            [("Authorization", basic), ("Content-Type", "application/x-www-form-urlencoded")]
        ),
    )


def sample_event(number: int, client_id: str, now: datetime) -> AccessEvent:
    """An event like those the gateway writes most: tokens issued and userinfo answered."""
    if number % 3 == 2:
        return AccessEvent(
            event_type=EventType.USERINFO_ANSWERED,
            occurred_at=now,
            actor_type="client",
            actor_id=client_id,
            client_id=client_id,
            subject=f"sub-{number % 50_000:08d}",
            outcome="success",
            request_id=uuid.uuid4().hex,
            source_address=SOURCE_ADDRESS,
            claims_released=("email", "family_name", "given_name", "sub"),
        )
    grant = "authorization_code" if number % 3 == 1 else "client_credentials"
    return AccessEvent(
        event_type=EventType.TOKEN_ISSUED,
        occurred_at=now,
        actor_type="client",
        actor_id=client_id,
        client_id=client_id,
        subject=f"sub-{number % 50_000:08d}" if grant == "authorization_code" else None,
        outcome="success",
        request_id=uuid.uuid4().hex,
        source_address=SOURCE_ADDRESS,
        detail={
            "grant_type": grant,
            "scope": "openid profile" if grant == "authorization_code" else "",
            "refresh_token": grant == "authorization_code",
        },
    )


# -- 1. the cost of the log on the token endpoint --------------------------------------------------


@dataclass
class ArmTotals:
    tokens: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0  # this process: the whole gateway's work on SQLite
    db_cpu_s: float = 0.0  # the PostgreSQL backend serving it (0 on SQLite)
    other_cpu_s: float = 0.0  # everything else on the machine meanwhile
    rounds: list[float] = field(default_factory=list)  # tokens/s of each round

    @property
    def per_s(self) -> float:
        return self.tokens / self.wall_s if self.wall_s else 0.0

    def ms_per_token(self, seconds: float) -> float:
        return round(1000 * seconds / self.tokens, 3) if self.tokens else 0.0


def issue_tokens(
    database: Database, provider: Provider, request: ProtocolRequest, count: int, deadline: Deadline
) -> tuple[int, float]:
    """`count` client_credentials tokens, one unit of work each: (issued, wall seconds)."""
    started = time.perf_counter()
    for done in range(count):
        if done % 100 == 0:
            deadline.check("the token rounds")
        with database.unit_of_work() as session:
            ctx = OperationContext(
                provider=provider,
                session=session,
                request_id=uuid.uuid4().hex,
                source_address=SOURCE_ADDRESS,
                now=provider.clock(),
            )
            response = handle_token_request(ctx, request)
        body = response.body
        if response.status != 200 or not isinstance(body, dict) or "access_token" not in body:
            raise BenchError(f"token endpoint answered {response.status}: {str(body)[:200]}")
    return count, time.perf_counter() - started


def run_arm(
    setup: Setup, provider: Provider, request: ProtocolRequest, count: int, deadline: Deadline
) -> tuple[int, float, CpuSnapshot, CpuSnapshot]:
    before = cpu_snapshot(None, setup.database_name)
    issued, wall = issue_tokens(setup.database, provider, request, count, deadline)
    return issued, wall, before, cpu_snapshot(None, setup.database_name)


def measure_token_cost(
    setup: Setup, args: argparse.Namespace, deadline: Deadline
) -> dict[str, Any]:
    arms = {
        "with_log": setup.provider(DatabaseAccessLog()),
        "without_log": setup.provider(NoAccessLog()),
    }
    request = token_request(setup)
    per_round = max(1, args.tokens // args.rounds)
    print(
        f"\n[1] token endpoint: {args.rounds} rounds x {per_round} tokens per arm, "
        "interleaved (ABBA), one thread",
        flush=True,
    )
    for provider in arms.values():  # warm-up: statement caches, keyring, client cache
        issue_tokens(setup.database, provider, request, min(200, per_round), deadline)
    totals = {name: ArmTotals() for name in arms}
    for number in range(args.rounds):
        order = list(arms) if number % 2 == 0 else list(reversed(arms))
        for name in order:
            issued, wall, before, after = run_arm(setup, arms[name], request, per_round, deadline)
            arm = totals[name]
            arm.tokens += issued
            arm.wall_s += wall
            arm.cpu_s += after.loadgen - before.loadgen
            arm.db_cpu_s += after.database - before.database
            arm.other_cpu_s += max(
                0.0,
                (after.machine - before.machine)
                - (after.loadgen - before.loadgen)
                - (after.database - before.database),
            )
            arm.rounds.append(issued / wall)
        with_rate, without_rate = totals["with_log"].rounds[-1], totals["without_log"].rounds[-1]
        print(
            f"    round {number + 1}/{args.rounds}: with log {with_rate:,.0f}/s, without "
            f"{without_rate:,.0f}/s, ratio {with_rate / without_rate:.3f}",
            flush=True,
        )
    # Entries the log arm wrote (warm-up included) are still to be sequenced: the gateway's
    # background sequencer does that in the same process, so it is part of the log's cost.
    pending = count_pending(setup)
    started = time.perf_counter()
    result = sequence_everything(
        setup.database,
        key=setup.checkpoint_key,
        verification_keys=setup.keyring.historical_keys,
        issuer=setup.settings.issuer,
        clock=lambda: datetime.now(UTC),
        batch_size=GATEWAY_BATCH,
    )
    sequencing_s = time.perf_counter() - started
    return token_figures(totals, pending, sequencing_s, result.tree_size)


def token_figures(
    totals: dict[str, ArmTotals], pending: int, sequencing_s: float, tree_size: int
) -> dict[str, Any]:
    with_log, without_log = totals["with_log"], totals["without_log"]
    ratios = [a / b for a, b in zip(with_log.rounds, without_log.rounds, strict=True)]
    seq_per_entry = sequencing_s / max(pending, 1)
    with_sequencing = 1 / (1 / with_log.per_s + seq_per_entry)
    cpu_with = (with_log.cpu_s + with_log.db_cpu_s) / with_log.tokens
    cpu_without = (without_log.cpu_s + without_log.db_cpu_s) / without_log.tokens
    wall = with_log.wall_s + without_log.wall_s
    return {
        "tokens_per_arm": with_log.tokens,
        "rounds": len(with_log.rounds),
        "with_log_per_s": round(with_log.per_s, 1),
        "without_log_per_s": round(without_log.per_s, 1),
        "cost_percent": round(100 * (1 - with_log.per_s / without_log.per_s), 2),
        "cost_percent_median_round": round(100 * (1 - statistics.median(ratios)), 2),
        "cost_percent_round_range": [
            round(100 * (1 - max(ratios)), 2),
            round(100 * (1 - min(ratios)), 2),
        ],
        "added_ms_per_token": round(1000 * (1 / with_log.per_s - 1 / without_log.per_s), 3),
        "with_log_cpu_ms_per_token": with_log.ms_per_token(with_log.cpu_s),
        "without_log_cpu_ms_per_token": without_log.ms_per_token(without_log.cpu_s),
        "with_log_db_cpu_ms_per_token": with_log.ms_per_token(with_log.db_cpu_s),
        "without_log_db_cpu_ms_per_token": without_log.ms_per_token(without_log.db_cpu_s),
        "cost_percent_cpu": round(100 * (1 - cpu_without / cpu_with), 2),
        "other_cpu_cores": round((with_log.other_cpu_s + without_log.other_cpu_s) / wall, 2),
        "sequenced_entries": pending,
        "sequencing_s": round(sequencing_s, 3),
        "sequencing_us_per_entry": round(1e6 * seq_per_entry, 1),
        "sequencing_batch": GATEWAY_BATCH,
        "sequenced_tree_size": tree_size,
        "with_log_and_sequencing_per_s": round(with_sequencing, 1),
        "cost_percent_with_sequencing": round(100 * (1 - with_sequencing / without_log.per_s), 2),
    }


def count_pending(setup: Setup) -> int:
    with setup.database.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(AccessLogQueueEntry)) or 0)


def measure_appends(setup: Setup, args: argparse.Namespace, deadline: Deadline) -> dict[str, Any]:
    """DatabaseAccessLog.record alone: one event per transaction, then 100 per transaction."""
    log = DatabaseAccessLog()
    figures: dict[str, Any] = {}
    print("\n[1b] raw appends (DatabaseAccessLog.record)", flush=True)
    for per_txn, transactions in ((1, args.appends), (100, max(1, args.appends // 20))):
        events = 0
        started = time.perf_counter()
        for number in range(transactions):
            deadline.check("the raw appends")
            with setup.database.unit_of_work() as session:
                now = datetime.now(UTC)
                for k in range(per_txn):
                    log.record(session, sample_event(number * per_txn + k, setup.client_id, now))
                    events += 1
        elapsed = time.perf_counter() - started
        figures[f"events_per_s_{per_txn}_per_txn"] = round(events / elapsed, 1)
        figures[f"events_{per_txn}_per_txn"] = events
        print(f"    {per_txn:>3} per transaction: {events:,} events, {events / elapsed:,.0f}/s")
    # The encoding alone, without the database: what queued_values costs per event.
    now = datetime.now(UTC)
    started = time.perf_counter()
    count = 20_000
    for number in range(count):
        queued_values(sample_event(number, setup.client_id, now))
    elapsed = time.perf_counter() - started
    figures["queued_values_per_s"] = round(count / elapsed, 1)
    print(f"    queued_values only (encoding, no database): {count / elapsed:,.0f}/s")
    return figures


# -- 2. generating and verifying a large log -------------------------------------------------------


def generate_log(setup: Setup, total: int, deadline: Deadline) -> dict[str, Any]:
    """`total` entries written in chunks, then sequenced with sequence_everything."""
    print(f"\n[2] generating a log of {total:,} entries ({INSERT_CHUNK:,} per INSERT)", flush=True)
    expected = count_tree_size(setup) + count_pending(setup) + total  # part 1's entries too
    base = datetime.now(UTC) - timedelta(days=30)
    progress = Progress("written", total)
    started = time.perf_counter()
    written = 0
    while written < total:
        deadline.check("writing the entries")
        size = min(INSERT_CHUNK, total - written)
        rows = [
            queued_values(sample_event(n, setup.client_id, base + timedelta(milliseconds=n)))
            for n in range(written, written + size)
        ]
        with setup.database.unit_of_work() as session:
            session.execute(insert(AccessLogQueueEntry), rows)
        written += size
        progress.update(written, force=written == total)
    write_s = time.perf_counter() - started
    size_written = database_bytes(setup)
    print(
        f"    sequencing with sequence_everything, batch_size={SEQUENCE_BATCH:,} "
        "(one signed checkpoint per batch)",
        flush=True,
    )
    batches = 0
    sequence_started = time.perf_counter()

    def clock() -> datetime:  # called once per batch: the only hook into sequence_everything
        nonlocal batches
        deadline.check("sequencing")
        if batches:
            done = min(batches * SEQUENCE_BATCH, total)
            elapsed = time.perf_counter() - sequence_started
            print(
                f"    sequenced: ~{done:,}/{total:,}  {elapsed:.0f} s  {done / elapsed:,.0f}/s",
                flush=True,
            )
        batches += 1
        return datetime.now(UTC)

    result = sequence_everything(
        setup.database,
        key=setup.checkpoint_key,
        verification_keys=setup.keyring.historical_keys,
        issuer=setup.settings.issuer,
        clock=clock,
        batch_size=SEQUENCE_BATCH,
    )
    sequence_s = time.perf_counter() - sequence_started
    size_sequenced = database_bytes(setup)
    if result.tree_size != expected:
        raise BenchError(f"tree size {result.tree_size}, expected {expected}")
    print(
        f"    written in {write_s:.1f} s ({total / write_s:,.0f}/s), sequenced in "
        f"{sequence_s:.1f} s ({total / sequence_s:,.0f}/s), tree size {result.tree_size:,}",
        flush=True,
    )
    return {
        "entries": total,
        "write_s": round(write_s, 2),
        "write_per_s": round(total / write_s, 1),
        "sequence_s": round(sequence_s, 2),
        "sequence_per_s": round(total / sequence_s, 1),
        "sequence_batches": batches,
        "tree_size": result.tree_size,
        "database_mb_after_write": round(size_written / 1e6, 1),
        "database_mb_after_sequencing": round(size_sequenced / 1e6, 1),
    }


def database_bytes(setup: Setup) -> int:
    """The database's size on disk (SQLite: its pages, the WAL left aside)."""
    with setup.database.unit_of_work() as session:
        if setup.database_name:
            return int(session.scalar(text("SELECT pg_database_size(current_database())")) or 0)
        pages = int(session.scalar(text("PRAGMA page_count")) or 0)
        return pages * int(session.scalar(text("PRAGMA page_size")) or 0)


def count_tree_size(setup: Setup) -> int:
    with setup.database.unit_of_work() as session:
        return current_tree_size(session)


def verify_whole_log(setup: Setup, tree_size: int, deadline: Deadline) -> dict[str, Any]:
    print(f"\n[2b] verifying the log ({tree_size:,} entries)", flush=True)
    # Reading alone first: how much of the verification is the database.
    progress = Progress("read", tree_size)
    started = time.perf_counter()
    read = 0
    first_s = 0.0
    with setup.database.unit_of_work() as session:
        for _entry in logged_entries(session):
            read += 1
            if read == 1:
                first_s = time.perf_counter() - started
            if read % 50_000 == 0:
                deadline.check("reading the log")
                progress.update(read)
    read_s = time.perf_counter() - started
    print(
        f"    read only: {read:,} entries in {read_s:.1f} s ({read / read_s:,.0f}/s), "
        f"first entry after {first_s:.2f} s"
    )
    progress = Progress("verified", tree_size)

    def report_progress(done: int) -> None:
        deadline.check("verify_log")
        progress.update(done)

    keys = setup.keyring.historical_keys()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    with setup.database.unit_of_work() as session:
        checkpoints = signed_checkpoints(session)
        report = verify_log(
            logged_entries(session),
            checkpoints,
            keys=keys,
            issuer=setup.settings.issuer,
            progress=report_progress,
        )
    verify_s, verify_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    if not report.ok or report.entries_checked != tree_size:
        raise BenchError(f"the log did not verify: {report.damage} ({report.entries_checked})")
    print(
        f"    verify_log: OK, {report.entries_checked:,} entries, "
        f"{report.checkpoints_checked} checkpoints in {verify_s:.1f} s "
        f"({report.entries_checked / verify_s:,.0f}/s)",
        flush=True,
    )
    return {
        "entries_checked": report.entries_checked,
        "checkpoints_checked": report.checkpoints_checked,
        "verify_s": round(verify_s, 2),
        "verify_cpu_s": round(verify_cpu, 2),
        "entries_per_s": round(report.entries_checked / verify_s, 1),
        "read_only_s": round(read_s, 2),
        "read_only_per_s": round(read / read_s, 1),
        "read_first_entry_s": round(first_s, 3),
        "root_hash": report.root_hash,
    }


# -- 3. proofs against tree size -------------------------------------------------------------------


class QueryCounter:
    """Counts the SQL statements an engine sends (a proof should take two)."""

    def __init__(self, engine: Engine) -> None:
        self.queries = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args: Any) -> None:
        self.queries += 1


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": statistics.median(ordered),
        "p90": ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)],
        "min": ordered[0],
        "max": ordered[-1],
    }


def _timed_proof(counter: QueryCounter, make: Callable[[], Any]) -> tuple[Any, float, int]:
    counter.queries = 0
    started = time.perf_counter()
    proof = make()
    return proof, time.perf_counter() - started, counter.queries


def measure_proofs(
    setup: Setup, tree_size: int, samples: int, deadline: Deadline, seed: int
) -> list[dict[str, Any]]:
    sizes = [n for n in PROOF_SIZES if n <= tree_size]
    if tree_size not in sizes:
        sizes.append(tree_size)
    print(
        f"\n[3] proofs as the endpoints make them: {samples} random indexes per tree size, "
        "each proof verified",
        flush=True,
    )
    rng = random.Random(seed)
    rows = []
    counter = QueryCounter(setup.database.engine)
    with setup.database.unit_of_work() as session:
        source = DatabaseHashSource(session)
        latest = latest_checkpoint(session)
        if latest is None or root_from_source(source, latest.tree_size).hex() != latest.root_hash:
            raise BenchError("the stored subtrees do not give the latest checkpoint's root")
        for n in sizes:
            rows.append(
                _proofs_for_size(session, counter, n=n, samples=samples, rng=rng, deadline=deadline)
            )
    return rows


def _proofs_for_size(
    session: Session,
    counter: QueryCounter,
    *,
    n: int,
    samples: int,
    rng: random.Random,
    deadline: Deadline,
) -> dict[str, Any]:
    """Proofs as the /transparency endpoints make them (inclusion_proof_from and
    consistency_proof_from: the needed subtrees in two queries), checked against roots computed
    independently of them."""
    source = DatabaseHashSource(session)
    root = root_from_source(source, n)
    inclusion: dict[str, list[float]] = {"us": [], "hashes": [], "lookups": [], "verify_us": []}
    consistency: dict[str, list[float]] = {"us": [], "hashes": [], "lookups": [], "verify_us": []}
    for index in rng.sample(range(n), min(samples, n)):
        deadline.check("the inclusion proofs")
        (leaf, proof), elapsed, lookups = _timed_proof(
            counter, partial(inclusion_proof_from, session, index, n)
        )
        started = time.perf_counter()
        ok = verify_inclusion(leaf, index, n, proof, root)
        inclusion["verify_us"].append(1e6 * (time.perf_counter() - started))
        if not ok:
            raise BenchError(f"inclusion proof of {index} in {n} does not verify")
        inclusion["us"].append(1e6 * elapsed)
        inclusion["hashes"].append(len(proof))
        inclusion["lookups"].append(lookups)
    for _ in range(min(samples, max(n - 1, 1))):
        deadline.check("the consistency proofs")
        old = rng.randint(1, n - 1) if n > 1 else 1
        proof, elapsed, lookups = _timed_proof(
            counter, partial(consistency_proof_from, session, old, n)
        )
        old_root = root_from_source(source, old)
        started = time.perf_counter()
        ok = verify_consistency(old, n, old_root, root, proof)
        consistency["verify_us"].append(1e6 * (time.perf_counter() - started))
        if not ok:
            raise BenchError(f"consistency proof {old} -> {n} does not verify")
        consistency["us"].append(1e6 * elapsed)
        consistency["hashes"].append(len(proof))
        consistency["lookups"].append(lookups)
    row: dict[str, Any] = {"tree_size": n, "log2": round(math.log2(n), 2)}
    for name, figures in (("inclusion", inclusion), ("consistency", consistency)):
        hashes = _summary(figures["hashes"])
        row[name] = {
            "samples": len(figures["us"]),
            "median_us": round(statistics.median(figures["us"]), 1),
            "p90_us": round(_summary(figures["us"])["p90"], 1),
            "hashes_median": hashes["median"],
            "hashes_max": int(hashes["max"]),
            "bytes_median": hashes["median"] * HASH_BYTES,
            "bytes_max": int(hashes["max"]) * HASH_BYTES,
            "lookups_median": statistics.median(figures["lookups"]),
            "lookups_max": int(max(figures["lookups"])),
            "verify_median_us": round(statistics.median(figures["verify_us"]), 1),
        }
    print(
        f"    n={n:>9,}: inclusion {row['inclusion']['median_us']:,.0f} us, "
        f"{row['inclusion']['hashes_max']} hashes max; consistency "
        f"{row['consistency']['median_us']:,.0f} us, {row['consistency']['hashes_max']} hashes max",
        flush=True,
    )
    return row


# -- report ----------------------------------------------------------------------------------------


def print_token_report(token: dict[str, Any]) -> None:
    print("\n1. Cost of the access log on the token endpoint (client_credentials, in process)")
    print(f"   {'':<38}{'tokens/s':>10}{'ms/token':>10}{'CPU ms':>9}{'db CPU ms':>11}")
    for label, key in (
        ("without log (do-nothing AccessLog)", "without_log"),
        ("with DatabaseAccessLog", "with_log"),
    ):
        print(
            f"   {label:<38}{token[f'{key}_per_s']:>10,.1f}{1000 / token[f'{key}_per_s']:>10.3f}"
            f"{token[f'{key}_cpu_ms_per_token']:>9.3f}{token[f'{key}_db_cpu_ms_per_token']:>11.3f}"
        )
    per_s = token["with_log_and_sequencing_per_s"]
    print(f"   {'with log + sequencing (amortized)':<38}{per_s:>10,.1f}{1000 / per_s:>10.3f}")
    low, high = token["cost_percent_round_range"]
    verdict = "meets" if token["cost_percent"] < 10 else "MISSES"
    print(
        f"   cost of the log: {token['cost_percent']:.1f} % of throughput, "
        f"+{1000 * token['added_ms_per_token']:.0f} us per token (median round "
        f"{token['cost_percent_median_round']:.1f} %, rounds {low:.1f} to {high:.1f} %); "
        f"{verdict} the < 10 % target"
    )
    print(
        f"   in CPU (this process + its PostgreSQL backend): {token['cost_percent_cpu']:.1f} %;"
        f" other programs used {token['other_cpu_cores']:.2f} cores meanwhile"
    )
    print(
        f"   with the sequencer's share ({token['sequencing_us_per_entry']:.0f} us per entry, "
        f"batches of {token['sequencing_batch']}): {token['cost_percent_with_sequencing']:.1f} %"
    )


def print_report(results: dict[str, Any], args: argparse.Namespace) -> None:
    print(
        f"\nbackend={args.backend}  entries={args.entries:,}  cores={os.cpu_count()}  "
        f"revision={results['revision']}"
    )
    token = results.get("token")
    if token:
        print_token_report(token)
    appends = results.get("appends")
    if appends:
        print(
            f"   raw appends: {appends['events_per_s_1_per_txn']:,.0f} events/s one per "
            f"transaction, {appends['events_per_s_100_per_txn']:,.0f} events/s 100 per "
            f"transaction; queued_values alone {appends['queued_values_per_s']:,.0f}/s"
        )
    generation, verification = results.get("generation"), results.get("verification")
    if generation and verification:
        print("\n2. Verifying the whole log (verify_log over logged_entries + signed_checkpoints)")
        print(
            f"   generated {generation['entries']:,} entries: written in "
            f"{generation['write_s']:.1f} s ({generation['write_per_s']:,.0f}/s), sequenced in "
            f"{generation['sequence_s']:.1f} s ({generation['sequence_per_s']:,.0f}/s); database "
            f"{generation['database_mb_after_write']:,.0f} MB after writing, "
            f"{generation['database_mb_after_sequencing']:,.0f} MB after sequencing"
        )
        print(
            f"   verify_log: {verification['entries_checked']:,} entries and "
            f"{verification['checkpoints_checked']} checkpoints in {verification['verify_s']:.1f} s"
            f" = {verification['entries_per_s']:,.0f} entries/s (CPU "
            f"{verification['verify_cpu_s']:.1f} s); reading alone "
            f"{verification['read_only_per_s']:,.0f} entries/s (first entry after "
            f"{verification['read_first_entry_s']:.2f} s)"
        )
    proofs = results.get("proofs")
    if proofs:
        print(
            "\n3. Proofs as the /transparency endpoints make them "
            "(median over random indexes; bytes = 32 x hashes)"
        )
        header = (
            f"   {'tree size':>10}{'log2 n':>8} | {'incl us':>8}{'hashes':>8}{'max':>5}"
            f"{'bytes max':>10}{'queries':>8} | {'cons us':>8}{'hashes':>8}{'max':>5}"
            f"{'bytes max':>10}{'queries':>8}"
        )
        print(header)
        print("   " + "-" * (len(header) - 3))
        for row in proofs:
            inc, con = row["inclusion"], row["consistency"]
            print(
                f"   {row['tree_size']:>10,}{row['log2']:>8.2f} | {inc['median_us']:>8,.0f}"
                f"{inc['hashes_median']:>8g}{inc['hashes_max']:>5}{inc['bytes_max']:>10}"
                f"{inc['lookups_median']:>8g} | {con['median_us']:>8,.0f}"
                f"{con['hashes_median']:>8g}{con['hashes_max']:>5}{con['bytes_max']:>10}"
                f"{con['lookups_median']:>8g}"
            )
    print(f"\ntotal run time {results['run_s']:.0f} s")


# -- main ------------------------------------------------------------------------------------------


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--entries",
        type=positive_int,
        default=1_000_000,
        help="size of the generated log for verification and proofs (default 1000000)",
    )
    parser.add_argument(
        "--tokens",
        type=positive_int,
        default=10_000,
        help="timed token requests per arm, split over the rounds (default 10000)",
    )
    parser.add_argument(
        "--rounds", type=positive_int, default=10, help="interleaved rounds (default 10)"
    )
    parser.add_argument(
        "--appends",
        type=positive_int,
        default=2000,
        help="transactions of one event for the raw append rate (default 2000)",
    )
    parser.add_argument(
        "--samples",
        type=positive_int,
        default=200,
        help="random indexes per tree size for the proofs (default 200)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the random indexes")
    parser.add_argument(
        "--skip-token", action="store_true", help="skip part 1 (the token endpoint)"
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=3600.0,
        help="abort (and clean up) after this many seconds (default 3600)",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.entries > 10_000_000:
        parser.error("--entries must be at most 10000000")
    if args.tokens > 1_000_000 or args.appends > 1_000_000:
        parser.error("--tokens and --appends must be at most 1000000")
    return args


def run(
    args: argparse.Namespace, url: str, pg_name: str | None, workdir: Path, deadline: Deadline
) -> dict[str, Any]:
    started = time.perf_counter()
    print(f"migrating a fresh {args.backend} database ...", flush=True)
    setup = build_setup(url, workdir, pg_name)
    results: dict[str, Any] = {}
    try:
        if not args.skip_token:
            results["token"] = measure_token_cost(setup, args, deadline)
            results["appends"] = measure_appends(setup, args, deadline)
        results["generation"] = generate_log(setup, args.entries, deadline)
        tree_size = results["generation"]["tree_size"]
        results["verification"] = verify_whole_log(setup, tree_size, deadline)
        results["proofs"] = measure_proofs(setup, tree_size, args.samples, deadline, args.seed)
    finally:
        setup.database.engine.dispose()
    results["run_s"] = round(time.perf_counter() - started, 1)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.backend == "postgresql":
        require_loopback(POSTGRES_ADMIN_URL, "PostgreSQL")
    deadline = Deadline(args.time_limit)
    revision = source_revision()  # before anything is imported lazily or measured
    with tempfile.TemporaryDirectory(prefix="idp-logbench-") as folder:
        workdir = Path(folder)
        pg_name: str | None = None
        try:
            if args.backend == "postgresql":
                pg_name, url = create_postgres_database()
            else:
                url = f"sqlite:///{workdir / 'idp.db'}"
            results = run(args, url, pg_name, workdir, deadline)
        except BenchError as error:
            print(f"\nerror: {error}", file=sys.stderr)
            return 1
        finally:
            if pg_name:
                drop_postgres_database(pg_name)
                print(f"dropped database {pg_name}", flush=True)
    results["revision"] = revision
    if source_revision() != revision:
        print(f"\nnote: the checkout changed during the run (it started at {revision})")
        results["revision_at_end"] = source_revision()
    print_report(results, args)
    if args.json:
        document = {
            "settings": {
                "backend": args.backend,
                "entries": args.entries,
                "tokens_per_arm": args.tokens,
                "rounds": args.rounds,
                "appends": args.appends,
                "samples": args.samples,
                "insert_chunk": INSERT_CHUNK,
                "sequence_batch": SEQUENCE_BATCH,
            },
            "machine": {
                "cores": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            **results,
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
