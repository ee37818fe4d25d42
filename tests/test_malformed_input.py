"""Malformed input gets a spec-shaped answer, never a server error: credentials that cannot be
decoded are a failed client authentication, form tokens with any characters an expired page."""

from __future__ import annotations

import base64

import pytest

from tests.citizen import (
    Browser,
    authorization_params,
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
