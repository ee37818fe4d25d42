"""The sign-in and consent pages in a real Chromium (Playwright), ending at a real callback.

The HTTP citizen browser in tests/citizen.py only proves what the server sends; a real browser
also enforces what the pages ask of it (CSP, form-action, cookies, redirects after a POST), so a
page that works over httpx but breaks in a browser fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from playwright.sync_api import Browser as ChromiumBrowser
from playwright.sync_api import (
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    sync_playwright,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from agency.verify import verify_id_token
from tests.chromium import (
    CHROMIUM,
    MISSING_CHROMIUM,
    TIMEOUT_MS,
    CallbackServer,
    launch_chromium,
)
from tests.citizen import AppClient, authorization_params, split_verifier
from tests.conftest import CitizenAccount, CodeResult, add_citizen, exchange_code, register_app
from tests.gateway_process import Gateway

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
GENERIC_ERROR = "The username or password is not right. Check them and try again."

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING_CHROMIUM),
]


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def chromium(playwright: Playwright) -> Iterator[ChromiumBrowser]:
    browser = launch_chromium(playwright)
    yield browser
    browser.close()


@pytest.fixture
def page(chromium: ChromiumBrowser) -> Iterator[Page]:
    """A fresh context per test: no cookies, so no session or binding leaks between tests."""
    context: BrowserContext = chromium.new_context(locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def console(page: Page) -> list[str]:
    """What Chromium logs (a CSP violation shows up only here), for failure messages."""
    messages: list[str] = []

    def record(message: ConsoleMessage) -> None:
        messages.append(f"{message.type}: {message.text}")

    page.on("console", record)
    return messages


@pytest.fixture
def callback() -> Iterator[CallbackServer]:
    with CallbackServer() as server:
        yield server


@pytest.fixture
def web_app(gateway: Gateway, callback: CallbackServer) -> AppClient:
    return register_app(
        gateway,
        "--scope",
        "openid",
        "--scope",
        "profile",
        "--scope",
        "email",
        name="Browser test agency",
        redirect_uris=[callback.url],
    )


@pytest.fixture
def web_citizen(gateway: Gateway) -> CitizenAccount:
    """A citizen of this test alone: consent is remembered, so sharing one would skip pages."""
    return add_citizen(gateway, given_name="Liis", family_name="Kask", email="liis@example.org")


def screenshot(page: Page, gateway: Gateway, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{gateway.backend}.png"), full_page=True)


def open_sign_in(
    page: Page, gateway: Gateway, app: AppClient
) -> tuple[dict[str, str], str, dict[str, str]]:
    """Start at /authorize (PKCE S256, state, nonce); returns (request, verifier, headers of the
    sign-in page the redirects end on)."""
    request, verifier = split_verifier(authorization_params(app))
    response = page.goto(f"{gateway.issuer}/authorize?{urlencode(request)}")
    assert response is not None
    assert response.status == 200
    assert page.url.startswith(f"{gateway.issuer}/sign-in?interaction="), page.url
    return request, verifier, response.headers


def sign_in(page: Page, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    # Wait for the POST's navigation, so no later check reads the page it replaces.
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in", exact=True).click()


def arrived(page: Page, callback: CallbackServer, console: list[str]) -> dict[str, str]:
    """Wait for the browser to reach the callback; what it carried must be what the server got."""
    try:
        page.wait_for_url(f"{callback.url}?*")
    except PlaywrightTimeout:
        pytest.fail(
            f"the browser never reached {callback.url}; it is at {page.url}; console: {console}"
        )
    params = dict(parse_qsl(urlsplit(page.url).query, keep_blank_values=True))
    assert callback.queries == [params]
    return params


def test_sign_in_and_consent_in_chromium_issue_a_verifiable_code(
    gateway: Gateway,
    page: Page,
    console: list[str],
    callback: CallbackServer,
    web_app: AppClient,
    web_citizen: CitizenAccount,
) -> None:
    request, verifier, headers = open_sign_in(page, gateway, web_app)
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in [d.strip() for d in csp.split(";")], csp
    screenshot(page, gateway, "sign-in")

    sign_in(page, web_citizen.username, web_citizen.password)
    page.wait_for_url(f"{gateway.issuer}/consent?*")
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Share your information with Browser test agency"
    )
    screenshot(page, gateway, "consent")

    page.get_by_role("button", name="Allow").click()
    params = arrived(page, callback, console)
    assert params["code"]
    assert params["state"] == request["state"]
    assert params["iss"] == gateway.issuer
    assert "error" not in params

    response = exchange_code(gateway, web_app, CodeResult(params, request, verifier))
    assert response.status_code == 200, response.text
    body = response.json()
    claims = verify_id_token(
        body["id_token"],
        jwks=gateway.jwks(),
        issuer=gateway.issuer,
        client_id=web_app.client_id,
        nonce=request["nonce"],
        access_token=body["access_token"],
    )
    assert claims["sub"] == web_citizen.subject


def test_wrong_password_shows_a_generic_error_and_stays_on_sign_in(
    gateway: Gateway,
    page: Page,
    callback: CallbackServer,
    web_app: AppClient,
    web_citizen: CitizenAccount,
) -> None:
    open_sign_in(page, gateway, web_app)

    sign_in(page, web_citizen.username, web_citizen.password + "-wrong")
    summary = page.get_by_role("alert")
    summary.wait_for()
    assert summary.inner_text().split("\n", 1)[1].strip() == GENERIC_ERROR
    assert page.url.startswith(f"{gateway.issuer}/sign-in"), page.url
    assert page.get_by_label("Password").input_value() == ""

    # The same words for an unknown username: the page must not tell which one was wrong.
    sign_in(page, f"nobody-{web_citizen.username}", web_citizen.password)
    assert page.get_by_role("alert").inner_text().split("\n", 1)[1].strip() == GENERIC_ERROR
    assert page.url.startswith(f"{gateway.issuer}/sign-in"), page.url
    assert page.get_by_role("button", name="Sign in", exact=True).is_visible()
    assert callback.queries == []


def test_deny_on_consent_returns_access_denied(
    gateway: Gateway,
    page: Page,
    console: list[str],
    callback: CallbackServer,
    web_app: AppClient,
    web_citizen: CitizenAccount,
) -> None:
    request, _, _ = open_sign_in(page, gateway, web_app)
    sign_in(page, web_citizen.username, web_citizen.password)
    page.wait_for_url(f"{gateway.issuer}/consent?*")

    page.get_by_role("button", name="Deny").click()
    params = arrived(page, callback, console)
    assert params["error"] == "access_denied"
    assert params["state"] == request["state"]
    assert params["iss"] == gateway.issuer
    assert "code" not in params


def test_account_page_in_chromium_withdraws_consent(
    gateway: Gateway,
    page: Page,
    console: list[str],
    callback: CallbackServer,
    web_app: AppClient,
    web_citizen: CitizenAccount,
) -> None:
    """Consent given at an agency is listed on the account page and withdrawn there."""
    open_sign_in(page, gateway, web_app)
    sign_in(page, web_citizen.username, web_citizen.password)
    page.wait_for_url(f"{gateway.issuer}/consent?*")
    page.get_by_role("button", name="Allow").click()
    arrived(page, callback, console)

    page.goto(f"{gateway.issuer}/account")
    assert page.locator("li.agency h2").inner_text() == "Browser test agency"
    screenshot(page, gateway, "account")
    with page.expect_navigation():
        page.get_by_role("button", name="Stop sharing with Browser test agency").click()
    assert page.get_by_role("status").inner_text().startswith("Browser test agency")
    assert page.locator("#nothing-shared").is_visible()
    assert not [m for m in console if "Content Security Policy" in m], console


def test_account_sign_in_in_chromium_returns_to_the_account_page(
    gateway: Gateway, page: Page, console: list[str], web_citizen: CitizenAccount
) -> None:
    page.goto(f"{gateway.issuer}/account")
    with page.expect_navigation():
        page.get_by_role("link", name="Sign in").click()
    assert page.url.startswith(f"{gateway.issuer}/sign-in?interaction="), page.url
    sign_in(page, web_citizen.username, web_citizen.password)
    page.wait_for_url(f"{gateway.issuer}/account")
    assert web_citizen.username in page.locator("main").inner_text()
    assert not [m for m in console if "Content Security Policy" in m], console
