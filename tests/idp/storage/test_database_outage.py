"""The database going away: OAuth endpoints answer 503 `temporarily_unavailable` with
Retry-After, citizens' pages a readable 503 page, readiness turns not-ready while liveness stays,
the outage is logged once when it begins and once when it ends, and everything works again
after it without a restart (the sequencer included).

PostgreSQL is shared with other work, so it is never stopped: the gateway reaches it through a
loopback proxy that the test cuts. SQLite's outage is its database locked past the busy timeout.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests import http_client
from tests.citizen import AppClient, Browser, authorization_params, split_verifier
from tests.conftest import TEST_ENV, CitizenAccount, signed_in_tokens
from tests.cuttable_proxy import CuttableProxy
from tests.databases import (
    drop_postgres_database,
    migrated_postgres_database,
    migrated_sqlite_database,
)
from tests.direct_records import add_app, add_person
from tests.gateway_process import Gateway, start_gateway

SEQUENCE_INTERVAL = 0.2  # several sequencer turns fail during the outage


@dataclass
class Scene:
    gateway: Gateway
    proxy: CuttableProxy
    app: AppClient
    citizen: CitizenAccount
    browsers: list[Browser] = field(default_factory=list)

    def browser(self) -> Browser:
        opened = Browser(self.gateway.issuer)
        self.browsers.append(opened)
        return opened


@pytest.fixture
def proxied_gateway(tmp_path: Path) -> Iterator[Scene]:
    name, url = migrated_postgres_database()
    proxy = CuttableProxy(("127.0.0.1", 5432))
    proxy.restore()
    proxied_url = url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/")
    gateway = start_gateway(
        tmp_path,
        backend="postgresql",
        database_url=proxied_url,
        extra_env={**TEST_ENV, "IDP_LOG_SEQUENCE_INTERVAL": str(SEQUENCE_INTERVAL)},
    )
    try:
        app = add_app(
            url,
            name="Tax office",
            redirect_uris=["https://tax.example/cb"],
            grant_types=["authorization_code", "refresh_token", "client_credentials"],
        )
        scene = Scene(gateway, proxy, app, add_person(url, given_name="Mari"))
        yield scene
    finally:
        for browser in scene.browsers:
            browser.close()
        gateway.stop()
        proxy.cut()
        drop_postgres_database(name)


def _basic(app: AppClient) -> dict[str, str]:
    pair = f"{app.client_id}:{app.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def _oauth_requests(scene: Scene, browser: Browser) -> dict[str, Callable[[], httpx.Response]]:
    issuer, app = scene.gateway.issuer, scene.app
    tokens = signed_in_tokens(scene.gateway, browser, app, scene.citizen)
    spare = signed_in_tokens(scene.gateway, browser, app, scene.citizen)["refresh_token"]
    return {
        "/token": lambda: http_client.post(
            f"{issuer}/token", data={"grant_type": "client_credentials"}, headers=_basic(app)
        ),
        "/userinfo": lambda: http_client.get(
            f"{issuer}/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        ),
        "/introspect": lambda: http_client.post(
            f"{issuer}/introspect", data={"token": tokens["access_token"]}, headers=_basic(app)
        ),
        "/revoke": lambda: http_client.post(
            f"{issuer}/revoke", data={"token": spare}, headers=_basic(app)
        ),
    }


def _page_requests(scene: Scene, signed_in: Browser) -> dict[str, Callable[[], httpx.Response]]:
    """Each page as a browser in the middle of a flow would ask for it."""
    issuer = scene.gateway.issuer
    signing_in = scene.browser()
    request, _ = split_verifier(authorization_params(scene.app))
    sign_in_url = issuer + signing_in.authorize(request).headers["location"]
    consent_app = add_app(
        scene.gateway.env["IDP_DATABASE_URL"].replace(f":{scene.proxy.port}/", ":5432/"),
        name="Health service",
        redirect_uris=["https://health.example/cb"],
    )
    request, _ = split_verifier(authorization_params(consent_app))
    consent_start = signed_in.authorize(request)
    assert consent_start.headers["location"].startswith("/consent?"), consent_start.text
    consent_url = issuer + consent_start.headers["location"]
    fresh = scene.browser()
    request, _ = split_verifier(authorization_params(scene.app))
    return {
        "/authorize": lambda: fresh.authorize(request),
        "/sign-in": lambda: signing_in.http.get(sign_in_url),
        "/consent": lambda: signed_in.http.get(consent_url),
        "/account": lambda: signed_in.http.get(f"{issuer}/account"),
        # Asks the citizen signed in whether to sign out (no id_token_hint names them).
        "/logout": lambda: signed_in.http.get(f"{issuer}/logout"),
        "/open-data/": lambda: fresh.http.get(f"{issuer}/open-data/"),
    }


def _tree_size(gateway: Gateway) -> int:
    signed = http_client.get(f"{gateway.issuer}/transparency/checkpoint").text
    payload = signed.split(".")[1]
    return int(
        json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["tree_size"]
    )


def _wait_for_tree_size(gateway: Gateway, at_least: int) -> int:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        size = _tree_size(gateway)
        if size >= at_least:
            return size
        time.sleep(SEQUENCE_INTERVAL)
    raise AssertionError(f"the sequencer did not reach {at_least} entries")


def test_postgresql_outage_gives_503_and_recovers_without_a_restart(
    proxied_gateway: Scene,
) -> None:
    scene, issuer = proxied_gateway, proxied_gateway.gateway.issuer
    signed_in = scene.browser()
    oauth = _oauth_requests(scene, signed_in)
    pages = _page_requests(scene, signed_in)
    before = _wait_for_tree_size(scene.gateway, 1)

    scene.proxy.cut()
    for path, send in oauth.items():
        response = send()
        assert response.status_code == 503, (path, response.text)
        assert response.json()["error"] == "temporarily_unavailable", path
        assert int(response.headers["retry-after"]) > 0, path
        assert response.headers["cache-control"] == "no-store", path
    for path, send in pages.items():
        response = send()
        assert response.status_code == 503, (path, response.text[:300])
        assert response.headers["content-type"].startswith("text/html"), path
        assert "the service is unavailable" in response.text, path
        assert int(response.headers["retry-after"]) > 0, path
    ready = http_client.get(f"{issuer}/readyz")
    assert ready.status_code == 503 and ready.json() == {"status": "unavailable"}
    assert http_client.get(f"{issuer}/healthz").status_code == 200
    # The sequencer's turns fail meanwhile (a turn every SEQUENCE_INTERVAL seconds on the wall
    # clock): none of them may log a traceback.
    time.sleep(5 * SEQUENCE_INTERVAL)

    scene.proxy.restore()
    assert http_client.get(f"{issuer}/readyz").status_code == 200
    statuses = {path: send().status_code for path, send in oauth.items()}
    assert statuses == {"/token": 200, "/userinfo": 200, "/introspect": 200, "/revoke": 200}
    statuses = {path: send().status_code for path, send in pages.items()}
    assert statuses == {
        "/authorize": 303,
        "/sign-in": 200,
        "/consent": 200,
        "/account": 200,
        "/logout": 200,
        "/open-data/": 200,
    }
    # The entries written after the outage get their place in the tree: the sequencer resumed.
    _wait_for_tree_size(scene.gateway, before + 3)

    assert scene.gateway.log_path is not None
    log = scene.gateway.log_path.read_text()
    assert log.count("database outage began") == 1, log[-3000:]
    assert log.count("database outage ended") == 1, log[-3000:]
    assert "Traceback" not in log and "unexpected error" not in log, log[-3000:]


def test_sqlite_locked_past_the_busy_timeout_gives_503(tmp_path: Path) -> None:
    path = tmp_path / "idp.db"
    gateway = start_gateway(
        tmp_path,
        backend="sqlite",
        database_url=migrated_sqlite_database(path),
        extra_env=TEST_ENV,
    )
    try:
        app = add_app(
            f"sqlite:///{path}",
            name="Tax office",
            redirect_uris=["https://tax.example/cb"],
            grant_types=["client_credentials"],
        )
        token = lambda: http_client.post(  # noqa: E731
            f"{gateway.issuer}/token",
            data={"grant_type": "client_credentials"},
            headers=_basic(app),
            timeout=30,
        )
        assert token().status_code == 200
        # Another process holds the write lock longer than the gateway's busy timeout.
        holder = sqlite3.connect(path, isolation_level=None, timeout=1)
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("INSERT INTO log_state (id, tree_size, frontier) SELECT -1, 0, '[]' WHERE 0")
        locked = token()
        holder.execute("ROLLBACK")
        holder.close()
        assert locked.status_code == 503, locked.text
        assert locked.json()["error"] == "temporarily_unavailable"
        assert int(locked.headers["retry-after"]) > 0
        assert token().status_code == 200
    finally:
        gateway.stop()
    assert gateway.log_path is not None
    log = gateway.log_path.read_text()
    assert log.count("database outage began") == 1, log[-3000:]
    assert log.count("database outage ended") == 1, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
