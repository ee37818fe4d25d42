"""The citizen's account page: signing in there, seeing which agencies receive data, and
withdrawing consent, which ends the agency's access at once and is logged."""

from __future__ import annotations

from typing import Any

import httpx

from tests.citizen import AppClient, Browser, account_form_token, hidden_fields
from tests.conftest import (
    TAX_OFFICE_PURPOSE,
    CitizenAccount,
    add_citizen,
    exchange_code,
    obtain_code,
    register_app,
    signed_in_tokens,
    userinfo,
)
from tests.gateway_process import Gateway


def _account_page(browser: Browser) -> httpx.Response:
    return browser.http.get(f"{browser.issuer}/account")


def _sign_in_to_account(browser: Browser, citizen: CitizenAccount) -> httpx.Response:
    start = browser.http.get(f"{browser.issuer}/account/sign-in")
    assert start.status_code == 303 and start.headers["location"].startswith("/sign-in?")
    return browser.follow_to_client(start, username=citizen.username, password=citizen.password)


def _withdraw(browser: Browser, client_id: str, token: str | None = None) -> httpx.Response:
    token = token or account_form_token(_account_page(browser).text)
    return browser.http.post(
        f"{browser.issuer}/account/withdraw", data={"form_token": token, "client_id": client_id}
    )


def _refresh(gateway: Gateway, app: AppClient, refresh_token: str) -> httpx.Response:
    return httpx.post(
        f"{gateway.issuer}/token",
        auth=(app.client_id, app.client_secret or ""),
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
    )


def test_signed_out_visitors_are_offered_to_sign_in(gateway: Gateway, browser: Browser) -> None:
    page = _account_page(browser)
    assert page.status_code == 200
    assert 'href="/account/sign-in"' in page.text
    assert "form_token" not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_signing_in_on_the_account_page_returns_there(gateway: Gateway, browser: Browser) -> None:
    person = add_citizen(gateway)
    start = browser.http.get(f"{browser.issuer}/account/sign-in")
    sign_in_page = browser.http.get(gateway.issuer + start.headers["location"])
    assert "to see which services receive your information" in sign_in_page.text
    page = browser.follow_to_client(start, username=person.username, password=person.password)
    assert page.status_code == 200, page.text[:300]
    assert person.username in page.text
    assert 'id="nothing-shared"' in page.text


def test_cancelling_the_account_sign_in_returns_to_the_account_page(
    gateway: Gateway, browser: Browser
) -> None:
    start = browser.http.get(f"{browser.issuer}/account/sign-in")
    fields = hidden_fields(browser.http.get(gateway.issuer + start.headers["location"]).text)
    cancelled = browser.http.post(f"{gateway.issuer}/sign-in", data={**fields, "cancel": "1"})
    assert cancelled.status_code == 303 and cancelled.headers["location"] == "/account"
    assert 'href="/account/sign-in"' in _account_page(browser).text


def test_withdrawing_consent_ends_the_agencys_access_at_once(
    gateway: Gateway, browser: Browser
) -> None:
    person = add_citizen(gateway, email="mari@example.org")
    app = register_app(gateway, name="Pension office")
    tokens: dict[str, Any] = signed_in_tokens(gateway, browser, app, person, scope="openid email")
    assert userinfo(gateway, tokens["access_token"]).status_code == 200

    listed = _account_page(browser)
    assert "Pension office" in listed.text and "email address" in listed.text.lower()

    withdrawn = _withdraw(browser, app.client_id)
    assert withdrawn.status_code == 303
    assert withdrawn.headers["location"] == f"/account?withdrawn={app.client_id}"
    after = browser.http.get(gateway.issuer + withdrawn.headers["location"])
    assert 'id="withdrawn-notice"' in after.text and "Pension office" in after.text
    assert f'value="{app.client_id}"' not in after.text  # no longer listed

    # The agency's tokens stop working, and its next request asks the citizen again.
    assert userinfo(gateway, tokens["access_token"]).status_code == 401
    assert _refresh(gateway, app, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    again = browser.authorize(tokens["_request"])
    assert again.status_code == 303 and again.headers["location"].startswith("/consent?")


def test_a_code_not_yet_exchanged_dies_with_the_consent(
    gateway: Gateway, browser: Browser, app_a: AppClient
) -> None:
    person = add_citizen(gateway)
    pending = obtain_code(browser, app_a, person)
    assert pending.params.get("code")
    assert _withdraw(browser, app_a.client_id).status_code == 303
    refused = exchange_code(gateway, app_a, pending)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_withdrawal_needs_the_page_token_and_a_session(
    gateway: Gateway, browser: Browser, app_a: AppClient
) -> None:
    person = add_citizen(gateway)
    signed_in_tokens(gateway, browser, app_a, person)
    # The consent page and the account page both say why the agency asks.
    assert f'<p id="purpose">Why it asks: {TAX_OFFICE_PURPOSE}</p>' in browser.last_page
    assert f"Why it asks: {TAX_OFFICE_PURPOSE}" in _account_page(browser).text
    forged = _withdraw(browser, app_a.client_id, token="0" * 64)
    assert forged.status_code == 400
    with httpx.Client() as stranger:  # the right token, from a browser without the session
        token = account_form_token(_account_page(browser).text)
        stolen = stranger.post(
            f"{gateway.issuer}/account/withdraw",
            data={"form_token": token, "client_id": app_a.client_id},
        )
    assert stolen.status_code == 400
    assert f'value="{app_a.client_id}"' in _account_page(browser).text  # still shared


def test_withdrawing_what_was_never_given_changes_nothing(
    gateway: Gateway, browser: Browser, app_a: AppClient
) -> None:
    person = add_citizen(gateway)
    signed_in_tokens(gateway, browser, app_a, person)
    response = _withdraw(browser, "no-such-client")
    assert response.status_code == 303 and response.headers["location"] == "/account"
    page = _account_page(browser)
    assert 'id="withdrawn-notice"' not in page.text
    assert f'value="{app_a.client_id}"' in page.text
