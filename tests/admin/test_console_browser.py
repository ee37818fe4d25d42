"""The console in Chromium on its own listener (`idp serve --admin-port`): an auditor reviews
and exports the log, refusals show the 403 page, and axe-core finds no WCAG 2.1 AA violation on
any console page, in English or in Estonian."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests import http_client
from tests.admin.console_pages import (
    CONSOLE_STATES,
    ConsoleTab,
    open_citizen_record,
    register_app_in_console,
)
from tests.axe import AXE, AXE_TAGS, describe_violations
from tests.builders import add_citizen, register_app
from tests.chromium import CHROMIUM, MISSING_CHROMIUM, ReusedTabs, launch_chromium
from tests.citizen import Browser as HttpBrowser
from tests.conftest import BACKENDS, TEST_ENV, signed_in_tokens
from tests.gateway_process import Gateway, free_port, running_gateway
from tests.page_states import LANGUAGES

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING_CHROMIUM),
]
# The log's tree grows every 0.2 s here, so entries are reviewable at once.
# Page states share signed-in administrators (tests/admin/console_pages.py), so a sensitive page
# reached minutes after their sign-in must not ask again (tests/admin/test_console.py tests that
# it does, with a clock it moves).
GATEWAY_ENV = {
    **TEST_ENV,
    "IDP_SIGN_IN_SOURCE_ATTEMPTS": "1000",
    "IDP_LOG_SEQUENCE_INTERVAL": "0.2",
    "IDP_ADMIN_FRESH_SIGN_IN_LIFETIME": "3600",
}


@pytest.fixture(scope="module", params=BACKENDS)
def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Gateway, str]]:
    workdir = tmp_path_factory.mktemp(f"console-{request.param}")
    admin_port = free_port()
    with running_gateway(
        request.param, workdir, GATEWAY_ENV, serve_args=("--admin-port", str(admin_port))
    ) as running:
        yield running, f"http://localhost:{admin_port}/admin"


@pytest.fixture(scope="module")
def activity(gateway: tuple[Gateway, str]) -> dict[str, Any]:
    """A citizen signed in at two agency apps."""
    running, _ = gateway
    apps = [register_app(running, name="Tax office"), register_app(running, name="Land registry")]
    citizen = add_citizen(running)
    for app in apps:
        with HttpBrowser(running.issuer) as browser:
            signed_in_tokens(running, browser, app, citizen)
    return {"apps": apps, "citizen": citizen}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def signed_in(gateway: tuple[Gateway, str]) -> dict[tuple[str, ...], list[Any]]:
    """Administrators' cookies, by roles, for this gateway alone (one per engine: a cookie of
    the other engine's gateway, on another port of the same host, would be sent here too)."""
    return {}


# The browser's own language settings for each language the console speaks.
BROWSER_LOCALES = {"en": "en-GB", "et": "et-EE"}


@pytest.fixture(scope="module")
def tabs(chromium: Browser) -> Iterator[ReusedTabs]:
    reused = ReusedTabs(chromium, accept_downloads=True)
    yield reused
    reused.close()


@pytest.fixture
def new_tab(
    tabs: ReusedTabs,
    gateway: tuple[Gateway, str],
    activity: dict[str, Any],
    signed_in: dict[tuple[str, ...], list[Any]],
) -> Iterator[Callable[[str], ConsoleTab]]:
    """A tab of a browser set to a language (its Accept-Language), as a context of its own
    would give it."""

    def make(language: str) -> ConsoleTab:
        running, console = gateway
        page = tabs.tab(locale=BROWSER_LOCALES[language])
        return ConsoleTab(page, running, console, signed_in, language)

    yield make
    tabs.test_done()


@pytest.fixture
def tab(new_tab: Callable[[str], ConsoleTab]) -> ConsoleTab:
    return new_tab("en")


def test_the_console_answers_on_its_own_port_only(gateway: tuple[Gateway, str]) -> None:
    running, console = gateway
    assert http_client.get(f"{running.issuer}/admin/").status_code == 404
    assert http_client.get(f"{running.issuer}/admin/api/v1/openapi.json").status_code == 404
    assert http_client.get(f"{console}/").status_code == 303
    assert http_client.get(f"{console}/api/v1/openapi.json").status_code == 200
    console_root = console.removesuffix("/admin")
    assert http_client.get(f"{console_root}/.well-known/openid-configuration").status_code == 404
    assert http_client.get(f"{running.issuer}/.well-known/openid-configuration").status_code == 200
    # Not found on the public port is the gateway's page for a browser, JSON for a client, and
    # carries the headers every answer does.
    page = http_client.get(f"{running.issuer}/admin/", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "<title>Page not found" in page.text and 'href="/help"' in page.text
    assert page.headers["x-content-type-options"] == "nosniff"
    api = http_client.get(f"{running.issuer}/admin/api/v1/openapi.json")
    assert api.json() == {"error": "not_found"}
    refused = http_client.get(f"{console_root}/help", headers={"Accept": "text/html"})
    assert refused.status_code == 404 and refused.headers["x-content-type-options"] == "nosniff"


def test_the_console_switches_language_on_its_own_port(gateway: tuple[Gateway, str]) -> None:
    """The switcher every console page carries is answered on the console's listener."""
    _, console = gateway
    with http_client.Client() as browser:
        page = browser.get(f"{console}/signed-in?state=unknown&code=unknown")
        assert '<html lang="en">' in page.text
        switch = re.search(r'href="(/language\?[^"]+)" hreflang="et"', page.text)
        assert switch, page.text
        back = browser.get(console.removesuffix("/admin") + html.unescape(switch.group(1)))
        assert back.status_code == 303 and back.headers["location"] == "/admin/signed-in?" + (
            "state=unknown&code=unknown"
        )
        again = browser.get(console.removesuffix("/admin") + back.headers["location"])
        assert '<html lang="et">' in again.text


def _rows(page: Page) -> list[dict[str, str]]:
    headers = page.locator("table.entries thead th").all_inner_texts()
    return [
        dict(zip(headers, row.locator("td").all_inner_texts(), strict=True))
        for row in page.locator("table.entries tbody tr").all()
    ]


def test_an_auditor_filters_by_citizen_and_by_agency_and_exports_csv(
    tab: ConsoleTab, activity: dict[str, Any]
) -> None:
    citizen, apps = activity["citizen"], activity["apps"]
    tab.sign_in(tab.administrator("auditor"), "/log")
    tab.page.fill("#citizen", citizen.username)
    with tab.page.expect_navigation():
        tab.page.click("button:has-text('Show entries')")
    by_citizen = _rows(tab.page)
    assert by_citizen and all(row["Citizen"] == citizen.subject for row in by_citizen)
    assert {"token.issued", "consent.given"} <= {row["Event"] for row in by_citizen}

    tab.page.fill("#citizen", "")
    tab.page.select_option("#app", apps[1].client_id)
    with tab.page.expect_navigation():
        tab.page.click("button:has-text('Show entries')")
    by_agency = _rows(tab.page)
    assert by_agency and all(row["Agency app"] == "Land registry" for row in by_agency)

    with tab.page.expect_download() as download:
        tab.page.click("a:has-text('CSV')")
    exported = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert exported and all(row["client_id"] == apps[1].client_id for row in exported)
    assert len(exported) >= len(by_agency)


def test_a_role_is_refused_where_it_must_be(tab: ConsoleTab) -> None:
    keys_before = tab.gateway.command_json("keys", "list")
    tab.sign_in(tab.administrator("auditor"))
    for path in ("/keys", "/keys/emergency", "/roles"):
        assert tab.open(path) == 403, path
        assert tab.page.locator("h1").inner_text() == "You cannot open this page"
    assert tab.gateway.command_json("keys", "list") == keys_before


def _token(gateway: Gateway, client_id: str, secret: str) -> int:
    answer = http_client.post(
        f"{gateway.issuer}/token",
        auth=(client_id, secret),
        data={"grant_type": "client_credentials", "scope": "openid"},
    )
    return answer.status_code


def test_an_operator_registers_an_app_and_rotates_its_secret(tab: ConsoleTab) -> None:
    tab.sign_in(tab.administrator("operator"), "/apps")
    client_id, first = register_app_in_console(tab, "Road authority")
    assert _token(tab.gateway, client_id, first) == 200
    tab.open(f"/apps/{client_id}")
    assert tab.page.inner_text("#discovery-url").endswith("/.well-known/openid-configuration")
    tab.page.select_option("#overlap_hours", "1")
    with tab.page.expect_navigation():
        tab.page.click("button:has-text('Rotate the secret')")
    second = tab.page.inner_text("#client-secret")
    assert second != first and "keeps working until" in tab.page.inner_text("#overlap")
    # During the overlap both work (tests/admin/test_console_apps.py moves the clock past it).
    assert _token(tab.gateway, client_id, first) == 200
    assert _token(tab.gateway, client_id, second) == 200
    tab.open(f"/apps/{client_id}")
    tab.page.select_option("#overlap_hours", "0")
    with tab.page.expect_navigation():
        tab.page.click("button:has-text('Rotate the secret')")
    third = tab.page.inner_text("#client-secret")
    assert "no longer works" in tab.page.inner_text("#overlap")
    assert _token(tab.gateway, client_id, first) == 401
    assert _token(tab.gateway, client_id, second) == 401
    assert _token(tab.gateway, client_id, third) == 200


def test_support_opens_a_record_with_a_reason_and_the_citizen_sees_it(
    tab: ConsoleTab, chromium: Browser
) -> None:
    citizen = add_citizen(tab.gateway, given_name="Mari", family_name="Maasikas")
    tab.sign_in(tab.administrator("support"), "/citizens")
    open_citizen_record(tab, citizen, "She called about her address, case 4711")
    assert "Maasikas" in tab.page.inner_text("main")
    # The citizen signs in at an agency, then opens their account page in their own browser.
    app = register_app(tab.gateway, name="Tax office")
    with HttpBrowser(tab.gateway.issuer) as http:
        signed_in_tokens(tab.gateway, http, app, citizen)
    own = chromium.new_context(locale="en-GB")
    page = own.new_page()
    page.goto(f"{tab.gateway.issuer}/account/sign-in")
    page.fill("#username", citizen.username)
    page.fill("#password", citizen.password)
    with page.expect_navigation():
        page.click("button[name=sign_in]")
    page.wait_for_url(f"{tab.gateway.issuer}/account*")
    looks = page.inner_text("table.looks")
    own.close()
    assert "(console)" in looks and "She called about her address, case 4711" in looks


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `bash .ci/install-e2e.sh` (npm ci in tests/pages)")
    return AXE.read_text()


@pytest.mark.cases_split_between_engines  # a page is the same on every engine
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("state", CONSOLE_STATES)
def test_console_page_meets_wcag_21_aa_by_axe(
    new_tab: Callable[[str], ConsoleTab], axe_source: str, state: str, language: str
) -> None:
    tab = new_tab(language)
    CONSOLE_STATES[state](tab)
    assert tab.page.evaluate("document.documentElement.lang") == language, tab.page.url
    tab.page.evaluate(axe_source)
    results = tab.page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})",
        AXE_TAGS,
    )
    assert results["passes"], "axe checked nothing"
    assert results["violations"] == [], f"{state}:\n" + describe_violations(results["violations"])
