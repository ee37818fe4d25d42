"""Fixtures: a real gateway per storage backend (SQLite and PostgreSQL), its clients and
citizens, and browsers that talk to it over HTTP."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from idp.authentication.passwords import configure_password_hashing
from idp.storage.database import Database, create_database_engine
from tests import http_client
from tests.builders import CitizenAccount, add_citizen, register_app
from tests.citizen import (
    TRUSTED_PROXY,
    AppClient,
    Browser,
    authorization_params,
    callback_params,
    split_verifier,
)
from tests.databases import create_postgres_database, drop_postgres_database, migrated_database_for
from tests.gateway_process import Gateway, start_gateway
from tests.in_process import InProcessGateway, run_in_process

pytest_plugins = ["tests.scheduling"]

BACKENDS = ["sqlite", "postgresql"]
TAX_OFFICE_PURPOSE = "To fill in your income tax return for you"
# Short enough to test expiry in seconds, long enough for any flow in the suite.
TEST_ENV = {
    "IDP_AUTHORIZATION_CODE_LIFETIME": "10",
    "IDP_KEY_PUBLISH_LEAD": "6",
    "IDP_JWKS_MAX_AGE": "1",
    # Tests speak from other addresses through this proxy. The rest come from 127.0.0.1, whose
    # failed sign-ins in the whole suite (about 15) stay below the per-source limit, which is
    # small enough to reach cheaply from another address.
    "IDP_TRUSTED_PROXIES": TRUSTED_PROXY,
    "IDP_SIGN_IN_SOURCE_ATTEMPTS": "25",
    # Refills and waits far longer than any test takes, so a refusal the suite expects cannot
    # lapse on a slow machine; no test on the shared gateway waits for one to end.
    "IDP_SIGN_IN_SOURCE_WINDOW": "3600",
    "IDP_SIGN_IN_FIRST_DELAY": "600",
    # A logout token an app never accepts is given up within seconds (the access log test
    # records one of each delivery outcome); tests of retries set their own.
    "IDP_LOGOUT_RETRY_FIRST": "1",
    # Administrators in the tests sign in with a password; the console's own default (a second
    # factor, substantial) is tested in tests/admin/test_console_assurance.py.
    "IDP_ADMIN_MINIMUM_LEVEL": "low",
    # OWASP's minimum argon2id profile instead of the default, which costs about five times
    # as much CPU at every sign-in and every account made;
    # tests/idp/authentication/unit/test_passwords.py keeps the default and the minimum's floor
    # checked.
    "IDP_PASSWORD_HASH_MEMORY": "19456",
    "IDP_PASSWORD_HASH_ITERATIONS": "2",
    "IDP_PASSWORD_HASH_PARALLELISM": "1",
    "IDP_LOGOUT_GIVE_UP_AFTER": "2",
}


# Accounts the tests make in this process are hashed as the gateways under test hash them.
configure_password_hashing(
    memory_kib=int(TEST_ENV["IDP_PASSWORD_HASH_MEMORY"]),
    iterations=int(TEST_ENV["IDP_PASSWORD_HASH_ITERATIONS"]),
    parallelism=int(TEST_ENV["IDP_PASSWORD_HASH_PARALLELISM"]),
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `cases_split_between_engines` (the accessibility audits of the pages, whose
    subject does not change with the engine) run each case once, on the engine its case picks,
    so both engines serve half the cases and no case is audited twice."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        engine = callspec.params.get("gateway") if callspec else None
        if item.get_closest_marker("cases_split_between_engines") and engine in BACKENDS:
            case = sorted((k, str(v)) for k, v in callspec.params.items() if k != "gateway")
            chosen = BACKENDS[zlib.crc32(repr(case).encode()) % len(BACKENDS)]
            if engine != chosen:
                dropped.append(item)
                continue
        kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database on each backend, dropped after the test: for tests of the
    migrations themselves."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'idp.db'}"
        return
    name, url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(name)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database on each backend at the newest migration (a copy of a migrated template,
    tests/databases.py), dropped after the test."""
    url, name = migrated_database_for(request.param, tmp_path)
    try:
        yield url
    finally:
        if name:
            drop_postgres_database(name)


@pytest.fixture
def migrated_database(database_url: str) -> Iterator[Database]:
    """A new database on each backend with every migration applied, for tests below HTTP."""
    engine = create_database_engine(database_url)
    try:
        yield Database(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    backend = request.param
    workdir = tmp_path_factory.mktemp(f"gateway-{backend}")
    url, pg_name = migrated_database_for(backend, workdir)
    running = start_gateway(workdir, backend=backend, database_url=url, extra_env=TEST_ENV)
    try:
        yield running
    finally:
        running.stop()
        if pg_name:
            drop_postgres_database(pg_name)
    # Every bad input in the suite must have had a spec-shaped answer, never a server error.
    log = running.log_path.read_text() if running.log_path else ""
    assert "Traceback" not in log and "unexpected error" not in log, log[-4000:]


@pytest.fixture(scope="module", params=BACKENDS)
def in_process_gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InProcessGateway]:
    """The gateway built in this process, its clock the test's to move (tests/in_process.py);
    one per module and backend, with the settings of the real test gateway."""
    with in_process_gateway_with(TEST_ENV, request.param, tmp_path_factory) as running:
        yield running


@contextmanager
def in_process_gateway_with(
    env: dict[str, str], backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InProcessGateway]:
    """An in-process gateway with settings of its own (`env`), on a database of its own."""
    workdir = tmp_path_factory.mktemp(f"in-process-{backend}")
    url, pg_name = migrated_database_for(backend, workdir)
    try:
        with run_in_process(workdir, backend=backend, database_url=url, env=env) as running:
            yield running
    finally:
        if pg_name:
            drop_postgres_database(pg_name)


def _http(gateway: Gateway | InProcessGateway) -> Any:
    """What to send a request with: the in-process gateway's client, or tests.http_client over
    the network."""
    return gateway.http if isinstance(gateway, InProcessGateway) else http_client


@pytest.fixture(scope="session")
def app_a(gateway: Gateway) -> AppClient:
    return register_app(
        gateway,
        "--scope",
        "openid",
        "--scope",
        "profile",
        "--scope",
        "email",
        "--scope",
        "national_id",
        "--purpose",
        TAX_OFFICE_PURPOSE,
        name="Tax office",
    )


@pytest.fixture(scope="session")
def app_b(gateway: Gateway) -> AppClient:
    return register_app(gateway, name="Health service")


@pytest.fixture(scope="session")
def public_app(gateway: Gateway) -> AppClient:
    return register_app(
        gateway, "--public", name="Mobile app", redirect_uris=["http://127.0.0.1:9/callback"]
    )


@pytest.fixture(scope="session")
def citizen(gateway: Gateway) -> CitizenAccount:
    return add_citizen(
        gateway,
        given_name="Mari",
        family_name="Maasikas",
        email="mari@example.org",
        birthdate="1985-03-14",
        national_id="48503140001",
    )


@pytest.fixture(scope="session")
def other_citizen(gateway: Gateway) -> CitizenAccount:
    return add_citizen(gateway, given_name="Jaan", family_name="Tamm")


@pytest.fixture
def browser(gateway: Gateway) -> Iterator[Browser]:
    opened = Browser(gateway.issuer)
    yield opened
    opened.close()


@dataclass
class CodeResult:
    params: dict[str, str]  # what arrived at the redirect URI
    request: dict[str, str]  # the authorization request sent
    verifier: str


def obtain_code(
    browser: Browser, app: AppClient, citizen: CitizenAccount | None, **overrides: Any
) -> CodeResult:
    request, verifier = split_verifier(authorization_params(app, **overrides))
    response = browser.follow_to_client(
        browser.authorize(request),
        username=citizen.username if citizen else None,
        password=citizen.password if citizen else None,
    )
    assert response.status_code in (302, 303), response.text[:500]
    return CodeResult(callback_params(response), request, verifier)


def exchange_code(
    gateway: Gateway | InProcessGateway, app: AppClient, result: CodeResult, **overrides: str | None
) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": result.params.get("code", ""),
        "redirect_uri": result.request["redirect_uri"],
        "code_verifier": result.verifier,
    }
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    auth = (app.client_id, app.client_secret) if app.client_secret else None
    if auth is None:
        data["client_id"] = app.client_id
    response: httpx.Response = _http(gateway).post(f"{gateway.issuer}/token", data=data, auth=auth)
    return response


def userinfo(gateway: Gateway | InProcessGateway, access_token: str) -> httpx.Response:
    response: httpx.Response = _http(gateway).get(
        f"{gateway.issuer}/userinfo", headers={"Authorization": f"Bearer {access_token}"}
    )
    return response


def signed_in_tokens(
    gateway: Gateway | InProcessGateway,
    browser: Browser,
    app: AppClient,
    citizen: CitizenAccount,
    **overrides: Any,
) -> dict[str, Any]:
    result = obtain_code(browser, app, citizen, **overrides)
    response = exchange_code(gateway, app, result)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    body["_request"] = result.request
    return body
