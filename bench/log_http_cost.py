"""What the access log costs the token endpoint over HTTP.

One database, one keyring and one client; the gateway is served alternately as shipped
(gateway.asgi:app) and with a log that writes nothing (bench/app_without_log.py), and
client_credentials tokens are requested for a fixed time in each turn. Loopback only; every turn
is bounded in time and in count.

    python bench/log_http_cost.py [--backend sqlite|postgresql] [--seconds 8] [--rounds 3]
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
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.gateway_process import (
    IDP_COMMAND,
    create_postgres_database,
    drop_postgres_database,
    free_port,
)

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
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
        rates: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for round_number in range(args.rounds):
            for name, target in VARIANTS.items():
                server = _serve(target, env, port, workdir)
                try:
                    asyncio.run(_load(f"http://127.0.0.1:{port}/token", auth, 1.0, 4))  # warm up
                    count = asyncio.run(
                        _load(
                            f"http://127.0.0.1:{port}/token", auth, args.seconds, args.concurrency
                        )
                    )
                finally:
                    server.terminate()
                    server.wait(timeout=10)
                rates[name].append(count / args.seconds)
                print(
                    f"round {round_number + 1}: {name:12s} {count / args.seconds:8.1f} tokens/s",
                    flush=True,
                )
        with_log = statistics.median(rates["with log"])
        without = statistics.median(rates["without log"])
        print(
            f"\n{args.backend}: median {without:.1f} tokens/s without the log, "
            f"{with_log:.1f} with it: the log costs {100 * (1 - with_log / without):.1f} % "
            "of the token endpoint's throughput over HTTP"
        )
    finally:
        if pg_name:
            drop_postgres_database(pg_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
