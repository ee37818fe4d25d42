"""Malformed input gets a spec-shaped answer, never a server error: credentials that cannot be
decoded are a failed client authentication, form tokens with any characters an expired page."""

from __future__ import annotations

import base64

import pytest

from tests.citizen import (
    Browser,
    authorization_params,
    callback_params,
    hidden_fields,
    split_verifier,
)
from tests.conftest import CitizenAccount, register_app
from tests.gateway_process import Gateway
from tests.raw_http import send_raw

FORM = (b"content-type", b"application/x-www-form-urlencoded")
MALFORMED_BASIC = {
    "trailing-space": b"Basic ",
    "not-utf-8": b"Basic /w==",
    "latin-1-byte": "Basic é".encode("latin-1"),
    "utf-8-bytes": "Basic é".encode(),
    "credentials-not-utf-8": b"Basic " + base64.b64encode(b"\xff:\xfe"),
    "not-base64": b"Basic ***",
    "no-colon": b"Basic " + base64.b64encode(b"just-a-client-id"),
}
BODIES = {
    "/token": b"grant_type=client_credentials",
    "/introspect": b"token=abc",
    "/revoke": b"token=abc",
}


@pytest.mark.parametrize("endpoint", sorted(BODIES))
@pytest.mark.parametrize("header", sorted(MALFORMED_BASIC))
def test_undecodable_basic_credentials_are_invalid_client(
    gateway: Gateway, endpoint: str, header: str
) -> None:
    response = send_raw(
        gateway.issuer,
        "POST",
        endpoint,
        headers=[FORM, (b"authorization", MALFORMED_BASIC[header])],
        body=BODIES[endpoint],
    )
    assert response.status == 401, response.text
    assert response.header("content-type") == "application/json"
    assert '"error":"invalid_client"' in response.text
    assert (response.header("www-authenticate") or "").startswith("Basic ")


def test_non_ascii_credentials_of_a_real_client_are_refused(gateway: Gateway) -> None:
    app = register_app(gateway)
    for secret in ("é", "\u20ac" * 40, "\x00"):
        credentials = base64.b64encode(f"{app.client_id}:{secret}".encode())
        response = send_raw(
            gateway.issuer,
            "POST",
            "/token",
            headers=[FORM, (b"authorization", b"Basic " + credentials)],
            body=BODIES["/token"],
        )
        assert response.status == 401 and '"error":"invalid_client"' in response.text


def _assert_expired_page(status: int, content_type: str, text: str) -> None:
    assert status == 400, text[:300]
    assert content_type.startswith("text/html")
    assert "This page has expired" in text


def test_non_ascii_csrf_token_on_sign_in_gets_the_expired_page(
    gateway: Gateway, browser: Browser
) -> None:
    app = register_app(gateway)
    request, _ = split_verifier(authorization_params(app))
    start = browser.authorize(request)
    fields = hidden_fields(browser.http.get(gateway.issuer + start.headers["location"]).text)
    assert fields["csrf_token"]
    response = browser.http.post(
        f"{gateway.issuer}/sign-in",
        data={**fields, "csrf_token": "é" + fields["csrf_token"], "username": "x", "password": "y"},
    )
    _assert_expired_page(response.status_code, response.headers["content-type"], response.text)


def test_non_ascii_csrf_token_on_consent_gets_the_expired_page(
    gateway: Gateway, browser: Browser, citizen: CitizenAccount
) -> None:
    app = register_app(gateway)
    request, _ = split_verifier(authorization_params(app))
    consent_page = browser.follow_to_client(
        browser.authorize(request), username=citizen.username, password=citizen.password, consent=""
    )
    assert 'action="/consent"' in consent_page.text
    fields = hidden_fields(consent_page.text)
    response = browser.http.post(
        f"{gateway.issuer}/consent", data={**fields, "csrf_token": "\u00e9", "decision": "allow"}
    )
    _assert_expired_page(response.status_code, response.headers["content-type"], response.text)


def test_non_ascii_form_token_on_withdraw_gets_the_expired_page(
    gateway: Gateway, browser: Browser, citizen: CitizenAccount
) -> None:
    start = browser.http.get(f"{gateway.issuer}/account/sign-in")
    page = browser.follow_to_client(start, username=citizen.username, password=citizen.password)
    assert page.status_code == 200 and citizen.username in page.text
    response = browser.http.post(
        f"{gateway.issuer}/account/withdraw", data={"form_token": "\u00e9", "client_id": "x"}
    )
    _assert_expired_page(response.status_code, response.headers["content-type"], response.text)


@pytest.mark.parametrize(
    "target",
    [
        "/authorize?client_id=%00&redirect_uri=https%3A%2F%2Fagency.example%2Fcb",
        "/sign-in?interaction=%00",
        "/consent?interaction=a%00b",
        "/account?withdrawn=%00",
    ],
)
def test_nul_in_a_page_query_gets_a_page(gateway: Gateway, target: str) -> None:
    # PostgreSQL cannot compare text holding NUL; no parameter may hold one (RFC 6749 App. A).
    response = send_raw(gateway.issuer, "GET", target, headers=[(b"cookie", b"idp-browser=x")])
    assert response.status == 400, response.text[:300]
    assert (response.header("content-type") or "").startswith("text/html")
    assert "This request could not be read" in response.text


def test_nul_in_a_form_or_in_basic_credentials_is_refused(gateway: Gateway) -> None:
    app = register_app(gateway)
    in_form = send_raw(
        gateway.issuer,
        "POST",
        "/token",
        headers=[FORM],
        body=b"grant_type=client_credentials&client_id=%00&client_secret=x",
    )
    assert in_form.status == 400 and '"error":"invalid_request"' in in_form.text
    in_basic = send_raw(
        gateway.issuer,
        "POST",
        "/introspect",
        headers=[FORM, (b"authorization", b"Basic " + base64.b64encode(b"a\x00b:secret"))],
        body=b"token=abc",
    )
    assert in_basic.status == 401 and '"error":"invalid_client"' in in_basic.text
    in_query = send_raw(gateway.issuer, "GET", "/transparency/proof/inclusion?leaf_index=%00")
    assert in_query.status == 400 and '"error":"invalid_request"' in in_query.text
    assert app.client_id  # a registered client exists, so lookups really reach the database


@pytest.mark.parametrize("response_type", ["\u202e", "code\u00e9", 'co"de', "\x7f"])
def test_response_type_with_any_characters_is_unsupported(
    gateway: Gateway, browser: Browser, response_type: str
) -> None:
    # Authlib echoes response_type in error_description and raises on characters RFC 6749
    # 4.1.2.1 forbids there; the error still reaches the client, with state and iss.
    app = register_app(gateway)
    request, _ = split_verifier(authorization_params(app, response_type=response_type))
    response = browser.authorize(request)
    assert response.status_code == 302, response.text[:300]
    params = callback_params(response)
    assert params["error"] == "unsupported_response_type"
    assert params["state"] == request["state"] and params["iss"] == gateway.issuer
