"""Signing out everywhere, end to end: two agency apps on loopback (tests/agency_apps.py), the
gateway as `idp serve`, and a real Chromium. The citizen signs in once for both, signs out from
one; both apps get a logout token PyJWT verifies, the other app's front-channel frame is loaded
by the signed-out page before the browser goes back to the first, and nothing of the session
works any more: refresh tokens, single sign-on.

tests/idp/sign_out/test_sign_out.py covers the rules at the HTTP level; this proves that a browser
does what those pages ask of it (the frames, their CSP, the script that continues after them).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
import pytest
from playwright.sync_api import Browser as ChromiumBrowser
from playwright.sync_api import ConsoleMessage, Page, sync_playwright
from sqlalchemy import create_engine, text

from tests.agency_apps import AgencyApp
from tests.builders import add_citizen, register_app
from tests.chromium import CHROMIUM, MISSING_CHROMIUM, TIMEOUT_MS, launch_chromium
from tests.citizen import AppClient
from tests.gateway_process import Gateway

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"

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


@pytest.fixture
def page(chromium: ChromiumBrowser) -> Iterator[Page]:
    context = chromium.new_context(locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def _set_logout_uris(
    gateway: Gateway, app: AppClient, *, back: str | None = None, front: str | None = None
) -> None:
    """Set with SQL: the `idp clients add` flags for these come on another branch."""
    engine = create_engine(gateway.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE clients SET backchannel_logout_uri = :b, frontchannel_logout_uri = :f "
                    "WHERE client_id = :c"
                ),
                {"b": back, "f": front, "c": app.client_id},
            )
    finally:
        engine.dispose()


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def _signed_in_heading(page: Page, app: AgencyApp) -> str:
    page.wait_for_url(f"{app.redirect_uri}?*")
    heading: str = page.get_by_role("heading", level=1).inner_text()
    return heading


def test_signing_out_of_one_app_signs_the_citizen_out_of_both(gateway: Gateway, page: Page) -> None:
    console: list[str] = []

    def record(message: ConsoleMessage) -> None:
        console.append(f"{message.type}: {message.text}")

    page.on("console", record)
    tax, land = AgencyApp("Tax office", gateway.issuer), AgencyApp("Land registry", gateway.issuer)
    tax_client = register_app(
        gateway,
        "--post-logout-redirect-uri",
        tax.post_logout_redirect_uri,
        name="Tax office",
        redirect_uris=[tax.redirect_uri],
    )
    land_client = register_app(gateway, name="Land registry", redirect_uris=[land.redirect_uri])
    _set_logout_uris(gateway, tax_client, back=tax.backchannel_logout_uri)
    _set_logout_uris(
        gateway, land_client, back=land.backchannel_logout_uri, front=land.frontchannel_logout_uri
    )
    citizen = add_citizen(gateway, given_name="Kadri", family_name="Kuusk")

    with tax.serving(tax_client), land.serving(land_client):
        # Sign in once, at the tax office: password, then consent.
        page.goto(f"{tax.origin}/")
        assert page.url.startswith(f"{gateway.issuer}/sign-in?interaction="), page.url
        page.get_by_label("Username").fill(citizen.username)
        page.get_by_label("Password").fill(citizen.password)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url(f"{gateway.issuer}/consent?*")
        page.get_by_role("button", name="Allow").click()
        assert _signed_in_heading(page, tax) == f"Signed in as {citizen.subject}"

        # The land registry: single sign-on, so only its own consent is asked.
        page.goto(f"{land.origin}/")
        assert page.url.startswith(f"{gateway.issuer}/consent?"), page.url
        page.get_by_role("button", name="Allow").click()
        assert _signed_in_heading(page, land) == f"Signed in as {citizen.subject}"
        (tax_sign_in,), (land_sign_in,) = tax.sign_ins, land.sign_ins
        sid = tax_sign_in.sid
        assert sid and land_sign_in.sid == sid

        # Sign out at the tax office. The land registry's frame is held unanswered, so the
        # signed-out page can be read before the browser continues.
        land.hold_front_channel()
        page.goto(f"{tax.origin}/")
        page.get_by_role("button", name="Sign out").click()
        # Its load event waits for the held frame: wait for the document only.
        page.wait_for_url(f"{gateway.issuer}/logout?*", wait_until="domcontentloaded")
        shown = time.monotonic()
        land.wait_until(lambda: bool(land.front_channel_visits))
        assert land.front_channel_visits == [{"iss": gateway.issuer, "sid": sid}]
        assert page.get_by_role("heading", level=1).inner_text() == "You have signed out"
        frames = page.locator("iframe.front-channel-logout")
        assert frames.count() == 1
        frame_query = urlencode({"iss": gateway.issuer, "sid": sid})
        assert frames.get_attribute("src") == f"{land.frontchannel_logout_uri}?{frame_query}"
        released = time.monotonic()
        land.release_front_channel()

        # After the frame loaded, the page's script continues to the tax office.
        page.wait_for_url(f"{tax.post_logout_redirect_uri}?*")
        # (Unless the page's own limit of five seconds ran out while the frame was held.)
        answered = land.front_channel_answered
        assert answered is not None and released <= answered <= tax.signed_out_visited_at[0], (
            f"the page went on before its frame answered; it was held {released - shown:.1f} s"
        )
        assert _query(page.url) == {"state": tax.logout_states[0]}
        assert page.get_by_role("heading", level=1).inner_text() == "Signed out of Tax office"

        # Each app got one logout token for the session, verified against the JWKS.
        for app, client in ((tax, tax_client), (land, land_client)):
            (claims,) = _logout_claims(app)
            assert claims["sid"] == sid and claims["sub"] == citizen.subject
            assert claims["iss"] == gateway.issuer and claims["aud"] == client.client_id
            assert app.rejected_logout_tokens == [] and app.replayed_jtis == []
        # The land registry ended its own session when told; the tax office had at its sign-out.
        assert land.sessions == {} and land.sids_ended_by_logout == [sid]
        assert tax.sessions == {} and tax.sids_ended_by_logout == []

        # A second delivery of the same token is told apart by its jti, and changes nothing.
        (delivered,) = land.logout_tokens
        assert land.redeliver(delivered).status_code == 200
        assert land.replayed_jtis == [_jti(delivered)]
        assert len(land.logout_claims) == 1

        # Nothing of the session works any more.
        for app, signed_in in ((tax, tax_sign_in), (land, land_sign_in)):
            refreshed = app.refresh(signed_in.tokens["refresh_token"])
            assert refreshed.status_code == 400, refreshed.text
            assert refreshed.json()["error"] == "invalid_grant"
        for app in (tax, land):
            page.goto(f"{app.origin}/?prompt=none")
            page.wait_for_url(f"{app.redirect_uri}?*")
            assert _query(page.url)["error"] == "login_required"
            assert app.callback_errors == ["login_required"]
    assert not [m for m in console if "Content Security Policy" in m], console


def _logout_claims(app: AgencyApp) -> list[dict[str, Any]]:
    """What the app verified, once its first token has come (the worker sends them at once)."""
    app.wait_until(lambda: bool(app.logout_claims))
    return list(app.logout_claims)


def _jti(token: str) -> Any:
    return jwt.decode(token, options={"verify_signature": False})["jti"]
