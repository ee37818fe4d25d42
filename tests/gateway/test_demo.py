"""The newcomer's path from the README: `idp serve --demo` in an empty folder, then sign in to the
demo agency app as the demo citizen; and the demo app's own pages in Chromium (styled, titled,
no sideways scrolling at 320 px, no axe-core WCAG 2.1 AA violation). The demo is defined on the
embedded default (SQLite)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, sync_playwright

from tests import http_client
from tests.axe import AXE, AXE_TAGS, describe_violations
from tests.chromium import CHROMIUM, MISSING_CHROMIUM, TIMEOUT_MS, launch_chromium
from tests.citizen import Browser, hidden_fields
from tests.gateway_process import IDP_COMMAND, free_port

DEMO_USERNAME, DEMO_PASSWORD = "demo", "demo-citizen-password"


@contextmanager
def demo_gateway(workdir: Path) -> Iterator[tuple[str, Path]]:
    """`idp serve --demo` in `workdir`, ready: its issuer and its log."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "GATEWAY_"))}
    log_path = workdir / "demo.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*IDP_COMMAND, "serve", "--demo", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    issuer = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if http_client.get(f"{issuer}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield issuer, log_path
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "Traceback" not in log_path.read_text()


def test_demo_agency_app_signs_the_demo_citizen_in(tmp_path: Path) -> None:
    with demo_gateway(tmp_path) as (issuer, log_path):
        printed = log_path.read_text()
        assert f"Demo agency app: {issuer}/demo-agency/" in printed
        assert f"username {DEMO_USERNAME}, password {DEMO_PASSWORD}" in printed
        assert (tmp_path / "data" / "idp.db").exists()
        assert list((tmp_path / "keys").glob("*.pem"))

        browser = Browser(issuer)
        try:
            start = browser.http.get(f"{issuer}/demo-agency/login")
            # The demo app lives on the gateway's origin: the walk ends on its callback page.
            page = browser.follow_to_client(start, username=DEMO_USERNAME, password=DEMO_PASSWORD)
            assert page.status_code == 200, page.text
            assert "You are signed in" in page.text and "Maasikas" in page.text
            # Its own stylesheet, which its own policy lets the page load.
            assert "style-src 'self'" in page.headers["content-security-policy"]
            sheet = browser.http.get(f"{issuer}/demo-agency/agency.css")
            assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/css")
            assert "<title>You are signed in &ndash; Demo agency service</title>" in page.text
            # The app keeps its session, until the citizen signs out of it.
            assert "Maasikas" in browser.http.get(f"{issuer}/demo-agency/").text
            # Its sign-out goes through the gateway's end-session endpoint, which signs the
            # citizen out of the gateway too, and comes back.
            out = browser.http.post(f"{issuer}/demo-agency/sign-out")
            assert out.status_code == 303 and out.headers["location"].startswith(
                f"{issuer}/logout?"
            )
            back = browser.http.get(out.headers["location"])
            assert back.status_code == 303
            assert back.headers["location"] == f"{issuer}/demo-agency/signed-out"
            assert "signed out" in browser.http.get(back.headers["location"]).text
            assert "Maasikas" not in browser.http.get(f"{issuer}/demo-agency/").text
            again = browser.http.get(f"{issuer}/demo-agency/login")
            assert 'action="/sign-in"' in browser.follow_to_client(again).text  # the password again
            _signed_out_at_the_gateway_reaches_the_app(browser, issuer)
        finally:
            browser.close()


def _signed_out_at_the_gateway_reaches_the_app(browser: Browser, issuer: str) -> None:
    """Signed in again, then out on the gateway's own sign-out page: the gateway tells the app
    over the back channel, and the app ends its session (no sign-out passed through it)."""
    again = browser.http.get(f"{issuer}/demo-agency/login")
    page = browser.follow_to_client(again, username=DEMO_USERNAME, password=DEMO_PASSWORD)
    assert "Maasikas" in page.text, page.text
    confirm = browser.http.get(f"{issuer}/logout")
    assert confirm.status_code == 200 and 'action="/sign-out"' in confirm.text
    out = browser.http.post(f"{issuer}/sign-out", data=hidden_fields(confirm.text))
    assert out.status_code in (200, 303), out.text
    # The delivery is the gateway's sign-out worker's, woken by the sign-out: within seconds.
    deadline = time.monotonic() + 10
    while "Maasikas" in browser.http.get(f"{issuer}/demo-agency/").text:
        assert time.monotonic() < deadline, "the app kept its session after the logout token"
        time.sleep(0.1)


def _audit(page: Page, axe_source: str, title: str) -> None:
    """The page's title, its own stylesheet applied, nothing wider than the 320 px viewport,
    and no axe-core WCAG 2.1 AA violation."""
    assert page.title() == f"{title} \N{EN DASH} Demo agency service"
    banner = page.evaluate(
        "getComputedStyle(document.querySelector('.agency-banner')).backgroundColor"
    )
    assert banner == "rgb(46, 53, 139)"  # agency.css loaded under the app's own CSP
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{title}: {width} px wide"
    page.evaluate(axe_source)
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})",
        AXE_TAGS,
    )
    assert results["violations"] == [], f"{title}:\n" + describe_violations(results["violations"])


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING_CHROMIUM)
def test_demo_agency_pages_are_styled_titled_and_fit_320_px(tmp_path: Path) -> None:
    """The demo's start page, its claims tables after a sign-in, and its signed-out page, 320 CSS
    px wide in Chromium; the sign-out button ends the app's session through the gateway."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `bash .ci/install-e2e.sh` (npm ci in tests/pages)")
    axe_source = AXE.read_text()
    with demo_gateway(tmp_path) as (issuer, _), sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        context = chromium.new_context(locale="en-GB", viewport={"width": 320, "height": 640})
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        page = context.new_page()
        refused: list[str] = []
        page.on(
            "console",
            lambda message: (
                refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        page.goto(f"{issuer}/demo-agency/")
        _audit(page, axe_source, "Welcome")

        with page.expect_navigation():
            page.click("a.agency-button")
        page.fill("#username", DEMO_USERNAME)
        page.fill("#password", DEMO_PASSWORD)
        with page.expect_navigation():
            page.click("button[name=sign_in]")
        page.wait_for_url(f"{issuer}/consent?*")
        page.click("button[value=allow]")
        page.wait_for_url(f"{issuer}/demo-agency/callback?*")
        assert page.locator("table.claims").count() == 2
        assert "Maasikas" in page.inner_text("main")  # the userinfo table
        _audit(page, axe_source, "You are signed in")

        with page.expect_navigation():
            page.click("form[action='/demo-agency/sign-out'] button")
        page.wait_for_url(f"{issuer}/demo-agency/signed-out")
        _audit(page, axe_source, "Signed out")
        assert refused == [], refused  # no stylesheet or anything else refused by a CSP
        context.close()
        chromium.close()
