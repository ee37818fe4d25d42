"""A small agency web app on loopback, as an agency would write one against the gateway: it signs
the citizen in with the code flow (PKCE S256, state, nonce), verifies the ID token with PyJWT
(agency/verify.py), keeps the tokens in a session of its own behind its own cookie, sends the
browser to the gateway's end-session endpoint to sign out (RP-Initiated Logout 1.0), and
receives both kinds of logout: back-channel logout tokens (Back-Channel Logout 1.0), checked and
with a repeated jti told apart, and the front-channel frame the gateway's signed-out page loads
(Front-Channel Logout 1.0).

Everything it saw is kept for the test to read. It talks to the gateway over HTTP only.
Apps run on 127.0.0.1 and the gateway on localhost: cookies ignore ports, and two hosts keep the
app's cookie and the gateway's apart; each app's cookie has its own name, as apps on one host
share a cookie jar.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from agency.verify import TokenRejected, verify_id_token, verify_logout_token
from tests import http_client
from tests.citizen import AppClient

# How long the front-channel frame may be held back by a test (see `hold_front_channel`):
# bounded, so a test that never lets it go fails instead of hanging the browser.
FRONT_CHANNEL_HOLD_SECONDS = 10


@dataclass
class SignIn:
    """What a sign-in at the app left it: the verified ID token claims and the tokens."""

    claims: dict[str, Any]
    tokens: dict[str, Any]

    @property
    def sid(self) -> str | None:
        sid = self.claims.get("sid")
        return sid if isinstance(sid, str) else None


@dataclass
class AgencyApp:
    name: str
    issuer: str
    client: AppClient | None = None
    # The app's own sessions (cookie value -> sign-in) and every sign-in it ever had, so a test
    # can still try a refresh token after the app has forgotten the session.
    sessions: dict[str, SignIn] = field(default_factory=dict)
    sign_ins: list[SignIn] = field(default_factory=list)
    callbacks: list[dict[str, str]] = field(default_factory=list)
    callback_errors: list[str] = field(default_factory=list)
    logout_states: list[str] = field(default_factory=list)  # sent to the end-session endpoint
    signed_out_visits: list[dict[str, str]] = field(default_factory=list)
    signed_out_visited_at: list[float] = field(default_factory=list)  # time.monotonic()
    logout_tokens: list[str] = field(default_factory=list)  # verified, first deliveries only
    logout_claims: list[dict[str, Any]] = field(default_factory=list)
    rejected_logout_tokens: list[str] = field(default_factory=list)
    replayed_jtis: list[str] = field(default_factory=list)
    sids_ended_by_logout: list[str] = field(default_factory=list)
    front_channel_visits: list[dict[str, str]] = field(default_factory=list)
    front_channel_answered: float | None = None  # time.monotonic() of the frame's answer
    _pending: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _hold: threading.Event | None = None
    _metadata: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port: int = self._server.server_address[1]

    # The URIs the app is registered with.

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def redirect_uri(self) -> str:
        return f"{self.origin}/callback"

    @property
    def post_logout_redirect_uri(self) -> str:
        return f"{self.origin}/signed-out"

    @property
    def backchannel_logout_uri(self) -> str:
        return f"{self.origin}/backchannel-logout"

    @property
    def frontchannel_logout_uri(self) -> str:
        return f"{self.origin}/frontchannel-logout"

    @property
    def cookie_name(self) -> str:
        return f"agency-{self.port}-session"

    @property
    def gateway_origin(self) -> str:
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}"

    @contextmanager
    def serving(self, client: AppClient) -> Iterator[AgencyApp]:
        assert self._server is not None
        self.client = client
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        try:
            yield self
        finally:
            self.release_front_channel()
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)

    def hold_front_channel(self) -> None:
        """Keep the next front-channel frames unanswered until `release_front_channel` (at most
        FRONT_CHANNEL_HOLD_SECONDS), so a test can look at the signed-out page before it moves
        on: the page waits for its frames to load."""
        self._hold = threading.Event()

    def release_front_channel(self) -> None:
        if self._hold is not None:
            self._hold.set()

    def wait_until(self, condition: Callable[[], bool], *, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{self.name}: the condition did not hold in {timeout} s; logout tokens "
                        f"{len(self.logout_claims)}, rejected {self.rejected_logout_tokens}, "
                        f"front-channel visits {self.front_channel_visits}"
                    )
                self._changed.wait(left)

    # Talking to the gateway.

    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            found = http_client.get(f"{self.issuer}/.well-known/openid-configuration", timeout=10)
            found.raise_for_status()
            self._metadata = found.json()
            assert self._metadata["issuer"] == self.issuer
        return self._metadata

    def end_session_endpoint(self) -> str:
        # Discovery on main does not advertise end_session_endpoint yet (another branch adds
        # it); the gateway serves it at {issuer}/logout either way.
        endpoint: str = self.metadata().get("end_session_endpoint") or f"{self.issuer}/logout"
        return endpoint

    def jwks(self) -> dict[str, Any]:
        # Fetched for every check: the gateway publishes new keys ahead of using them.
        keys: dict[str, Any] = http_client.get(self.metadata()["jwks_uri"], timeout=10).json()
        return keys

    def refresh(self, refresh_token: str) -> httpx.Response:
        return http_client.post(
            self.metadata()["token_endpoint"],
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            auth=self._client_auth(),
            timeout=10,
        )

    def redeliver(self, logout_token: str) -> httpx.Response:
        """POST a logout token to the app again, as the gateway's retry of a delivery would."""
        return http_client.post(
            self.backchannel_logout_uri, data={"logout_token": logout_token}, timeout=10
        )

    def _client_auth(self) -> tuple[str, str]:
        assert self.client is not None and self.client.client_secret is not None
        return self.client.client_id, self.client.client_secret

    # The app's pages and endpoints.

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = dict(parse_qsl(url.query, keep_blank_values=True))
                routes = {
                    "/": app._home,
                    "/callback": app._callback,
                    "/signed-out": app._signed_out,
                    "/frontchannel-logout": app._front_channel_logout,
                }
                route = routes.get(url.path)
                if route is None:
                    self._answer(Answer(404, "Not found"))
                    return
                self._answer(route(query, self._cookie()))

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                path = urlsplit(self.path).path
                if path == "/sign-out":
                    self._answer(app._sign_out(self._cookie()))
                elif path == "/backchannel-logout":
                    self._answer(app._back_channel_logout(form.get("logout_token", "")))
                else:
                    self._answer(Answer(404, "Not found"))

            def _cookie(self) -> str:
                cookies = SimpleCookie(self.headers.get("cookie", ""))
                morsel = cookies.get(app.cookie_name)
                return morsel.value if morsel else ""

            def _answer(self, answer: Answer) -> None:
                body = answer.body.encode()
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if "Location" not in answer.headers:
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Security-Policy", answer.csp or app._page_csp())
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: pytest shows the assertions, not an access log."""

        return Handler

    def _page_csp(self) -> str:
        # The sign-out form's answer redirects to the gateway: form-action covers that target.
        return (
            f"default-src 'none'; form-action 'self' {self.gateway_origin}; "
            "base-uri 'none'; frame-ancestors 'none'"
        )

    def _page(self, title: str, body: str, status: int = 200) -> Answer:
        return Answer(
            status,
            f"<!doctype html><html lang='en'><title>{html.escape(title)} - "
            f"{html.escape(self.name)}</title><h1>{html.escape(title)}</h1>{body}",
        )

    def _home(self, query: dict[str, str], cookie: str) -> Answer:
        with self._changed:
            known = self.sessions.get(cookie)
        if known is not None:
            return self._signed_in_page(known)
        return self._start_sign_in(prompt=query.get("prompt"))

    def _start_sign_in(self, *, prompt: str | None) -> Answer:
        assert self.client is not None
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        # The pending sign-in is tied to this browser by a cookie of its own, as the state alone
        # would let another browser finish it.
        binding = secrets.token_urlsafe(16)
        with self._changed:
            self._pending[state] = (nonce, verifier, binding)
        request = {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid profile",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        if prompt:
            request["prompt"] = prompt
        location = f"{self.metadata()['authorization_endpoint']}?{urlencode(request)}"
        return Answer(
            302,
            "",
            {
                "Location": location,
                "Set-Cookie": self._cookie_header(f"pending-{binding}"),
            },
        )

    def _callback(self, query: dict[str, str], cookie: str) -> Answer:
        with self._changed:
            self.callbacks.append(query)
            pending = self._pending.pop(query.get("state", ""), None)
            self._changed.notify_all()
        if pending is None or cookie != f"pending-{pending[2]}":
            return self._failed("The answer from the gateway was not expected here.")
        if query.get("iss") != self.issuer:  # RFC 9207
            return self._failed("The answer did not come from the gateway.")
        if "error" in query:
            with self._changed:
                self.callback_errors.append(query["error"])
                self._changed.notify_all()
            return self._failed(f"The gateway answered: {query['error']}")
        nonce, verifier, _ = pending
        exchanged = http_client.post(
            self.metadata()["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": query.get("code", ""),
                "redirect_uri": self.redirect_uri,
                "code_verifier": verifier,
            },
            auth=self._client_auth(),
            timeout=10,
        )
        if exchanged.status_code != 200:
            return self._failed(f"The code was refused: {exchanged.text}")
        tokens = exchanged.json()
        try:
            claims = verify_id_token(
                tokens["id_token"],
                jwks=self.jwks(),
                issuer=self.issuer,
                client_id=self._client_auth()[0],
                nonce=nonce,
                access_token=tokens["access_token"],
            )
        except TokenRejected as error:
            return self._failed(f"The ID token was refused: {error}")
        signed_in = SignIn(claims, tokens)
        session = secrets.token_urlsafe(24)
        with self._changed:
            self.sessions[session] = signed_in
            self.sign_ins.append(signed_in)
            self._changed.notify_all()
        answer = self._signed_in_page(signed_in)
        answer.headers["Set-Cookie"] = self._cookie_header(session)
        return answer

    def _signed_in_page(self, signed_in: SignIn) -> Answer:
        return self._page(
            f"Signed in as {signed_in.claims['sub']}",
            '<form method="post" action="/sign-out"><button type="submit">Sign out</button></form>',
        )

    def _failed(self, why: str) -> Answer:
        return self._page("Not signed in", f"<p id='why'>{html.escape(why)}</p>", status=400)

    def _sign_out(self, cookie: str) -> Answer:
        """Forget the app's own session, then send the browser to the gateway to sign out there
        and of every other app of the session."""
        with self._changed:
            known = self.sessions.pop(cookie, None)
        if known is None:
            return self._failed("You were not signed in.")
        state = secrets.token_urlsafe(16)
        with self._changed:
            self.logout_states.append(state)
        query = urlencode(
            {
                "id_token_hint": known.tokens["id_token"],
                "post_logout_redirect_uri": self.post_logout_redirect_uri,
                "state": state,
            }
        )
        return Answer(
            303,
            "",
            {
                "Location": f"{self.end_session_endpoint()}?{query}",
                "Set-Cookie": f"{self.cookie_name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax",
            },
        )

    def _signed_out(self, query: dict[str, str], cookie: str) -> Answer:
        with self._changed:
            self.signed_out_visits.append(query)
            self.signed_out_visited_at.append(time.monotonic())
            expected = query.get("state") in self.logout_states
            self._changed.notify_all()
        if not expected:
            return self._failed("This sign-out was not asked for here.")
        return self._page(f"Signed out of {self.name}", "<p>Thank you for using the service.</p>")

    def _back_channel_logout(self, token: str) -> Answer:
        try:
            claims = verify_logout_token(
                token, jwks=self.jwks(), issuer=self.issuer, client_id=self._client_auth()[0]
            )
        except TokenRejected as error:
            with self._changed:
                self.rejected_logout_tokens.append(str(error))
                self._changed.notify_all()
            return Answer(400, "", {"Content-Type": "text/plain"})
        with self._changed:
            if any(seen["jti"] == claims["jti"] for seen in self.logout_claims):
                # A second delivery of one token (a retry after a lost answer): already done.
                self.replayed_jtis.append(claims["jti"])
            else:
                self.logout_tokens.append(token)
                self.logout_claims.append(claims)
                self._end_sessions(sid=claims.get("sid"), sub=claims.get("sub"))
            self._changed.notify_all()
        return Answer(200, "")

    def _front_channel_logout(self, query: dict[str, str], cookie: str) -> Answer:
        with self._changed:
            self.front_channel_visits.append(query)
            if query.get("iss") == self.issuer and query.get("sid"):
                self._end_sessions(sid=query["sid"], sub=None)
            self._changed.notify_all()
        if self._hold is not None:
            self._hold.wait(FRONT_CHANNEL_HOLD_SECONDS)
        with self._changed:
            self.front_channel_answered = time.monotonic()
            self._changed.notify_all()
        status = 200 if query.get("iss") == self.issuer else 400
        return Answer(
            status,
            "<!doctype html><title>Signed out</title>",
            # Framed by the gateway's signed-out page, and by no one else.
            csp=f"default-src 'none'; frame-ancestors {self.gateway_origin}",
        )

    def _end_sessions(self, *, sid: Any, sub: Any) -> None:
        """Called with `_changed` held: end every session of that sid (or of that subject,
        when a logout token names only one)."""
        for key, known in list(self.sessions.items()):
            if (isinstance(sid, str) and known.sid == sid) or (
                sid is None and known.claims.get("sub") == sub
            ):
                del self.sessions[key]
                self.sids_ended_by_logout.append(known.sid or "")

    def _cookie_header(self, value: str) -> str:
        return f"{self.cookie_name}={value}; Path=/; HttpOnly; SameSite=Lax"


@dataclass
class Answer:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    csp: str | None = None
