"""Benchmark of reviewing a large access log over the admin API, against a real `idp serve`.

    python bench/log_review.py [--backend postgresql|sqlite] [--entries 1000000]
                               [--samples 30] [--json out.json] [--keep]
    python bench/log_review.py --reuse DATABASE_URL --workdir DIR --port P   # measure again

`--keep` leaves the seeded database and prints how to measure it again with `--reuse` (the
same keys folder and port, so the issuer its checkpoints name is the gateway's again): seeding
ten million entries takes the better part of an hour, measuring a few minutes.

1. seeding: `idp audit seed --entries N` on a fresh database (written, sequenced and signed);
   its rate.
2. filtered pages over HTTP with an auditor's client-credentials token: a first page (50
   entries) filtered by citizen, by agency, and by event type within one day; the hundredth
   page of the agency and type filters (reached by following next_cursor, then timed on its
   own). p50 and p95 of `--samples` requests each.
3. export: the CSV of every userinfo.answered entry (about a fifth of the log), streamed;
   entries per second and the gateway's peak memory (VmHWM) before and after.

Loopback only; every loop is bounded in count and time. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
for folder in (BENCH_DIR, REPO_ROOT):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import httpx  # noqa: E402
from measurement import source_revision  # noqa: E402

from tests.databases import create_postgres_database, drop_postgres_database  # noqa: E402
from tests.gateway_process import IDP_COMMAND, Gateway, start_gateway  # noqa: E402

PAGE = 50
DEEP_PAGE = 100
TIME_LIMIT_S = 3600  # the whole run, seeding included


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p95_ms": round(p95 * 1000, 2)}


def _timed(http: httpx.Client, params: dict[str, Any], samples: int) -> dict[str, Any]:
    http.get("/admin/api/v1/events", params=params).raise_for_status()  # warm-up, not counted
    times, items = [], 0
    for _ in range(samples):
        started = time.perf_counter()
        answer = http.get("/admin/api/v1/events", params=params)
        times.append(time.perf_counter() - started)
        answer.raise_for_status()
        items = len(answer.json()["items"])
    return {**_percentiles(times), "items": items}


def _cursor_of_page(http: httpx.Client, params: dict[str, Any], page: int) -> str | None:
    cursor = None
    for _ in range(page - 1):
        body = http.get(
            "/admin/api/v1/events", params={**params, **({"cursor": cursor} if cursor else {})}
        ).json()
        cursor = body["next_cursor"]
        if cursor is None:
            return None
    return cursor


def _peak_memory_kb(gateway: Gateway) -> int:
    assert gateway.process is not None
    for line in Path(f"/proc/{gateway.process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _seed(gateway: Gateway, entries: int, workdir: Path, deadline: float) -> float:
    """`idp audit seed` in its own process, allowed what is left of the run; its seconds."""
    started = time.perf_counter()
    subprocess.run(
        [*IDP_COMMAND, "audit", "seed", "--entries", str(entries), "--not-production"],
        env=gateway.env,
        cwd=workdir,
        check=True,
        timeout=max(1.0, deadline - time.monotonic()),
    )
    seconds = time.perf_counter() - started
    print(f"seeded {entries:,} entries in {seconds:.0f} s", flush=True)
    return seconds


def run(args: argparse.Namespace) -> dict[str, Any]:
    deadline = time.monotonic() + TIME_LIMIT_S
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="log-review-"))
    pg_name = None
    if args.reuse:
        url = args.reuse
    elif args.backend == "postgresql":
        pg_name, url = create_postgres_database()
    else:
        url = f"sqlite:///{workdir}/review.db"
    gateway = None
    seed_s = None
    try:
        gateway = start_gateway(workdir, backend=args.backend, database_url=url, port=args.port)
        if not args.reuse:
            seed_s = _seed(gateway, args.entries, workdir, deadline)
        if args.keep and pg_name:
            port = gateway.issuer.rsplit(":", 1)[1]
            print(f"kept: --reuse {url} --workdir {workdir} --port {port}", flush=True)
        auditor = gateway.idp_json(
            "clients",
            "add",
            "--name",
            "Review bench",
            "--grant-type",
            "client_credentials",
            "--scope",
            "admin:audit",
        )
        token = httpx.post(
            f"{gateway.issuer}/token",
            auth=(auditor["client_id"], auditor["client_secret"]),
            data={"grant_type": "client_credentials", "scope": "admin:audit"},
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        now = datetime.now(UTC)
        filters = {
            "citizen": {"subject": "seed-citizen-000000042"},
            "agency": {"client_id": "seed-agency-0003"},
            "type and day": {
                "type": "token.issued",
                "since": (now - timedelta(days=8)).isoformat(),
                "until": (now - timedelta(days=7)).isoformat(),
            },
        }
        results: dict[str, Any] = {"first_page": {}, "page_100": {}}
        with httpx.Client(base_url=gateway.issuer, headers=headers, timeout=60) as http:
            for name, params in filters.items():
                if time.monotonic() > deadline:
                    raise TimeoutError("out of time")
                query = {**params, "limit": PAGE}
                results["first_page"][name] = _timed(http, query, args.samples)
                print(f"first page, {name}: {results['first_page'][name]}", flush=True)
                cursor = _cursor_of_page(http, query, DEEP_PAGE)
                if cursor is not None:
                    results["page_100"][name] = _timed(
                        http, {**query, "cursor": cursor}, args.samples
                    )
                    print(f"page 100, {name}: {results['page_100'][name]}", flush=True)
            memory_before = _peak_memory_kb(gateway)
            started = time.perf_counter()
            rows = 0
            with http.stream(
                "GET",
                "/admin/api/v1/events/export",
                params={"type": "userinfo.answered", "format": "csv"},
            ) as answer:
                for line in answer.iter_lines():
                    rows += 1 if line else 0
            export_s = time.perf_counter() - started
        results["export"] = {
            "entries": rows - 1,
            "seconds": round(export_s, 2),
            "entries_per_s": round((rows - 1) / export_s),
            "gateway_peak_kb_before": memory_before,
            "gateway_peak_kb_after": _peak_memory_kb(gateway),
        }
        print(f"export: {results['export']}", flush=True)
        results["seeding"] = (
            {
                "entries": args.entries,
                "seconds": round(seed_s, 1),
                "per_s": round(args.entries / seed_s),
            }
            if seed_s is not None
            else {"reused": True}
        )
        results["settings"] = {
            "backend": args.backend,
            "samples": args.samples,
            "revision": source_revision(),
        }
        return results
    finally:
        if gateway is not None:
            gateway.stop()
        if pg_name and not args.keep:
            drop_postgres_database(pg_name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the seeded database")
    parser.add_argument("--reuse", help="measure this seeded database again (no seeding)")
    parser.add_argument("--workdir", type=Path, help="with --reuse: the kept run's folder")
    parser.add_argument("--port", type=int, help="with --reuse: the kept run's port")
    args = parser.parse_args(argv)
    if not 1_000 <= args.entries <= 20_000_000 or not 1 <= args.samples <= 1000:
        parser.error("--entries 1,000 to 20,000,000 and --samples 1 to 1,000")
    results = run(args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
