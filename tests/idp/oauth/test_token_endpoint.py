"""The token endpoint's rules (RFC 6749 4.1.3, 5.2 and 10.5; RFC 9700 4.14): single-use codes bound
to client, redirect URI and PKCE verifier; client authentication; refresh rotation with reuse
detection."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import jwt

from tests import http_client
from tests.citizen import AppClient, Browser
from tests.conftest import (
    CitizenAccount,
    add_citizen,
    exchange_code,
    obtain_code,
    register_app,
    signed_in_tokens,
    userinfo,
)
from tests.gateway_process import Gateway
from tests.in_process import InProcessGateway


def _assert_oauth_error(response: httpx.Response, error: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["error"] == error
    assert not any(c in response.json().get("error_description", "") for c in "\r\n\t")


def test_token_response_shape(
    gateway: Gateway, browser: Browser, app_a: AppClient, citizen: CitizenAccount
) -> None:
    result = obtain_code(browser, app_a, citizen)
    response = exchange_code(gateway, app_a, result)
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    assert body["refresh_token"] and len(body["refresh_token"]) >= 43
    header = jwt.get_unverified_header(body["id_token"])
    assert header["alg"] == "RS256" and header["kid"]  # RS256 by default (oidcc-idtoken-rs256)
    claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    for claim in (
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "at_hash",
        "acr",
        "amr",
        "sid",
    ):
        assert claim in claims, claim
    assert "name" not in claims and "email" not in claims  # scope claims go to userinfo
    assert claims["exp"] - claims["iat"] <= 300
    assert jwt.get_unverified_header(body["access_token"])["typ"] == "at+jwt"


def test_code_reuse_fails_and_revokes_the_first_tokens(
    gateway: Gateway, browser: Browser, app_a: AppClient, citizen: CitizenAccount
) -> None:
    result = obtain_code(browser, app_a, citizen)
    first = exchange_code(gateway, app_a, result).json()
    assert userinfo(gateway, first["access_token"]).status_code == 200
    _assert_oauth_error(exchange_code(gateway, app_a, result), "invalid_grant")
    assert userinfo(gateway, first["access_token"]).status_code == 401
    refresh = http_client.post(
        f"{gateway.issuer}/token",
        auth=(app_a.client_id, app_a.client_secret),
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    _assert_oauth_error(refresh, "invalid_grant")


def test_concurrent_redemptions_have_one_winner(
    gateway: Gateway, browser: Browser, app_a: AppClient, citizen: CitizenAccount
) -> None:
    result = obtain_code(browser, app_a, citizen)
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(
            pool.map(lambda _: exchange_code(gateway, app_a, result).status_code, range(10))
        )
    assert statuses.count(200) == 1, statuses
    assert statuses.count(400) == 9, statuses


def test_expired_code_is_refused(in_process_gateway: InProcessGateway) -> None:
    gateway = in_process_gateway
    gateway.clock.freeze()  # a one-second margin must not depend on how loaded the machine is
    app, person, browser = register_app(gateway), add_citizen(gateway), gateway.browser()
    fresh, stale = obtain_code(browser, app, person), obtain_code(browser, app, person)
    gateway.clock.advance(9)  # the test gateway's code lifetime is 10 s
    assert exchange_code(gateway, app, fresh).status_code == 200
    gateway.clock.advance(2)
    _assert_oauth_error(exchange_code(gateway, app, stale), "invalid_grant")


def test_code_is_bound_to_client_redirect_uri_and_verifier(
    gateway: Gateway, browser: Browser, app_a: AppClient, app_b: AppClient, citizen: CitizenAccount
) -> None:
    result = obtain_code(browser, app_a, citizen)
    _assert_oauth_error(exchange_code(gateway, app_b, result), "invalid_grant")
    _assert_oauth_error(
        exchange_code(gateway, app_a, result, redirect_uri=app_a.redirect_uris[1]), "invalid_grant"
    )
    # The foreign attempt and the mismatch did not let anyone else use it; the owner's wrong
    # verifier burns it (one code, one attempt at the verifier).
    _assert_oauth_error(
        exchange_code(gateway, app_a, result, code_verifier="x" * 43), "invalid_grant"
    )
    other = obtain_code(browser, app_a, citizen)
    _assert_oauth_error(exchange_code(gateway, app_a, other, code_verifier=None), "invalid_request")
    plain = obtain_code(browser, app_a, citizen, code_challenge=None, code_challenge_method=None)
    _assert_oauth_error(
        exchange_code(gateway, app_a, plain, code_verifier="y" * 43), "invalid_request"
    )  # PKCE downgrade (RFC 9700 4.8.2)


def test_client_authentication_failures(
    gateway: Gateway, app_a: AppClient, app_b: AppClient
) -> None:
    url = f"{gateway.issuer}/token"
    wrong = http_client.post(
        url, auth=(app_a.client_id, "wrong"), data={"grant_type": "authorization_code", "code": "x"}
    )
    _assert_oauth_error(wrong, "invalid_client", 401)
    assert wrong.headers["www-authenticate"].startswith("Basic")
    unknown = http_client.post(
        url, auth=("nobody", "secret"), data={"grant_type": "refresh_token", "refresh_token": "x"}
    )
    _assert_oauth_error(unknown, "invalid_client", 401)
    assert unknown.json() == wrong.json()  # nothing tells whether the client_id exists
    none = http_client.post(
        url, data={"grant_type": "authorization_code", "code": "x", "client_id": app_a.client_id}
    )
    # Credentials in the body: 400 and no challenge (RFC 6749 5.2, RFC 9110 15.5.2).
    _assert_oauth_error(none, "invalid_client", 400)
    assert "www-authenticate" not in none.headers
    wrong_post = http_client.post(
        url,
        data={
            "grant_type": "client_credentials",
            "client_id": app_a.client_id,
            "client_secret": "wrong",
        },
    )
    _assert_oauth_error(wrong_post, "invalid_client", 400)
    assert "www-authenticate" not in wrong_post.headers
    assert wrong_post.json() == wrong.json()
    mixed = http_client.post(
        url,
        auth=(app_b.client_id, app_b.client_secret),
        data={"grant_type": "client_credentials", "client_id": app_a.client_id},
    )
    assert mixed.json()["error"] == "invalid_client"
    post_auth = http_client.post(
        url,
        data={
            "grant_type": "authorization_code",
            "code": "x",
            "client_id": app_a.client_id,
            "client_secret": app_a.client_secret,
        },
    )
    _assert_oauth_error(post_auth, "invalid_grant")  # client_secret_post authenticates


def test_malformed_token_requests(gateway: Gateway, app_a: AppClient) -> None:
    url = f"{gateway.issuer}/token"
    auth = (app_a.client_id, app_a.client_secret)
    assert http_client.get(url, params={"grant_type": "client_credentials"}).status_code == 405
    _assert_oauth_error(
        http_client.post(url, auth=auth, json={"grant_type": "client_credentials"}),
        "invalid_request",
    )
    _assert_oauth_error(
        http_client.post(
            url,
            auth=auth,
            content="grant_type=x&grant_type=y",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        "invalid_request",
    )
    _assert_oauth_error(
        http_client.post(
            url, auth=auth, data={"grant_type": "password", "username": "a", "password": "b"}
        ),
        "unsupported_grant_type",
    )
    _assert_oauth_error(
        http_client.post(url, auth=auth, data={"grant_type": "client_credentials"}),
        "unauthorized_client",
    )
    _assert_oauth_error(
        http_client.post(url + "?grant_type=client_credentials", auth=auth, data={}),
        "invalid_request",
    )
    big = http_client.post(url, auth=auth, data={"grant_type": "x", "pad": "a" * 100_000})
    assert big.status_code == 413


def test_client_credentials_grant(gateway: Gateway) -> None:
    service = register_app(
        gateway, "--grant-type", "client_credentials", "--scope", "openid", name="Registry service"
    )
    response = http_client.post(
        f"{gateway.issuer}/token",
        auth=(service.client_id, service.client_secret),
        data={"grant_type": "client_credentials"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "refresh_token" not in body and "id_token" not in body
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == service.client_id == claims["client_id"]


def _refresh(gateway: Gateway, app: AppClient, token: str, **extra: str) -> httpx.Response:
    return http_client.post(
        f"{gateway.issuer}/token",
        auth=(app.client_id, app.client_secret),
        data={"grant_type": "refresh_token", "refresh_token": token, **extra},
    )


def test_refresh_rotates_and_reuse_revokes_the_family(
    gateway: Gateway, browser: Browser, app_a: AppClient, citizen: CitizenAccount
) -> None:
    first = signed_in_tokens(gateway, browser, app_a, citizen)
    second = _refresh(gateway, app_a, first["refresh_token"])
    assert second.status_code == 200, second.text
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    old_claims = jwt.decode(first["id_token"], options={"verify_signature": False})
    new_claims = jwt.decode(rotated["id_token"], options={"verify_signature": False})
    assert new_claims["sub"] == old_claims["sub"]
    assert new_claims["auth_time"] == old_claims["auth_time"]
    assert "nonce" not in new_claims
    _assert_oauth_error(_refresh(gateway, app_a, first["refresh_token"]), "invalid_grant")
    _assert_oauth_error(_refresh(gateway, app_a, rotated["refresh_token"]), "invalid_grant")
    assert userinfo(gateway, rotated["access_token"]).status_code == 401


def test_refresh_is_bound_to_the_client_and_scope(
    gateway: Gateway, browser: Browser, app_a: AppClient, app_b: AppClient, citizen: CitizenAccount
) -> None:
    tokens = signed_in_tokens(gateway, browser, app_a, citizen, scope="openid email")
    _assert_oauth_error(_refresh(gateway, app_b, tokens["refresh_token"]), "invalid_grant")
    _assert_oauth_error(
        _refresh(gateway, app_a, tokens["refresh_token"], scope="openid email profile"),
        "invalid_scope",
    )
    narrowed = _refresh(gateway, app_a, tokens["refresh_token"], scope="openid")
    assert narrowed.status_code == 200 and narrowed.json()["scope"] == "openid"
    unauthenticated = http_client.post(
        f"{gateway.issuer}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": narrowed.json()["refresh_token"],
            "client_id": app_a.client_id,
        },
    )
    assert unauthenticated.json()["error"] == "invalid_client"


def test_public_client_uses_pkce_without_secret(
    gateway: Gateway, browser: Browser, public_app: AppClient, citizen: CitizenAccount
) -> None:
    result = obtain_code(browser, public_app, citizen)
    _assert_oauth_error(
        exchange_code(gateway, public_app, result, code_verifier=None), "invalid_request"
    )
    result = obtain_code(browser, public_app, citizen)
    response = exchange_code(gateway, public_app, result)
    assert response.status_code == 200, response.text
    refreshed = http_client.post(
        f"{gateway.issuer}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": response.json()["refresh_token"],
            "client_id": public_app.client_id,
        },
    )
    assert refreshed.status_code == 200, refreshed.text
