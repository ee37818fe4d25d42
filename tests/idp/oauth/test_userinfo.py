"""Userinfo (OIDC Core 5.3, RFC 6750 2-3): bearer in header or body, never the query; spec-shaped
refusals."""

from __future__ import annotations

import base64
import json

import jwt
import pytest

from tests import http_client
from tests.citizen import AppClient, Browser
from tests.conftest import (
    CitizenAccount,
    add_citizen,
    exchange_code,
    obtain_code,
    register_app,
    signed_in_tokens,
)
from tests.gateway_process import Gateway
from tests.in_process import InProcessGateway


@pytest.fixture
def tokens(
    gateway: Gateway, browser: Browser, app_a: AppClient, citizen: CitizenAccount
) -> dict[str, str]:
    return signed_in_tokens(
        gateway, browser, app_a, citizen, scope="openid profile email national_id"
    )


def test_userinfo_get_post_header_and_body(
    gateway: Gateway, tokens: dict[str, str], citizen: CitizenAccount
) -> None:
    url = f"{gateway.issuer}/userinfo"
    token = tokens["access_token"]
    for response in (
        http_client.get(url, headers={"Authorization": f"Bearer {token}"}),
        http_client.get(url, headers={"Authorization": f"bearer {token}"}),
        http_client.post(url, headers={"Authorization": f"BEARER {token}"}),
        http_client.post(url, data={"access_token": token}),
    ):
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert body["sub"] == citizen.subject
        assert body["name"] == "Mari Maasikas" and body["birthdate"] == "1985-03-14"
        assert body["national_id"] == "48503140001"


def test_userinfo_releases_only_granted_scopes(
    gateway: Gateway, browser: Browser, app_a: AppClient, citizen: CitizenAccount
) -> None:
    tokens = signed_in_tokens(gateway, browser, app_a, citizen, scope="openid email")
    body = http_client.get(
        f"{gateway.issuer}/userinfo",
        params={"sub": "other", "user_id": "1"},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    ).json()
    assert set(body) == {"sub", "email", "email_verified"}


def _forge(
    token: str,
    *,
    header: dict[str, str] | None = None,
    claims: dict[str, object] | None = None,
    signature: str | None = None,
) -> str:
    head, payload, sig = token.split(".")

    def enc(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    def dec(part: str) -> dict[str, object]:
        result: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=="))
        return result

    new_head = enc({**dec(head), **header}) if header else head
    new_payload = enc({**dec(payload), **claims}) if claims else payload
    return f"{new_head}.{new_payload}.{sig if signature is None else signature}"


def test_userinfo_refuses_bad_tokens(gateway: Gateway, tokens: dict[str, str]) -> None:
    url = f"{gateway.issuer}/userinfo"
    token = tokens["access_token"]
    no_token = http_client.get(url)
    assert no_token.status_code == 401 and no_token.headers["www-authenticate"].startswith("Bearer")
    bad = [
        "random-value",
        _forge(token, claims={"sub": "someone-else"}),
        _forge(token, header={"alg": "none"}, signature=""),
        _forge(token, header={"alg": "HS256"}),
        _forge(token, header={"jku": "http://169.254.169.254/jwks"}),
        _forge(token, header={"kid": "' OR '1'='1"}),
        tokens["id_token"],
        "a.b.c.d",
    ]
    for candidate in bad:
        response = http_client.get(url, headers={"Authorization": f"Bearer {candidate}"})
        assert response.status_code == 401, candidate
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
    query = http_client.get(url, params={"access_token": token})
    assert query.status_code == 400


def _resign(gateway: Gateway | InProcessGateway, token: str, **claims: object) -> str:
    """The same access token re-signed with the gateway's own key and some claims changed: what
    only a holder of the private key could make, to test the signed claims themselves."""
    header = jwt.get_unverified_header(token)
    payload = jwt.decode(token, options={"verify_signature": False})
    key = (gateway.workdir / "keys" / f"{header['kid']}.pem").read_bytes()
    return jwt.encode({**payload, **claims}, key, algorithm="ES256", headers=header)


def test_signed_expiry_issuer_and_audience_count_even_when_the_row_is_live(
    gateway: Gateway, tokens: dict[str, str], app_a: AppClient, app_b: AppClient
) -> None:
    token = tokens["access_token"]
    issued_at = jwt.decode(token, options={"verify_signature": False})["iat"]
    untouched = _resign(gateway, token)
    expired = _resign(gateway, token, exp=issued_at - 1)
    # Signed by our key for another issuer (a gateway moved, or a test instance sharing keys).
    other_issuer = _resign(gateway, token, iss="https://elsewhere.example")
    other_audience = _resign(gateway, token, aud=app_b.client_id)
    two_audiences = _resign(gateway, token, aud=[app_a.client_id, app_b.client_id])
    url = f"{gateway.issuer}/userinfo"
    assert http_client.get(url, headers={"Authorization": f"Bearer {untouched}"}).status_code == 200
    for candidate in (expired, other_issuer, other_audience, two_audiences):
        response = http_client.get(url, headers={"Authorization": f"Bearer {candidate}"})
        assert response.status_code == 401, candidate
        for app in (app_a, app_b):
            introspected = http_client.post(
                f"{gateway.issuer}/introspect",
                data={"token": candidate},
                auth=(app.client_id, app.client_secret or ""),
            )
            assert introspected.json() == {"active": False}


def test_a_token_checked_before_is_still_refused_once_its_signed_expiry_passes(
    in_process_gateway: InProcessGateway,
) -> None:
    # The gateway remembers signatures it has checked (ADR 0029); the claims behind a remembered
    # signature are judged at every request all the same. The row outlives this token's signed
    # `exp`, so only that check can refuse it.
    gateway = in_process_gateway
    gateway.clock.freeze()
    app, person, browser = register_app(gateway), add_citizen(gateway), gateway.browser()
    issued = exchange_code(gateway, app, obtain_code(browser, app, person)).json()
    now = int(gateway.clock().timestamp())
    short = _resign(gateway, issued["access_token"], exp=now + 5)
    bearer = {"Authorization": f"Bearer {short}"}

    def introspected() -> dict[str, object]:
        answer = gateway.http.post(
            f"{gateway.issuer}/introspect",
            data={"token": short},
            auth=(app.client_id, app.client_secret or ""),
        )
        body: dict[str, object] = answer.json()
        return body

    url = f"{gateway.issuer}/userinfo"
    assert gateway.http.get(url, headers=bearer).status_code == 200
    assert introspected()["active"] is True
    gateway.clock.advance(6)
    refused = gateway.http.get(url, headers=bearer)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert introspected() == {"active": False}
    # The token as issued, whose signed expiry is still ahead, is answered as before.
    assert (
        gateway.http.get(
            url, headers={"Authorization": f"Bearer {issued['access_token']}"}
        ).status_code
        == 200
    )


def test_token_without_openid_scope_is_insufficient(
    gateway: Gateway, browser: Browser, app_a: AppClient, citizen: CitizenAccount
) -> None:
    tokens = signed_in_tokens(gateway, browser, app_a, citizen, scope="email", nonce=None)
    assert "id_token" not in tokens
    response = http_client.get(
        f"{gateway.issuer}/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
