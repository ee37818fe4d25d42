"""The measuring half of the load test: a bounded pool of request loops, latencies, and the CPU
the gateway, its PostgreSQL backends, the load generator and the rest of the machine used
(read from /proc, so Linux only)."""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

_REPO_ROOT = Path(__file__).resolve().parents[1]

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """An answer the scenario did not expect (status, missing field): counted as an error."""


class SupplyExhaustedError(Exception):
    """The scenario ran out of pre-minted inputs (authorization codes)."""


Operation = Callable[[httpx.AsyncClient], Awaitable[None]]


# -- CPU and connections, from /proc ---------------------------------------------------------------


@dataclass(frozen=True)
class CpuSnapshot:
    gateway: float  # CPU seconds used so far by the gateway's process tree
    database: float  # ... by the PostgreSQL backends serving the bench database
    loadgen: float  # ... by this process
    machine: float  # busy CPU seconds of the whole machine (/proc/stat)
    at: float  # monotonic clock


def _process_table() -> dict[int, tuple[int, float, float]]:
    """pid -> (ppid, CPU seconds used so far, CPU seconds of its children that have exited)."""
    table: dict[int, tuple[int, float, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        rest = raw[raw.rindex(")") + 2 :].split()  # fields from the 3rd on (comm may hold spaces)
        table[int(entry)] = (
            int(rest[1]),
            (int(rest[11]) + int(rest[12])) / CLOCK_TICKS,
            (int(rest[13]) + int(rest[14])) / CLOCK_TICKS,
        )
    return table


def _database_backends(table: dict[int, tuple[int, float, float]], database: str) -> list[int]:
    """PostgreSQL backends name their database in the process title."""
    pids = []
    for pid in table:
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if title.startswith(b"postgres:") and f" {database} ".encode() in title:
            pids.append(pid)
    return pids


def cpu_snapshot(gateway_pid: int | None, database: str | None) -> CpuSnapshot:
    """CPU used so far. The database figure is our live backends plus every backend the
    postmaster has reaped: a connection the gateway's pool closes takes its CPU with it."""
    table = _process_table()
    tree: set[int] = {gateway_pid} if gateway_pid is not None and gateway_pid in table else set()
    grew = True
    while grew:  # uvicorn --workers N: a supervisor and N worker processes
        grew = False
        for pid, (ppid, _, _) in table.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    backends = _database_backends(table, database) if database else []
    postmasters = {table[pid][0] for pid in backends if table[pid][0] in table}
    stat = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return CpuSnapshot(
        gateway=sum(table[pid][1] for pid in tree),
        database=sum(table[pid][1] for pid in backends) + sum(table[pid][2] for pid in postmasters),
        loadgen=time.process_time(),
        machine=(sum(stat) - stat[3] - stat[4]) / CLOCK_TICKS,  # minus idle and iowait
        at=time.monotonic(),
    )


def connections_per_worker(gateway_pid: int | None, port: int) -> list[int]:
    """Established client connections held by each gateway process that serves requests.

    uvicorn's workers share one listening socket and keep-alive connections stay with the
    worker that accepted them, so the split can be uneven (and the figures with it)."""
    established: set[str] = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "01" and int(fields[1].split(":")[1], 16) == port:
            established.add(fields[9])  # socket inode
    table = _process_table()
    candidates = [pid for pid, (ppid, _, _) in table.items() if ppid == gateway_pid]
    counts = []
    for pid in [gateway_pid, *candidates]:
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue
        held = sum(1 for link in links if link.startswith("socket:[") and link[8:-1] in established)
        if held:
            counts.append(held)
    return counts


def database_sessions(admin_url: str, database: str | None) -> int | None:
    """Connections ever opened to `database` (PostgreSQL's own counter), None on SQLite."""
    if database is None:
        return None
    with psycopg.connect(admin_url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = %s", (database,)
        ).fetchone()
    return int(row[0]) if row else None


# -- the worker pool -------------------------------------------------------------------------------


@dataclass
class ScenarioResult:
    name: str
    title: str
    count: int  # successful requests (whole flows, for sign_in_flow)
    errors: int
    elapsed_s: float
    requests_per_s: float  # successes per wall-clock second
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    stopped_by: str  # "duration", "max-requests" or "supply" (pre-minted codes ran out)
    gateway_cpu_cores: float  # gateway CPU seconds per wall-clock second
    database_cpu_cores: float  # same for the PostgreSQL backends (0 on SQLite: in-process)
    loadgen_cpu_cores: float  # same for this load generator
    other_cpu_cores: float  # the rest of the machine's busy time (other processes, kernel)
    connections_per_worker: list[int]  # keep-alive client connections held by each worker
    database_connections_opened: int | None  # new PostgreSQL connections during the scenario
    per_gateway_cpu_s: float  # successes per CPU second of the gateway processes
    error_samples: list[str] = field(default_factory=list)


@dataclass
class PoolOutcome:
    latencies_ms: list[float]
    errors: int
    samples: list[str]
    stopped_by: str
    elapsed_s: float


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (0 when empty)."""
    if not sorted_values:
        return 0.0
    return sorted_values[max(1, math.ceil(q * len(sorted_values))) - 1]


async def run_pool(
    operation: Operation,
    clients: list[httpx.AsyncClient],
    *,
    duration: float,
    max_requests: int,
    drain_s: float,
) -> PoolOutcome:
    """One task per client runs `operation` in a loop until the time or the count is used up.
    Requests in flight at the deadline may finish for `drain_s` more seconds, then are cancelled
    (so the pool ends even if the server hangs)."""
    outcome = PoolOutcome([], 0, [], "duration", 0.0)
    issued = 0
    exhausted = False
    start = time.monotonic()
    deadline = start + duration

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal issued, exhausted
        while not exhausted and issued < max_requests and time.monotonic() < deadline:
            issued += 1
            began = time.perf_counter()
            try:
                await operation(client)
            except SupplyExhaustedError:
                issued -= 1
                exhausted = True
                return
            except (BenchError, httpx.HTTPError) as error:
                outcome.errors += 1
                if len(outcome.samples) < 5:
                    outcome.samples.append(f"{type(error).__name__}: {error}"[:300])
            else:
                outcome.latencies_ms.append((time.perf_counter() - began) * 1000)

    tasks = [asyncio.create_task(worker(client)) for client in clients]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=duration + drain_s)
    except TimeoutError:
        outcome.samples.append("the pool did not drain in time; requests in flight cancelled")
    outcome.elapsed_s = time.monotonic() - start
    if exhausted:
        outcome.stopped_by = "supply"
    elif issued >= max_requests:
        outcome.stopped_by = "max-requests"
    return outcome


def summarize(
    name: str,
    title: str,
    pool: PoolOutcome,
    before: CpuSnapshot,
    after: CpuSnapshot,
    *,
    connections_opened: int | None,
    connections_per_worker: list[int],
) -> ScenarioResult:
    """The figures of one scenario from its pool's outcome and CPU snapshots around it."""
    wall = max(after.at - before.at, 1e-9)
    used = {
        "gateway": after.gateway - before.gateway,
        "database": after.database - before.database,
        "loadgen": after.loadgen - before.loadgen,
    }
    other = max(0.0, after.machine - before.machine - sum(used.values()))
    latencies = sorted(pool.latencies_ms)
    count = len(latencies)
    return ScenarioResult(
        name=name,
        title=title,
        count=count,
        errors=pool.errors,
        elapsed_s=round(pool.elapsed_s, 3),
        requests_per_s=round(count / pool.elapsed_s, 1) if pool.elapsed_s > 0 else 0.0,
        p50_ms=round(percentile(latencies, 0.50), 2),
        p99_ms=round(percentile(latencies, 0.99), 2),
        mean_ms=round(sum(latencies) / count, 2) if count else 0.0,
        max_ms=round(latencies[-1], 2) if latencies else 0.0,
        stopped_by=pool.stopped_by,
        gateway_cpu_cores=round(used["gateway"] / wall, 2),
        database_cpu_cores=round(used["database"] / wall, 2),
        loadgen_cpu_cores=round(used["loadgen"] / wall, 2),
        other_cpu_cores=round(other / wall, 2),
        connections_per_worker=connections_per_worker,
        database_connections_opened=connections_opened,
        per_gateway_cpu_s=round(count / used["gateway"], 1) if used["gateway"] > 0 else 0.0,
        error_samples=pool.samples,
    )


def source_revision() -> str | None:
    """The commit measured (with "+changes" when tracked files differ from it)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=_REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=_REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+changes" if dirty else head
