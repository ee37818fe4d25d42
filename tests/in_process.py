"""The gateway built in the test process (gateway.app.build_app) behind Starlette's TestClient,
with its lifespan run and a clock the test moves forward: expiry is tested without sleeping.

It has the helper surface of tests/gateway_process.Gateway that the HTTP helpers use (issuer,
database_url, clock, metadata, jwks) plus `http`, a client for the app, and `browser()`.
Tests that need a real `idp serve` (the command line, browsers, relying parties, races between
processes, migrations, outages, fuzzing) stay on tests/gateway_process.py.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from admin.settings import ConsoleSettings
from gateway.app import build_app
from gateway.command_runtime import ensure_keys_logged
from gateway.schema import upgrade_database
from idp.settings import IdpSettings
from tests.citizen import TRUSTED_PROXY, Browser
from transparency.settings import AccessLogSettings

ISSUER = "http://localhost:8400"  # never listened on: requests go straight to the app


class MovableClock:
    """The real UTC time plus however far the test has moved it on; frozen, it moves only when
    the test moves it (for margins a loaded machine could otherwise eat)."""

    def __init__(self) -> None:
        self._offset = timedelta()
        self._frozen_at: datetime | None = None
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return (self._frozen_at or datetime.now(UTC)) + self._offset

    def freeze(self) -> None:
        with self._lock:
            self._frozen_at = datetime.now(UTC)

    def unfreeze(self) -> None:
        """Real time again, going on from the frozen moment (never back)."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset += self._frozen_at - datetime.now(UTC)
                self._frozen_at = None

    @contextmanager
    def frozen(self) -> Iterator[None]:
        self.freeze()
        try:
            yield
        finally:
            self.unfreeze()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += timedelta(seconds=seconds)


@dataclass
class InProcessGateway:
    issuer: str
    database_url: str
    backend: str
    workdir: Path
    settings: IdpSettings
    app: FastAPI
    http: TestClient
    clock: MovableClock
    _clients: list[TestClient] = field(default_factory=list)

    def client(self, *, source: str | bytes | None = None) -> TestClient:
        """A client with cookies of its own; `source` as in tests.citizen.Browser: connecting
        from the trusted proxy, which names `source` in X-Forwarded-For."""
        if source is None:
            made = TestClient(
                self.app, base_url=self.issuer, follow_redirects=False, client=("127.0.0.1", 50000)
            )
        else:
            made = TestClient(
                self.app,
                base_url=self.issuer,
                follow_redirects=False,
                client=(TRUSTED_PROXY, 50000),
                headers={"X-Forwarded-For": source if isinstance(source, str) else source.decode()},
            )
        self._clients.append(made)
        return made

    def browser(self, *, source: str | bytes | None = None) -> Browser:
        return Browser(self.issuer, http=self.client(source=source))

    def metadata(self) -> dict[str, Any]:
        data: dict[str, Any] = self.http.get("/.well-known/openid-configuration").json()
        return data

    def jwks(self) -> dict[str, Any]:
        data: dict[str, Any] = self.http.get("/jwks.json").json()
        return data


@contextmanager
def run_in_process(
    workdir: Path, *, backend: str, database_url: str, env: dict[str, str]
) -> Iterator[InProcessGateway]:
    """`env`: IDP_* settings as the real gateway would read them from its environment."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("IDP_")]:
            patch.delenv(name)
        for name, value in {
            **env,
            "IDP_ISSUER": ISSUER,
            "IDP_DATABASE_URL": database_url,
            "IDP_KEYS_DIR": str(workdir / "keys"),
        }.items():
            patch.setenv(name, value)
        settings = IdpSettings()
        log_settings = AccessLogSettings()
        console_settings = ConsoleSettings()
    upgrade_database(database_url)
    ensure_keys_logged(settings)
    clock = MovableClock()
    app = build_app(settings, log_settings, clock=clock, console_settings=console_settings)
    with TestClient(
        app, base_url=ISSUER, follow_redirects=False, client=("127.0.0.1", 50000)
    ) as http:  # runs the lifespan: the sequencer, the thread limits
        gateway = InProcessGateway(
            issuer=ISSUER,
            database_url=database_url,
            backend=backend,
            workdir=workdir,
            settings=settings,
            app=app,
            http=http,
            clock=clock,
        )
        try:
            yield gateway
        finally:
            for client in gateway._clients:
                client.close()
