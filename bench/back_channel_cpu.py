"""CPU per back-channel request in process: the gateway's ASGI app driven without a socket.

The side-by-side driver (../shared/peer-bench) measures requests per server CPU-second over
HTTP, and on a shared 2-core machine its figures move with everything else running. This
script takes the HTTP server and the load generator out: it builds the app (`gateway.app`),
runs its lifespan (the sequencer included), and sends it ASGI requests from `--concurrency`
tasks on one event loop, then prints requests per CPU-second of this process (all its
threads, from `time.process_time`). Use it to compare two versions of the code one after the
other; quote side_by_side.sh for the comparison with the peer.

It needs a database and keys set up as side_by_side.sh sets them up (IDP_DATABASE_URL,
IDP_KEYS_DIR, IDP_ISSUER in the environment), the bench client's id and secret, and for
userinfo an access token of a citizen (`--user-token`).

    python bench/back_channel_cpu.py --client-id ID --client-secret S --scenario token
    python bench/back_channel_cpu.py ... --scenario userinfo --user-token TOKEN --requests 4000
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import time
from typing import Any

from gateway.app import build_app


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }


def _requests(args: argparse.Namespace, access_token: str) -> dict[str, tuple[Any, bytes]]:
    basic = base64.b64encode(f"{args.client_id}:{args.client_secret}".encode())
    form = b"application/x-www-form-urlencoded"

    def post(path: str, body: bytes) -> tuple[Any, bytes]:
        headers = [
            (b"host", b"127.0.0.1"),
            (b"authorization", b"Basic " + basic),
            (b"content-type", form),
            (b"content-length", str(len(body)).encode()),
        ]
        return _scope("POST", path, headers), body

    bearer = [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {args.user_token}".encode())]
    return {
        "token": post("/token", b"grant_type=client_credentials"),
        "introspect": post("/introspect", b"token=" + access_token.encode()),
        "userinfo": (_scope("GET", "/userinfo", bearer), b""),
        "discovery": (_scope("GET", "/.well-known/openid-configuration", [(b"host", b"x")]), b""),
    }


async def _one(app: Any, scope: dict[str, Any], body: bytes) -> tuple[int, bytes]:
    sent = False
    answer: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        else:
            answer["body"] = answer.get("body", b"") + message.get("body", b"")

    await app(dict(scope), receive, send)
    return answer["status"], answer.get("body", b"")


async def _measure(app: Any, scope: dict[str, Any], body: bytes, count: int, tasks: int) -> float:
    remaining = count
    latencies: list[float] = []

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            status, answer = await _one(app, scope, body)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                raise SystemExit(f"{status} {answer[:200]!r}")

    cpu = time.process_time()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    spent = time.process_time() - cpu
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(
        f"  {count / spent:8.0f} per CPU-s   p50 {statistics.median(latencies) * 1000:6.1f} ms"
        f"   p99 {p99:6.1f} ms"
    )
    return count / spent


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--user-token", default="")
    parser.add_argument("--scenario", action="append", default=[])
    parser.add_argument("--requests", type=int, default=3000, help="per round (at most 50000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    count = min(args.requests, 50000)
    app = build_app()
    async with app.router.lifespan_context(app):
        token_request = _requests(args, "")["token"]
        _status, body = await _one(app, *token_request)
        access_token = body.split(b'"access_token":"')[1].split(b'"')[0].decode()
        requests = _requests(args, access_token)
        for name in args.scenario or ["token", "introspect", "userinfo"]:
            print(name)
            scope, payload = requests[name]
            await _measure(app, scope, payload, min(count // 5, 500), args.concurrency)  # warm-up
            figures = [
                await _measure(app, scope, payload, count, args.concurrency)
                for _ in range(args.rounds)
            ]
            print(f"  median {statistics.median(figures):,.0f} per CPU-s")


if __name__ == "__main__":
    asyncio.run(main())
