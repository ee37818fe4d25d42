"""Passkeys in a real Chromium with the DevTools virtual authenticator (a platform authenticator
with user verification, its credentials readable and copyable): the account page adds a
passkey; signed out, the browser signs in with it and no username, and the ID token, verified
with PyJWT, says high and names the passkey in `amr`; with user verification switched off the
high level is refused, also at a step-up from the password; a second browser without the
credential cannot use it; a copy of the credential with a lower sign count is refused and
logged. One flow per engine, so the suite stays short."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser as ChromiumBrowser
from playwright.sync_api import BrowserContext, Page, sync_playwright

from agency.verify import verify_id_token
from tests.builders import add_citizen, register_app
from tests.chromium import CHROMIUM, MISSING_CHROMIUM, TIMEOUT_MS, CallbackServer, launch_chromium
from tests.citizen import AppClient, authorization_params, split_verifier
from tests.conftest import CodeResult, exchange_code
from tests.database_rows import logged_details
from tests.gateway_process import Gateway
from tests.virtual_authenticator import VirtualAuthenticator, add_virtual_authenticator

HIGH = "http://eidas.europa.eu/LoA/high"
REFUSED = "Your passkey could not be used to sign in."

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING_CHROMIUM),
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[ChromiumBrowser]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


def _browser(chromium: ChromiumBrowser) -> tuple[BrowserContext, Page, VirtualAuthenticator]:
    """A fresh context whose page has a virtual platform authenticator."""
    context = chromium.new_context(locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    return context, page, add_virtual_authenticator(page)


def _authorize(page: Page, gateway: Gateway, app: AppClient) -> CodeResult:
    """An authorization request for the high level; the page ends on the sign-in page."""
    request, verifier = split_verifier(authorization_params(app, acr_values=HIGH))
    page.goto(f"{gateway.issuer}/authorize?{urlencode(request)}")
    return CodeResult({}, request, verifier)


def _passkey_button(page: Page, name: str) -> None:
    """Press a passkey button; the script posts the device's answer, a navigation follows."""
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


def _at_callback(page: Page, callback: CallbackServer, pending: CodeResult) -> CodeResult:
    page.wait_for_url(f"{callback.url}?*")
    return CodeResult(callback.queries[-1], pending.request, pending.verifier)


def _claims(gateway: Gateway, app: AppClient, result: CodeResult) -> dict[str, Any]:
    response = exchange_code(gateway, app, result)
    assert response.status_code == 200, response.text
    body = response.json()
    return verify_id_token(
        body["id_token"],
        jwks=gateway.jwks(),
        issuer=gateway.issuer,
        client_id=app.client_id,
        nonce=result.request["nonce"],
        access_token=body["access_token"],
    )


def _sign_out(page: Page, gateway: Gateway) -> None:
    page.goto(f"{gateway.issuer}/account")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out", exact=True).first.click()


def test_passkeys_in_chromium(gateway: Gateway, chromium: ChromiumBrowser) -> None:
    with CallbackServer() as callback:
        app = register_app(
            gateway, "--scope", "openid", name="Passkey agency", redirect_uris=[callback.url]
        )
        citizen = add_citizen(gateway)
        context, page, authenticator = _browser(chromium)
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))

        # Signed in with the password on the account page, the citizen adds a passkey.
        page.goto(f"{gateway.issuer}/account/sign-in")
        page.get_by_label("Username").fill(citizen.username)
        page.get_by_label("Password").fill(citizen.password)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url(f"{gateway.issuer}/account")
        _passkey_button(page, "Add a passkey")
        page.wait_for_url("**/account?passkey=added*")
        assert page.locator("#passkey-added-notice").is_visible()
        assert page.locator("#passkey-list h3").inner_text() == "Passkey 1"
        assert [c["isResidentCredential"] for c in authenticator.credentials()] == [True]

        # Signed out, the passkey alone signs in: no username, no password; high in the token.
        _sign_out(page, gateway)
        pending = _authorize(page, gateway, app)
        _passkey_button(page, "Sign in with a passkey")
        page.wait_for_url(f"{gateway.issuer}/consent?*")
        page.get_by_role("button", name="Allow").click()
        claims = _claims(gateway, app, _at_callback(page, callback, pending))
        assert claims["sub"] == citizen.subject
        assert claims["acr"] == HIGH
        assert claims["amr"] == ["hwk", "user", "mfa"]

        # With user verification off the high level is refused, at sign-in and at a step-up.
        authenticator.set_user_verified(False)
        _sign_out(page, gateway)
        step_pending = _authorize(page, gateway, app)
        _passkey_button(page, "Sign in with a passkey")
        assert REFUSED in page.get_by_role("alert").inner_text()
        page.get_by_label("Username").fill(citizen.username)
        page.get_by_label("Password").fill(citizen.password)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in", exact=True).click()
        assert page.url.startswith(f"{gateway.issuer}/step-up"), page.url
        _passkey_button(page, "Continue with your passkey")
        assert page.locator("#passkey-error").is_visible()
        calls_before = len(callback.queries)
        authenticator.set_user_verified(True)
        _passkey_button(page, "Continue with your passkey")
        stepped_up = _claims(gateway, app, _at_callback(page, callback, step_pending))
        assert len(callback.queries) == calls_before + 1
        assert stepped_up["acr"] == HIGH and "hwk" in stepped_up["amr"]

        # A second browser without the credential cannot use it.
        other_context, other, other_authenticator = _browser(chromium)
        _authorize(other, gateway, app)
        _passkey_button(other, "Sign in with a passkey")
        assert REFUSED in other.get_by_role("alert").inner_text()

        # A copy with a lower sign count (a cloned authenticator) is refused and logged.
        original = authenticator.credentials()[0]
        assert original["signCount"] >= 2
        clone = {**original, "signCount": 1}
        other_authenticator.add_credential(clone)
        _passkey_button(other, "Sign in with a passkey")
        assert REFUSED in other.get_by_role("alert").inner_text()
        assert other.url.startswith(f"{gateway.issuer}/sign-in"), other.url
        reasons = [
            entry.get("reason")
            for entry in logged_details(gateway, "passkey.refused", citizen.subject)
        ]
        assert "sign_count_regressed" in reasons
        assert "not_completed" in reasons  # the browser said the ceremony failed
        assert not [m for m in console if "Content Security Policy" in m], console
        other_context.close()
        context.close()
