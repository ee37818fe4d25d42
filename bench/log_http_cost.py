"""What the access log costs the token endpoint over HTTP.

One database, one keyring and one client; the gateway is served alternately as shipped
(gateway.asgi:app) and with a log that writes nothing (bench/app_without_log.py), and
client_credentials tokens are requested for a fixed time in each turn. The shipped gateway also
runs its sequencer, so its share is counted. Besides tokens per second, each turn reads the CPU
the gateway process (and, on PostgreSQL, the database's backends) used per token from /proc.
Loopback only; every turn is bounded in time and in count.

    python bench/log_http_cost.py [--backend sqlite|postgresql] [--seconds 6] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measurement import CpuSnapshot, cpu_snapshot
from tests.databases import create_postgres_database, drop_postgres_database
from tests.gateway_process import IDP_COMMAND, free_port

VARIANTS = {"with log": "gateway.asgi:app", "without log": "bench.app_without_log:app"}
MAX_REQUESTS_PER_TURN = 100_000


async def _load(url: str, auth: str, seconds: float, concurrency: int) -> int:
    deadline = time.monotonic() + seconds
    done = 0

    async def worker() -> None:
        nonlocal done
        async with httpx.AsyncClient(timeout=10) as client:
            while time.monotonic() < deadline and done < MAX_REQUESTS_PER_TURN:
                response = await client.post(
                    url,
                    content=b"grant_type=client_credentials",
                    headers={
                        "Authorization": auth,
                        "Content-Type": "application/x-www-form-urlencoded",
                    },
                )
                if response.status_code != 200:
                    raise RuntimeError(response.text)
                done += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done


def _serve(target: str, env: dict[str, str], port: int, workdir: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            target,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--log-level",
            "warning",
            "--no-server-header",
        ],
        env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        cwd=workdir,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gateway did not start")


@dataclass(frozen=True)
class Turn:
    tokens: int
    seconds: float
    gateway_cpu: float
    database_cpu: float
    other_cores: float  # busy cores outside the gateway, its database and this load generator

    @classmethod
    def between(cls, before: CpuSnapshot, after: CpuSnapshot, tokens: int) -> Turn:
        seconds = after.at - before.at
        gateway = after.gateway - before.gateway
        database = after.database - before.database
        ours = gateway + database + (after.loadgen - before.loadgen)
        other = (after.machine - before.machine - ours) / seconds
        return cls(tokens, seconds, gateway, database, max(other, 0.0))

    @property
    def per_second(self) -> float:
        return self.tokens / self.seconds

    @property
    def cpu_us_per_token(self) -> float:
        return 1e6 * (self.gateway_cpu + self.database_cpu) / self.tokens

    def describe(self) -> str:
        return (
            f"{self.per_second:8.1f} tokens/s, {1e6 * self.gateway_cpu / self.tokens:6.0f} us "
            f"gateway CPU + {1e6 * self.database_cpu / self.tokens:4.0f} us database CPU per "
            f"token, other programs {self.other_cores:.2f} cores"
        )


def _report(backend: str, turns: dict[str, list[Turn]]) -> str:
    with_log, without = turns["with log"], turns["without log"]
    rate_with = statistics.median(t.per_second for t in with_log)
    rate_without = statistics.median(t.per_second for t in without)
    cpu_with = statistics.median(t.cpu_us_per_token for t in with_log)
    cpu_without = statistics.median(t.cpu_us_per_token for t in without)
    round_costs = sorted(
        100 * (1 - a.per_second / b.per_second) for a, b in zip(with_log, without, strict=True)
    )
    return (
        f"\n{backend}: median {rate_without:.1f} tokens/s without the log, {rate_with:.1f} with "
        f"it: the log costs {100 * (1 - rate_with / rate_without):.1f} % of the token endpoint's "
        f"throughput over HTTP (rounds: {', '.join(f'{c:.1f}' for c in round_costs)} %).\n"
        f"CPU per token (gateway + database), median: {cpu_without:.0f} us without, "
        f"{cpu_with:.0f} us with: {100 * (cpu_with / cpu_without - 1):.1f} % more CPU per token."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="log-http-cost-"))
    pg_name = None
    if args.backend == "sqlite":
        database_url = f"sqlite:///{workdir / 'idp.db'}"
    else:
        pg_name, database_url = create_postgres_database()
    port = free_port()
    env = {
        **os.environ,
        "IDP_ISSUER": f"http://localhost:{port}",
        "IDP_DATABASE_URL": database_url,
        "IDP_KEYS_DIR": str(workdir / "keys"),
    }
    try:
        for command in (["db", "upgrade"], ["keys", "list"]):
            subprocess.run(
                [*IDP_COMMAND, *command], env=env, cwd=workdir, check=True, capture_output=True
            )
        created = subprocess.run(
            [
                *IDP_COMMAND,
                "clients",
                "add",
                "--name",
                "bench",
                "--redirect-uri",
                "https://bench.example/cb",
                "--grant-type",
                "client_credentials",
                "--json",
            ],
            env=env,
            cwd=workdir,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        client = json.loads(created)
        auth = (
            "Basic "
            + base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
        )
        turns: dict[str, list[Turn]] = {name: [] for name in VARIANTS}
        for round_number in range(args.rounds):
            # A B, B A, A B, ...: drift over the run hits both arms alike.
            order = list(VARIANTS.items())
            for name, target in order if round_number % 2 == 0 else reversed(order):
                server = _serve(target, env, port, workdir)
                try:
                    asyncio.run(_load(f"http://127.0.0.1:{port}/token", auth, 1.0, 4))  # warm up
                    before = cpu_snapshot(server.pid, pg_name)
                    count = asyncio.run(
                        _load(
                            f"http://127.0.0.1:{port}/token", auth, args.seconds, args.concurrency
                        )
                    )
                    after = cpu_snapshot(server.pid, pg_name)
                finally:
                    server.terminate()
                    server.wait(timeout=10)
                turn = Turn.between(before, after, count)
                turns[name].append(turn)
                print(f"round {round_number + 1}: {name:12s} {turn.describe()}", flush=True)
        print(_report(args.backend, turns))
    finally:
        if pg_name:
            drop_postgres_database(pg_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
