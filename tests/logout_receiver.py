"""A small agency back end on loopback that receives back-channel logout tokens (Back-Channel
Logout 1.0 section 2.5), checks each with the agency-side helper (PyJWT against the JWKS), and
keeps what it saw: the claims in order, and every jti delivered more than once.

It can be started and stopped on the same port, to play an app that is down during a sign-out
and comes back later. `app_with_logout_receiver` registers an app whose back-channel logout URI
is a receiver's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs

from agency.verify import TokenRejected, verify_logout_token
from tests.builders import Target, register_app
from tests.citizen import AppClient
from tests.gateway_process import free_port


@dataclass
class LogoutReceiver:
    issuer: str
    client_id: str
    jwks: Callable[[], dict[str, Any]]
    port: int = field(default_factory=free_port)
    # The gateway's clock, which a test may have moved on: the difference from the real time is
    # allowed on top of the usual leeway, as a real app's clock would agree with the gateway's.
    clock: Callable[[], datetime] | None = None
    leeway: int = 30
    received: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    replayed_jtis: list[str] = field(default_factory=list)
    # Receivers sharing a barrier answer only once each has a delivery in hand (503 when the
    # barrier's timeout passes first): they show whether deliveries are sent at once.
    meet: threading.Barrier | None = None
    _server: ThreadingHTTPServer | None = None
    _changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def uri(self) -> str:
        return _receiver_uri(self.port)

    def start(self) -> LogoutReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                status = receiver._meet() or receiver._receive(form.get("logout_token", [""])[0])
                self.send_response(status)
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _meet(self) -> int | None:
        if self.meet is None:
            return None
        try:
            self.meet.wait()
        except threading.BrokenBarrierError:
            return 503
        return None

    def _receive(self, token: str) -> int:
        try:
            claims = verify_logout_token(
                token,
                jwks=self.jwks(),
                issuer=self.issuer,
                client_id=self.client_id,
                leeway=self.leeway + self._clock_difference(),
            )
        except TokenRejected as error:
            with self._changed:
                self.rejected.append(str(error))
                self._changed.notify_all()
            return 400
        with self._changed:
            if any(seen["jti"] == claims["jti"] for seen in self.received):
                self.replayed_jtis.append(claims["jti"])
            self.received.append(claims)
            self._changed.notify_all()
        return 200

    def _clock_difference(self) -> int:
        if self.clock is None:
            return 0
        return int(abs((self.clock() - datetime.now(UTC)).total_seconds()))

    def wait_for(self, count: int, *, timeout: float = 15) -> list[dict[str, Any]]:
        """The first `count` tokens, waiting at most `timeout` seconds for them to arrive."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{self.client_id}: {len(self.received)} of {count} logout tokens "
                        f"arrived (rejected: {self.rejected})"
                    )
                self._changed.wait(left)
            return list(self.received[:count])


class _Issuer(Target, Protocol):
    """A gateway under test whose logout tokens a receiver checks."""

    @property
    def issuer(self) -> str: ...

    def jwks(self) -> dict[str, Any]: ...


def app_with_logout_receiver(
    gateway: _Issuer,
    *extra: str,
    name: str,
    redirect_uris: list[str] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> tuple[AppClient, LogoutReceiver]:
    """An app registered as `idp clients add --backchannel-logout-uri` does it (`extra`, `name`,
    `redirect_uris` as in `register_app`), and the receiver listening at that URI for its
    tokens, not yet started; `clock` as in `LogoutReceiver`."""
    port = free_port()
    app = register_app(
        gateway,
        "--backchannel-logout-uri",
        _receiver_uri(port),
        *extra,
        name=name,
        redirect_uris=redirect_uris,
    )
    receiver = LogoutReceiver(
        issuer=gateway.issuer, client_id=app.client_id, jwks=gateway.jwks, port=port, clock=clock
    )
    return app, receiver


def _receiver_uri(port: int) -> str:
    return f"http://127.0.0.1:{port}/backchannel-logout"
