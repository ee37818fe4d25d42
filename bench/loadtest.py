"""Load test of the gateway: starts its own `idp serve` on loopback, then measures the token
endpoint (client_credentials and code exchange), userinfo and the full sign-in flow.

    python bench/loadtest.py [--backend sqlite|postgresql] [--duration 10] [--concurrency 32]
                             [--workers 1] [--max-requests N] [--json out.json]

Each scenario stops at --duration seconds or --max-requests requests, whichever comes first.
See bench/README.md for what the figures mean.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import http.cookiejar
import importlib.util
import ipaddress
import json
import os
import platform
import secrets
import ssl
import sys
import tempfile
from collections import deque
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
for folder in (BENCH_DIR, REPO_ROOT):  # measurement.py beside this file; tests/ of the checkout
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
if importlib.util.find_spec("sniffio") is None:
    # httpcore runs `import sniffio` each time it makes a lock; without sniffio (anyio 4.x no
    # longer needs it) each is a failed search of sys.path: 13 % of this process's CPU, measured.
    # A None entry makes the import fail at once, and httpcore then assumes asyncio.
    sys.modules["sniffio"] = None  # type: ignore[assignment]

import httpx  # noqa: E402
import uvloop  # noqa: E402
from measurement import (  # noqa: E402
    BenchError,
    Operation,
    ScenarioResult,
    SupplyExhaustedError,
    connections_per_worker,
    cpu_snapshot,
    database_sessions,
    run_pool,
    source_revision,
    summarize,
)

from tests.citizen import hidden_fields, pkce_pair  # noqa: E402
from tests.databases import (  # noqa: E402
    POSTGRES_ADMIN_URL,
    create_postgres_database,
    drop_postgres_database,
)
from tests.gateway_process import Gateway, start_gateway  # noqa: E402

# The certified Node.js provider (npm oidc-provider) on this kind of machine, per core, for the
# client_credentials grant (figure from the project's issue text).
REFERENCE_NAME = "npm oidc-provider"
REFERENCE_TOKENS_PER_CORE = (2200, 2500)

SCENARIOS = ("client_credentials", "code_exchange", "userinfo", "sign_in_flow")
TITLES = {
    "client_credentials": "POST /token client_credentials",
    "code_exchange": "POST /token authorization_code",
    "userinfo": "GET /userinfo (bearer)",
    "sign_in_flow": "sign-in flow incl. argon2id",
}
REDIRECT_URI = "https://agency.example/callback"  # never requested: the code is read off Location
SCOPE = "openid profile email"
SESSION_COOKIE = "idp-session"
FORM = "application/x-www-form-urlencoded"
BENCH_ENV = {
    # Codes are minted before the exchange scenario; the settings validator caps this at 10 min.
    "IDP_AUTHORIZATION_CODE_LIFETIME": "600",
    # The sign-in flow signs one citizen in from --concurrency new browsers at once. The throttle
    # counts each attempt as a failure until its check succeeds, so more than the free attempts
    # in flight for one username would be refused: allow the most the setting permits.
    "IDP_SIGN_IN_FREE_ATTEMPTS": "100",
}
MAX_DURATION_S = 180.0  # minting (up to 2x) plus exchanging (1x) must fit in the code lifetime
REQUEST_TIMEOUT_S = 30.0
DRAIN_S = REQUEST_TIMEOUT_S + 5  # a pool ends at most this long after its deadline
WARMUP_S = 0.5


# -- safety: loopback only -------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_loopback(url: str, what: str) -> None:
    if not is_loopback(urlsplit(url).hostname or ""):
        raise SystemExit(f"refusing to run: {what} {url!r} is not a loopback address")


async def _refuse_other_hosts(request: httpx.Request) -> None:
    if not is_loopback(request.url.host):
        raise BenchError(f"refusing a non-loopback request to {request.url.host}")


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """The clients keep no cookies: each simulated browser carries its own."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


def new_http_client(base_url: str, tls: ssl.SSLContext) -> httpx.AsyncClient:
    """One client, one keep-alive connection, per worker task: httpcore scans every pooled
    connection (a poll() each) for every request, so one shared pool of N connections costs
    O(N) per request; N pools of one cost O(1)."""
    require_loopback(base_url, "target")
    return httpx.AsyncClient(
        base_url=base_url,
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        timeout=REQUEST_TIMEOUT_S,
        follow_redirects=False,
        trust_env=False,
        verify=tls,  # plain http; a shared context spares loading CA files per client
        cookies=http.cookiejar.CookieJar(policy=_NoCookies()),
        event_hooks={"request": [_refuse_other_hosts]},
    )


@dataclass
class Bench:
    """What every scenario needs: options, the HTTP clients and whose CPU to account."""

    args: argparse.Namespace
    clients: list[httpx.AsyncClient]
    gateway_pid: int | None
    port: int
    database: str | None

    async def measure(
        self, name: str, operation: Operation, *, warmup: bool = True
    ) -> ScenarioResult:
        args = self.args
        print(
            f"  {name}: up to {args.duration:g} s / {args.max_requests} requests, "
            f"{args.concurrency} concurrent ...",
            flush=True,
        )
        if warmup:  # fill connection pools and statement caches; not counted
            await run_pool(
                operation,
                self.clients,
                duration=WARMUP_S,
                max_requests=min(args.max_requests, 4 * args.concurrency),
                drain_s=DRAIN_S,
            )
        sessions_before = database_sessions(POSTGRES_ADMIN_URL, self.database)
        before = cpu_snapshot(self.gateway_pid, self.database)
        pool = await run_pool(
            operation,
            self.clients,
            duration=args.duration,
            max_requests=args.max_requests,
            drain_s=DRAIN_S,
        )
        after = cpu_snapshot(self.gateway_pid, self.database)
        split = connections_per_worker(self.gateway_pid, self.port)
        opened = None
        if sessions_before is not None:
            await asyncio.sleep(1.1)  # backends flush their statistics at most once a second
            sessions_after = database_sessions(POSTGRES_ADMIN_URL, self.database)
            opened = sessions_after - sessions_before if sessions_after is not None else None
        result = summarize(
            name,
            TITLES[name],
            pool,
            before,
            after,
            connections_opened=opened,
            connections_per_worker=split,
        )
        print(
            f"    {result.count} ok, {result.errors} errors, {result.requests_per_s:,.1f}/s, "
            f"p50 {result.p50_ms} ms, p99 {result.p99_ms} ms, client connections per worker "
            f"{'/'.join(map(str, split)) or '?'}",
            flush=True,
        )
        return result


# -- talking to the gateway like an agency and a citizen's browser ---------------------------------


@dataclass(frozen=True)
class BenchClient:
    client_id: str
    client_secret: str

    @property
    def basic_auth(self) -> str:
        pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
        return "Basic " + base64.b64encode(pair.encode()).decode()


@dataclass(frozen=True)
class BenchCitizen:
    username: str
    password: str


def _cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}


def _keep_cookies(response: httpx.Response, cookies: dict[str, str]) -> None:
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        cookies[name.strip()] = rest.split(";", 1)[0]


def _code_from(response: httpx.Response) -> str:
    location = str(response.headers.get("location", ""))
    if response.status_code not in (302, 303) or not location.startswith(REDIRECT_URI):
        raise BenchError(
            f"expected a redirect to the client, got {response.status_code} {location[:120]!r}"
        )
    params = dict(parse_qsl(urlsplit(location).query))
    if "code" not in params:
        raise BenchError(f"no code in the redirect: {params.get('error', '?')}")
    return params["code"]


def authorize_path(client: BenchClient, challenge: str, **extra: str) -> str:
    return "/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": SCOPE,
            "state": secrets.token_urlsafe(12),
            "nonce": secrets.token_urlsafe(12),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **extra,
        }
    )


async def sign_in(
    http: httpx.AsyncClient, client: BenchClient, citizen: BenchCitizen, challenge: str
) -> tuple[str, dict[str, str]]:
    """A new browser: authorize, sign-in page, password, consent page when asked. Returns the
    code and the browser's cookies (its signed-in session)."""
    cookies: dict[str, str] = {}
    response = await http.get(authorize_path(client, challenge))
    _keep_cookies(response, cookies)
    for _ in range(6):
        location = response.headers.get("location", "")
        if response.status_code not in (302, 303) or location.startswith(REDIRECT_URI):
            return _code_from(response), cookies
        page = await http.get(location, headers=_cookie_header(cookies))
        if page.status_code != 200:
            raise BenchError(f"{location.split('?')[0]} answered {page.status_code}")
        fields = hidden_fields(page.text)
        if 'action="/sign-in"' in page.text:
            path = "/sign-in"
            fields |= {"username": citizen.username, "password": citizen.password}
        elif 'action="/consent"' in page.text:
            path = "/consent"
            fields["decision"] = "allow"
        else:
            raise BenchError(f"unexpected page at {location.split('?')[0]}")
        response = await http.post(
            path,
            content=urlencode(fields),
            headers={"Content-Type": FORM, **_cookie_header(cookies)},
        )
        _keep_cookies(response, cookies)
    raise BenchError("too many hops in the sign-in flow")


def code_exchange_body(code: str, verifier: str) -> bytes:
    return urlencode(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        }
    ).encode()


async def exchange(
    http: httpx.AsyncClient, client: BenchClient, code: str, verifier: str
) -> dict[str, Any]:
    response = await http.post(
        "/token",
        content=code_exchange_body(code, verifier),
        headers={"Content-Type": FORM, "Authorization": client.basic_auth},
    )
    if response.status_code != 200:
        raise BenchError(f"token endpoint answered {response.status_code}: {response.text[:200]}")
    body: dict[str, Any] = response.json()
    return body


async def open_connections(clients: list[httpx.AsyncClient]) -> None:
    """Connect the clients one at a time. uvicorn's workers share one listening socket, and a
    burst of connections tends to be accepted by a single worker; keep-alive then pins them
    there for the whole run, which would leave the other workers idle."""
    for connection in clients:
        response = await connection.get("/.well-known/openid-configuration")
        if response.status_code != 200:
            raise BenchError(f"discovery answered {response.status_code}")
        await asyncio.sleep(0.02)


async def mint_codes(
    bench: Bench, client: BenchClient, cookies: dict[str, str], challenge: str
) -> deque[str]:
    """Silent re-authorization (prompt=none) with a signed-in, consented session: each
    GET /authorize answers 302 straight to the redirect URI with a fresh code."""
    args = bench.args
    codes: deque[str] = deque()
    headers = _cookie_header(cookies)

    async def one(http: httpx.AsyncClient) -> None:
        response = await http.get(authorize_path(client, challenge, prompt="none"), headers=headers)
        codes.append(_code_from(response))

    wanted = args.max_requests + min(args.max_requests, 4 * args.concurrency)  # + warm-up
    print(f"  minting up to {wanted} codes (prompt=none, one session) ...", flush=True)
    # Up to twice the scenario's duration: /authorize costs about as much as the exchange.
    pool = await run_pool(
        one, bench.clients, duration=2 * args.duration, max_requests=wanted, drain_s=DRAIN_S
    )
    if pool.errors:
        print(f"    {pool.errors} errors while minting, e.g. {pool.samples[:1]}", flush=True)
    print(
        f"    minted {len(codes)} codes in {pool.elapsed_s:.1f} s "
        f"({len(codes) / max(pool.elapsed_s, 1e-9):,.1f}/s)",
        flush=True,
    )
    return codes


# -- the scenarios ---------------------------------------------------------------------------------


async def run_scenarios(
    gateway: Gateway,
    database: str | None,
    client: BenchClient,
    citizen: BenchCitizen,
    args: argparse.Namespace,
) -> list[ScenarioResult]:
    port = urlsplit(gateway.issuer).port or 80
    base_url = f"http://127.0.0.1:{port}"
    tls = ssl.create_default_context()
    results: list[ScenarioResult] = []
    verifier, challenge = pkce_pair()  # one pair for all minted codes: PKCE costs the same
    token_headers = {"Content-Type": FORM, "Authorization": client.basic_auth}
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(new_http_client(base_url, tls))
            for _ in range(args.concurrency)
        ]
        pid = gateway.process.pid if gateway.process else None
        bench = Bench(args, clients, pid, port, database)
        await open_connections(clients)
        if args.workers > 1:
            split = connections_per_worker(pid, port)
            print(f"  client connections per worker: {'/'.join(map(str, split))}", flush=True)
        # One real sign-in, with consent, gives the session that mints codes silently and the
        # access token presented at userinfo.
        code, session_cookies = await sign_in(clients[0], client, citizen, challenge)
        tokens = await exchange(clients[0], client, code, verifier)
        if SESSION_COOKIE not in session_cookies:
            raise BenchError("the sign-in set no session cookie")

        if "client_credentials" in args.scenarios:

            async def client_credentials(http: httpx.AsyncClient) -> None:
                response = await http.post(
                    "/token", content=b"grant_type=client_credentials", headers=token_headers
                )
                if response.status_code != 200 or b'"access_token"' not in response.content:
                    raise BenchError(f"{response.status_code}: {response.text[:200]}")

            results.append(await bench.measure("client_credentials", client_credentials))

        if "code_exchange" in args.scenarios:
            codes = await mint_codes(bench, client, session_cookies, challenge)

            async def code_exchange(http: httpx.AsyncClient) -> None:
                if not codes:
                    raise SupplyExhaustedError()
                response = await http.post(
                    "/token",
                    headers=token_headers,
                    content=code_exchange_body(codes.popleft(), verifier),
                )
                if response.status_code != 200 or b'"id_token"' not in response.content:
                    raise BenchError(f"{response.status_code}: {response.text[:200]}")

            results.append(await bench.measure("code_exchange", code_exchange))

        if "userinfo" in args.scenarios:
            bearer = {"Authorization": f"Bearer {tokens['access_token']}"}

            async def userinfo(http: httpx.AsyncClient) -> None:
                response = await http.get("/userinfo", headers=bearer)
                if response.status_code != 200 or b'"sub"' not in response.content:
                    raise BenchError(f"{response.status_code}: {response.text[:200]}")

            results.append(await bench.measure("userinfo", userinfo))

        if "sign_in_flow" in args.scenarios:

            async def sign_in_flow(http: httpx.AsyncClient) -> None:
                flow_verifier, flow_challenge = pkce_pair()
                flow_code, _ = await sign_in(http, client, citizen, flow_challenge)
                if "id_token" not in await exchange(http, client, flow_code, flow_verifier):
                    raise BenchError("no id_token in the token response")

            # argon2id dominates; a warm-up would only burn seconds of hashing.
            results.append(await bench.measure("sign_in_flow", sign_in_flow, warmup=False))
    return results


# -- setup, report, main ---------------------------------------------------------------------------


def prepare(gateway: Gateway) -> tuple[BenchClient, BenchCitizen]:
    """The agency app and the citizen, registered with the operator's CLI."""
    data = gateway.idp_json(
        "clients",
        "add",
        "--name",
        "Bench agency",
        "--redirect-uri",
        REDIRECT_URI,
        "--grant-type",
        "client_credentials",
        "--grant-type",
        "authorization_code",
        "--grant-type",
        "refresh_token",
        "--scope",
        "openid",
        "--scope",
        "profile",
        "--scope",
        "email",
    )
    citizen = BenchCitizen(f"bench-{secrets.token_hex(4)}", secrets.token_urlsafe(18))
    gateway.idp_json(
        "users",
        "add",
        "--username",
        citizen.username,
        "--password-stdin",
        "--given-name",
        "Mari",
        "--family-name",
        "Maasikas",
        "--email",
        "mari@example.org",
        stdin=citizen.password + "\n",
    )
    return BenchClient(data["client_id"], data["client_secret"]), citizen


def reference_comparison(results: list[ScenarioResult]) -> dict[str, float] | None:
    """client_credentials against the reference, both per machine and per gateway CPU second."""
    found = [r for r in results if r.name == "client_credentials"]
    if not found:
        return None
    r = found[0]
    low, high = REFERENCE_TOKENS_PER_CORE
    return {
        "requests_per_s": r.requests_per_s,
        "ratio_low": round(r.requests_per_s / high, 3),
        "ratio_high": round(r.requests_per_s / low, 3),
        "per_gateway_cpu_s": r.per_gateway_cpu_s,
        "per_core_ratio_low": round(r.per_gateway_cpu_s / high, 3),
        "per_core_ratio_high": round(r.per_gateway_cpu_s / low, 3),
    }


def print_table(results: list[ScenarioResult], args: argparse.Namespace) -> None:
    print(
        f"\nbackend={args.backend}  gateway workers={args.workers}  "
        f"concurrency={args.concurrency}  duration<={args.duration:g} s  "
        f"max-requests={args.max_requests}  cores={os.cpu_count()}"
    )
    header = (
        f"{'scenario':<31}{'ok':>7}{'err':>5}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'/gw-cpu-s':>10}{'gw':>6}{'db':>6}{'gen':>6}{'other':>6}{'db conn':>8}"
        f"  {'stop':<13}split"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        opened = r.database_connections_opened
        print(
            f"{r.title:<31}{r.count:>7}{r.errors:>5}{r.requests_per_s:>9,.1f}"
            f"{r.p50_ms:>9.1f}{r.p99_ms:>9.1f}{r.per_gateway_cpu_s:>10,.1f}"
            f"{r.gateway_cpu_cores:>6.2f}{r.database_cpu_cores:>6.2f}"
            f"{r.loadgen_cpu_cores:>6.2f}{r.other_cpu_cores:>6.2f}"
            f"{'-' if opened is None else opened:>8}  {r.stopped_by:<13}"
            f"{'/'.join(map(str, r.connections_per_worker))}"
        )
    print(
        "gw/db/gen/other: CPU cores busy on average (gateway, PostgreSQL backends, this load "
        "generator, everything else); db conn: new PostgreSQL connections; split: client "
        "connections held by each gateway worker"
    )
    for r in results:
        for sample in r.error_samples:
            print(f"  {r.name} error: {sample}")
    comparison = reference_comparison(results)
    if comparison:
        low, high = REFERENCE_TOKENS_PER_CORE
        print(f"\nclient_credentials vs {REFERENCE_NAME} ({low:,}-{high:,} tokens/s per core):")
        print(
            f"  this machine:           {comparison['requests_per_s']:>9,.1f}/s = "
            f"{comparison['ratio_low']:.2f}x-{comparison['ratio_high']:.2f}x of one core"
        )
        print(
            f"  per gateway CPU second: {comparison['per_gateway_cpu_s']:>9,.1f}   = "
            f"{comparison['per_core_ratio_low']:.2f}x-{comparison['per_core_ratio_high']:.2f}x"
        )


def write_json(path: Path, results: list[ScenarioResult], args: argparse.Namespace) -> None:
    low, high = REFERENCE_TOKENS_PER_CORE
    document = {
        "settings": {
            "backend": args.backend,
            "workers": args.workers,
            "concurrency": args.concurrency,
            "duration_s": args.duration,
            "max_requests": args.max_requests,
            "scenarios": args.scenarios,
        },
        "revision": source_revision(),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "reference": {
            "name": REFERENCE_NAME,
            "grant": "client_credentials",
            "tokens_per_core_s": [low, high],
            "comparison": reference_comparison(results),
        },
        "scenarios": [asdict(r) for r in results],
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {path}")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--duration",
        type=float,
        default=10.0,
        help=f"seconds per scenario, at most {MAX_DURATION_S:g} (default 10)",
    )
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=32,
        help="requests in flight at once, one asyncio task each (default 32)",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="uvicorn worker processes of the gateway (default 1)",
    )
    parser.add_argument(
        "--max-requests",
        type=positive_int,
        default=200_000,
        help="requests per scenario at most (default 200000)",
    )
    parser.add_argument(
        "--scenario",
        dest="scenarios",
        action="append",
        choices=SCENARIOS,
        help="run only this scenario (repeatable; default: all four)",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= MAX_DURATION_S:
        parser.error(f"--duration must be in (0, {MAX_DURATION_S:g}]")
    if args.concurrency > 512:
        parser.error("--concurrency must be at most 512")
    args.max_requests = min(args.max_requests, 1_000_000)
    args.scenarios = args.scenarios or list(SCENARIOS)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for name in ("COVERAGE_PROCESS_START", "COVERAGE_PROCESS_CONFIG"):
        # Inherited from a `pytest --cov` shell, these would make the gateway trace every line.
        if os.environ.pop(name, None) is not None:
            print(f"note: {name} removed from the gateway's environment", flush=True)
    if args.backend == "postgresql":
        require_loopback(POSTGRES_ADMIN_URL, "PostgreSQL")
    with tempfile.TemporaryDirectory(prefix="idp-bench-") as folder:
        workdir = Path(folder)
        pg_name: str | None = None
        gateway: Gateway | None = None
        try:
            if args.backend == "postgresql":
                pg_name, url = create_postgres_database()
            else:
                url = f"sqlite:///{workdir / 'idp.db'}"
            print(
                f"starting the gateway ({args.backend}, {args.workers} worker(s)) ...", flush=True
            )
            gateway = start_gateway(
                workdir,
                backend=args.backend,
                database_url=url,
                extra_env=BENCH_ENV,
                workers=args.workers,
            )
            require_loopback(gateway.issuer, "issuer")
            client, citizen = prepare(gateway)
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                results = runner.run(run_scenarios(gateway, pg_name, client, citizen, args))
            print_table(results, args)
            if args.json:
                write_json(args.json, results, args)
            if any(r.errors for r in results) and gateway.log_path:
                tail = gateway.log_path.read_text().splitlines()[-20:]
                print("\nlast lines of the gateway log:\n" + "\n".join(tail))
        finally:
            if gateway is not None:
                gateway.stop()
            if pg_name:
                drop_postgres_database(pg_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
