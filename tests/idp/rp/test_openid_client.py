"""An independent relying party (npm openid-client v6, tests/idp/rp/rp.mjs) against the gateway.

Our own helpers share our assumptions; openid-client does not. It checks discovery, the RFC 9207
`iss` parameter, state, PKCE, the ID token signature against jwks_uri and every ID token claim,
and that UserInfo answers for the same subject.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.citizen import AppClient, Browser
from tests.conftest import CitizenAccount, register_app
from tests.gateway_process import Gateway

RP_DIR = Path(__file__).resolve().parent
RP_SCRIPT = RP_DIR / "rp.mjs"
NODE = shutil.which("node")
# Discovery, a token request and UserInfo on loopback take well under a second; a hang fails.
NODE_TIMEOUT = 60

pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(NODE is None, reason="`node` is not on PATH (Node 20+ runs tests/idp/rp)"),
    pytest.mark.skipif(
        not (RP_DIR / "node_modules").is_dir(),
        reason="tests/idp/rp/node_modules is absent: run `npm ci --prefix tests/idp/rp` "
        "(see .ci/install-e2e.sh)",
    ),
]


def run_rp(*args: str) -> subprocess.CompletedProcess[str]:
    assert NODE is not None
    return subprocess.run(
        [NODE, str(RP_SCRIPT), *args],
        cwd=RP_DIR,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
        check=False,
    )


def rp_json(*args: str) -> dict[str, Any]:
    result = run_rp(*args)
    assert result.returncode == 0, f"rp.mjs {args[0]} failed: {result.stderr}"
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture
def rp_app(gateway: Gateway) -> AppClient:
    """A confidential client of its own, so consent is asked for and given in each test."""
    return register_app(
        gateway,
        "--scope",
        "openid",
        "--scope",
        "profile",
        "--scope",
        "email",
        name="Node relying party",
        redirect_uris=["http://127.0.0.1:9/rp/callback"],
    )


def start(gateway: Gateway, app: AppClient) -> dict[str, str]:
    assert app.client_secret
    return rp_json("start", gateway.issuer, app.client_id, app.client_secret, app.redirect_uri)


def sign_in_and_consent(browser: Browser, started: dict[str, str], citizen: CitizenAccount) -> str:
    """The citizen's part over HTTP; returns the callback URL the relying party receives."""
    response = browser.follow_to_client(
        browser.http.get(started["authorization_url"]),
        username=citizen.username,
        password=citizen.password,
    )
    assert response.status_code in (302, 303), response.text[:500]
    location: str = response.headers["location"]
    return location


def finish(
    gateway: Gateway, app: AppClient, started: dict[str, str], callback_url: str, **overrides: str
) -> subprocess.CompletedProcess[str]:
    assert app.client_secret
    checks = {key: started[key] for key in ("code_verifier", "state", "nonce")} | overrides
    return run_rp(
        "finish",
        gateway.issuer,
        app.client_id,
        app.client_secret,
        callback_url,
        checks["code_verifier"],
        checks["state"],
        checks["nonce"],
    )


def test_openid_client_completes_the_code_flow(
    gateway: Gateway, browser: Browser, rp_app: AppClient, citizen: CitizenAccount
) -> None:
    started = start(gateway, rp_app)
    sent = parse_qs(urlsplit(started["authorization_url"]).query)
    assert started["authorization_url"].startswith(f"{gateway.issuer}/authorize?")
    assert sent["code_challenge_method"] == ["S256"]
    assert sent["scope"] == ["openid profile email"]

    callback_url = sign_in_and_consent(browser, started, citizen)
    assert callback_url.startswith(f"{rp_app.redirect_uri}?")

    result = finish(gateway, rp_app, started, callback_url)
    assert result.returncode == 0, f"rp.mjs finish failed: {result.stderr}"
    data = json.loads(result.stdout)
    claims, info = data["claims"], data["userinfo"]
    assert claims["sub"] == citizen.subject
    assert claims["iss"] == gateway.issuer
    assert claims["nonce"] == started["nonce"]
    assert rp_app.client_id in (
        [claims["aud"]] if isinstance(claims["aud"], str) else claims["aud"]
    )
    assert info["sub"] == claims["sub"]
    assert info["email"] == "mari@example.org"


@pytest.mark.parametrize(
    ("check", "error_code"),
    [
        ("state", "OAUTH_INVALID_RESPONSE"),
        ("nonce", "OAUTH_JWT_CLAIM_COMPARISON_FAILED"),
    ],
)
def test_openid_client_rejects_what_it_did_not_ask_for(
    gateway: Gateway,
    browser: Browser,
    rp_app: AppClient,
    citizen: CitizenAccount,
    check: str,
    error_code: str,
) -> None:
    """Proof that the relying party really checks: a state or nonce it did not send fails."""
    started = start(gateway, rp_app)
    callback_url = sign_in_and_consent(browser, started, citizen)

    result = finish(gateway, rp_app, started, callback_url, **{check: "not-what-we-sent"})
    assert result.returncode == 1, result.stdout
    assert result.stdout == ""
    error = json.loads(result.stderr.strip().splitlines()[-1])
    assert error["code"] == error_code, error
    assert f'"{check}"' in error["cause"], error
