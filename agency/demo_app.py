"""A demo agency app: signs a citizen in through the gateway (code flow, PKCE, nonce) and shows
the verified claims. It talks to the gateway only over HTTP, like any agency would."""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import threading
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from agency.verify import TokenRejected, verify_id_token

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Demo agency</title><link rel="stylesheet" href="/static/style.css"></head>
<body><header class="banner"><span class="brand">Demo agency service</span></header>
<main class="page">{body}</main></body></html>"""


def build_demo_router(*, issuer: str, client_id: str, prefix: str = "/demo-agency") -> APIRouter:
    router = APIRouter(prefix=prefix)
    redirect_uri = f"{issuer}{prefix}/callback"
    pending: dict[str, tuple[str, str]] = {}
    lock = threading.Lock()

    def page(body: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(PAGE.format(body=body), status_code=status)

    @router.get("/", include_in_schema=False)
    def home() -> Response:
        return page(
            '<h1>Demo agency service</h1><p><a href="login">Sign in with the citizen '
            "gateway</a></p>"
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
            if len(pending) > 1000:
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
            return page("<h1>Sign-in failed</h1><p>Unexpected response.</p>", 400)
        if "error" in params:
            return page(f"<h1>Not signed in</h1><p>{html.escape(params['error'])}</p>", 400)
        nonce, verifier = saved
        with httpx.Client(timeout=10) as http:
            token = http.post(
                f"{issuer}/token",
                data={
                    "grant_type": "authorization_code",
                    "code": params.get("code", ""),
                    "redirect_uri": redirect_uri,
                    "client_id": client_id,
                    "code_verifier": verifier,
                },
            ).json()
            if "id_token" not in token:
                reason = html.escape(str(token.get("error_description", token.get("error", ""))))
                return page(f"<h1>Sign-in failed</h1><p>{reason}</p>", 400)
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
            return page(f"<h1>Sign-in failed</h1><p>{html.escape(str(error))}</p>", 400)
        return page(
            "<h1>You are signed in</h1>" + _table("ID token", claims) + _table("Userinfo", userinfo)
        )

    return router


def _table(title: str, claims: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in sorted(claims.items())
    )
    return f"<h2>{html.escape(title)}</h2><table>{rows}</table>"
