"""Introspection (RFC 7662) and revocation (RFC 7009), each client confined to its own tokens."""

from __future__ import annotations

import httpx
import pytest

from tests import http_client
from tests.citizen import AppClient, Browser
from tests.conftest import CitizenAccount, signed_in_tokens, userinfo
from tests.gateway_process import Gateway


def _introspect(gateway: Gateway, app: AppClient, token: str, **extra: str) -> httpx.Response:
    return http_client.post(
        f"{gateway.issuer}/introspect",
        auth=(app.client_id, app.client_secret),
        data={"token": token, **extra},
    )


def test_introspection(
    gateway: Gateway, browser: Browser, app_a: AppClient, app_b: AppClient, citizen: CitizenAccount
) -> None:
    tokens = signed_in_tokens(gateway, browser, app_a, citizen)
    active = _introspect(gateway, app_a, tokens["access_token"])
    assert active.status_code == 200 and active.headers["cache-control"] == "no-store"
    body = active.json()
    assert body["active"] is True and body["sub"] == citizen.subject
    assert body["client_id"] == app_a.client_id and body["iss"] == gateway.issuer
    refresh = _introspect(
        gateway, app_a, tokens["refresh_token"], token_type_hint="access_token"
    ).json()
    assert refresh["active"] is True and refresh["token_type"] == "refresh_token"
    assert _introspect(gateway, app_b, tokens["access_token"]).json() == {"active": False}
    assert _introspect(gateway, app_a, "random").json() == {"active": False}
    anonymous = http_client.post(
        f"{gateway.issuer}/introspect", data={"token": tokens["access_token"]}
    )
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "invalid_client"
    assert anonymous.headers["www-authenticate"].startswith("Basic")


def test_revocation(
    gateway: Gateway, browser: Browser, app_a: AppClient, app_b: AppClient, citizen: CitizenAccount
) -> None:
    tokens = signed_in_tokens(gateway, browser, app_a, citizen)
    url = f"{gateway.issuer}/revoke"
    foreign = http_client.post(
        url, auth=(app_b.client_id, app_b.client_secret), data={"token": tokens["access_token"]}
    )
    assert foreign.status_code == 200
    assert userinfo(gateway, tokens["access_token"]).status_code == 200
    assert http_client.post(url, data={"token": tokens["access_token"]}).status_code == 401
    assert (
        http_client.post(
            url, auth=(app_a.client_id, app_a.client_secret), data={"token": "random"}
        ).status_code
        == 200
    )
    revoked = http_client.post(
        url,
        auth=(app_a.client_id, app_a.client_secret),
        data={"token": tokens["access_token"], "token_type_hint": "refresh_token"},
    )
    assert revoked.status_code == 200
    assert userinfo(gateway, tokens["access_token"]).status_code == 401
    assert _introspect(gateway, app_a, tokens["access_token"]).json() == {"active": False}


def test_revoking_a_refresh_token_ends_the_grant(
    gateway: Gateway, browser: Browser, app_a: AppClient, citizen: CitizenAccount
) -> None:
    tokens = signed_in_tokens(gateway, browser, app_a, citizen)
    http_client.post(
        f"{gateway.issuer}/revoke",
        auth=(app_a.client_id, app_a.client_secret),
        data={"token": tokens["refresh_token"]},
    ).raise_for_status()
    assert userinfo(gateway, tokens["access_token"]).status_code == 401
    refresh = http_client.post(
        f"{gateway.issuer}/token",
        auth=(app_a.client_id, app_a.client_secret),
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert refresh.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("endpoint", ["/introspect", "/revoke"])
def test_a_failed_client_secret_post_gets_no_basic_challenge(
    gateway: Gateway, app_a: AppClient, endpoint: str
) -> None:
    # RFC 6749 5.2: the challenge is for a client that used the Authorization header; one that
    # authenticated in the body gets 400 `invalid_client` without it, as at the token endpoint.
    url = f"{gateway.issuer}{endpoint}"
    for secret in ("wrong", ""):
        refused = http_client.post(
            url, data={"token": "x", "client_id": app_a.client_id, "client_secret": secret}
        )
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"] == "invalid_client"
        assert "www-authenticate" not in refused.headers
    by_header = http_client.post(url, auth=(app_a.client_id, "wrong"), data={"token": "x"})
    assert by_header.status_code == 401 and by_header.json()["error"] == "invalid_client"
    assert by_header.headers["www-authenticate"].startswith("Basic")
    accepted = http_client.post(
        url,
        data={"token": "x", "client_id": app_a.client_id, "client_secret": app_a.client_secret},
    )
    assert accepted.status_code == 200, accepted.text
