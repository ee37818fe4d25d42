"""A demo agency app: signs a citizen in through the gateway (code flow, PKCE, nonce), shows the
verified claims and keeps its own session until the citizen signs out of it. It talks to the
gateway only over HTTP, like any agency would, and serves its own stylesheet under its own CSP."""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import threading
from collections.abc import Callable
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from agency.verify import TokenRejected, verify_id_token, verify_logout_token

STYLESHEET = (files("agency") / "static" / "agency.css").read_bytes()
# The demo app's pages load only their own stylesheet: no script, no framing.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} &ndash; Demo agency service</title>
<link rel="stylesheet" href="{prefix}/agency.css"></head>
<body><header class="agency-banner"><a href="{prefix}/" class="agency-name">Demo agency service</a>
</header><main class="agency-page" id="main">{body}</main></body></html>"""
SESSION_COOKIE = "demo-agency-session"
_MAX_KEPT = 1000  # pending sign-ins and sessions kept in memory; a demo, not a store

PageMaker = Callable[..., HTMLResponse]


def build_demo_router(*, issuer: str, client_id: str, prefix: str = "/demo-agency") -> APIRouter:
    router = APIRouter(prefix=prefix)
    redirect_uri = f"{issuer}{prefix}/callback"
    pending: dict[str, tuple[str, str]] = {}
    # The app's own sessions: what it learnt at sign-in, until the citizen signs out of it.
    sessions: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()

    def page(title: str, body: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(
            PAGE.format(title=html.escape(title), body=body, prefix=prefix),
            status_code=status,
            headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"},
        )

    def session_of(request: Request) -> dict[str, Any] | None:
        with lock:
            return sessions.get(request.cookies.get(SESSION_COOKIE, ""))

    @router.get("/agency.css", include_in_schema=False)
    def stylesheet() -> Response:
        return Response(STYLESHEET, media_type="text/css", headers={"Cache-Control": "max-age=300"})

    @router.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        known = session_of(request)
        if known is not None:
            return _signed_in_page(page, prefix, known)
        return page(
            "Welcome",
            "<h1>Demo agency service</h1><p>This is an agency's own service. It asks the citizen "
            "gateway who you are.</p>"
            f'<p><a class="agency-button" href="{prefix}/login">Sign in with the citizen '
            "gateway</a></p>",
        )

    @router.get("/login", include_in_schema=False)
    def login() -> Response:
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)  # RFC 7636 4.1: 43 to 128 characters
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        with lock:
            if len(pending) > _MAX_KEPT:
                pending.clear()
            pending[state] = (nonce, verifier)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid profile email",
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        return RedirectResponse(f"{issuer}/authorize?{query}", status_code=302)

    @router.get("/callback", include_in_schema=False)
    def callback(request: Request) -> Response:
        params = request.query_params
        with lock:
            saved = pending.pop(params.get("state", ""), None)
        if saved is None or params.get("iss") != issuer:
            return _failed(page, prefix, "The answer from the gateway was not expected.")
        if "error" in params:
            return _failed(page, prefix, f"The gateway answered: {params['error']}.")
        nonce, verifier = saved
        known = _redeem(
            issuer=issuer,
            client_id=client_id,
            redirect_uri=redirect_uri,
            code=params.get("code", ""),
            nonce=nonce,
            verifier=verifier,
        )
        if isinstance(known, str):
            return _failed(page, prefix, known)
        session = secrets.token_urlsafe(32)
        with lock:
            if len(sessions) > _MAX_KEPT:
                sessions.clear()
            sessions[session] = known
        response = _signed_in_page(page, prefix, known)
        response.set_cookie(
            SESSION_COOKIE,
            session,
            path=prefix,
            httponly=True,
            samesite="lax",
            secure=issuer.startswith("https://"),
        )
        return response

    @router.post("/sign-out", include_in_schema=False)
    def sign_out(request: Request) -> Response:
        """Ends the app's own session, then sends the browser to the gateway's end-session
        endpoint (RP-Initiated Logout 1.0) with the ID token as the hint: the gateway signs the
        citizen out of every service and sends the browser back here."""
        with lock:
            known = sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)
        target = (
            f"{prefix}/signed-out" if known is None else _end_session_url(issuer, prefix, known)
        )
        response = RedirectResponse(target, status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=prefix)
        return response

    @router.get("/signed-out", include_in_schema=False)
    def signed_out() -> Response:
        return page(
            "Signed out",
            "<h1>You have signed out</h1><p>You have signed out of this service and of the "
            "citizen gateway: signing in again asks for your password.</p>"
            f'<p><a href="{prefix}/">Back to the start</a></p>',
        )

    @router.post("/backchannel-logout", include_in_schema=False)
    async def backchannel_logout(request: Request) -> Response:
        """The gateway says a citizen signed out elsewhere (Back-Channel Logout 1.0): the
        app ends its sessions of that gateway session."""
        # In a worker thread: the app checks the token against the gateway's JWKS over HTTP,
        # and runs in the gateway's own process, whose event loop must stay free to answer.
        sid = await run_in_threadpool(
            _logout_sid, issuer, client_id, (await request.form()).get("logout_token")
        )
        with lock:
            _forget_gateway_session(sessions, sid)
        return Response(
            status_code=400 if sid is None else 200, headers={"Cache-Control": "no-store"}
        )

    return router


def post_logout_redirect_uri(issuer: str, prefix: str = "/demo-agency") -> str:
    return f"{issuer}{prefix}/signed-out"


def backchannel_logout_uri(issuer: str, prefix: str = "/demo-agency") -> str:
    return f"{issuer}{prefix}/backchannel-logout"


def _end_session_url(issuer: str, prefix: str, known: dict[str, Any]) -> str:
    query = urlencode(
        {
            "id_token_hint": known["raw_id_token"],
            "post_logout_redirect_uri": post_logout_redirect_uri(issuer, prefix),
        }
    )
    return f"{issuer}/logout?{query}"


def _forget_gateway_session(sessions: dict[str, dict[str, Any]], sid: str | None) -> None:
    for key in [k for k, v in sessions.items() if sid and v["id_token"].get("sid") == sid]:
        sessions.pop(key, None)


def _logout_sid(issuer: str, client_id: str, token: object) -> str | None:
    """The `sid` of a logout token that passes every check, else None."""
    try:
        with httpx.Client(timeout=10) as http:
            jwks = http.get(f"{issuer}/jwks.json").json()
        claims = verify_logout_token(
            str(token or ""), jwks=jwks, issuer=issuer, client_id=client_id
        )
    except (TokenRejected, httpx.HTTPError):
        return None
    sid = claims.get("sid")
    return sid if isinstance(sid, str) else None


def _redeem(
    *, issuer: str, client_id: str, redirect_uri: str, code: str, nonce: str, verifier: str
) -> dict[str, Any] | str:
    """The code exchanged, the ID token verified (PyJWT) and userinfo read; or why not."""
    with httpx.Client(timeout=10) as http:
        token = http.post(
            f"{issuer}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": client_id,
                "code_verifier": verifier,
            },
        ).json()
        if "id_token" not in token:
            return str(token.get("error_description", token.get("error", "")))
        jwks = http.get(f"{issuer}/jwks.json").json()
        userinfo = http.get(
            f"{issuer}/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"}
        ).json()
    try:
        claims = verify_id_token(
            token["id_token"],
            jwks=jwks,
            issuer=issuer,
            client_id=client_id,
            nonce=nonce,
            access_token=token["access_token"],
        )
    except TokenRejected as error:
        return str(error)
    return {"id_token": claims, "userinfo": userinfo, "raw_id_token": token["id_token"]}


def _signed_in_page(page: PageMaker, prefix: str, known: dict[str, Any]) -> HTMLResponse:
    return page(
        "You are signed in",
        "<h1>You are signed in</h1>"
        + _table("What the ID token says", known["id_token"])
        + _table("What the userinfo endpoint says", known["userinfo"])
        + f'<form method="post" action="{prefix}/sign-out">'
        '<button type="submit" class="agency-button">Sign out</button></form>',
    )


def _failed(page: PageMaker, prefix: str, reason: str) -> HTMLResponse:
    return page(
        "Sign-in failed",
        f"<h1>Sign-in failed</h1><p>{html.escape(reason)}</p>"
        f'<p><a href="{prefix}/">Back to the start</a></p>',
        400,
    )


def _table(title: str, claims: dict[str, Any]) -> str:
    rows = "".join(
        f'<tr><th scope="row">{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>'
        for k, v in sorted(claims.items())
    )
    caption = html.escape(title)
    return f'<table class="claims"><caption>{caption}</caption><tbody>{rows}</tbody></table>'
