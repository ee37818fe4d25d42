"""The citizen's pages against WCAG 2.1 AA and the GOV.UK patterns, in a real Chromium, in English
and Estonian: axe-core on every page and error state (tests/page_states.py), then what axe cannot
judge: the error pattern after a failed sign-in, the contrast of focus indicators, reflow at
320 px, the whole flow by keyboard alone with and without JavaScript, the skip link, the language
switcher and the timeout warning.

The module runs its own gateway per engine: its failed sign-ins would otherwise count against
the shared gateway's limit per source address, which the rest of the suite budgets
(tests/conftest.py). The timeout warning needs a second one whose pages last only 125 s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.axe import AXE, AXE_TAGS, describe_violations
from tests.chromium import (
    CHROMIUM,
    MISSING_CHROMIUM,
    CallbackServer,
    ReusedTabs,
    launch_chromium,
)
from tests.citizen import AppClient
from tests.conftest import BACKENDS, TEST_ENV, CodeResult, exchange_code
from tests.contrast import (
    Colour,
    backdrop,
    best_contrast,
    contrast_ratio,
    focus_indicator_colours,
    parse_colour,
)
from tests.gateway_process import Gateway, running_gateway
from tests.keyboard import READ_ELEMENT, first_in_tab_order, press_until, read_active, tab_walk
from tests.page_states import LANGUAGES, STATES, Visit, register_agency

# The states whose focus indicators and tab order are walked too. The account page with other
# browsers (three sign-ins to reach) is not: its list uses the same parts as the account page
# signed in, which is walked. Nor are the passkey states but the account page's list: the
# removal page, and the refusals on the sign-in and step-up pages, are made of the parts of the
# authenticator app's removal page and of the error states walked already.
NOT_WALKED = {
    "account-other-browser-signed-out",
    "passkey-remove",
    "step-up-passkey-refused",
    "sign-in-passkey-refused",
}
WALKED_STATES = [state for state in STATES if state not in NOT_WALKED]

GATEWAY_ENV = {**TEST_ENV, "IDP_SIGN_IN_SOURCE_ATTEMPTS": "100"}
# The warning comes two minutes before the end (static/timeout-warning.js): here after 5 s.
SHORT_LIFETIME = 125
WARN_BEFORE = 120
WORDS = {
    "en": {
        "error": "Error:",
        "username": "Enter your username",
        "password": "Enter your password",
        "credentials": "The username or password is not right. Check them and try again.",
    },
    "et": {
        "error": "Viga:",
        "username": "Sisesta oma kasutajanimi",
        "password": "Sisesta oma parool",
        "credentials": "Kasutajanimi või parool ei ole õige. Kontrolli neid ja proovi uuesti.",
    },
}

pytestmark = [
    pytest.mark.browser,
    # A page is the same on SQLite and PostgreSQL: each case (state, language) is audited
    # once, half the cases on each engine (tests/conftest.py).
    pytest.mark.cases_split_between_engines,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING_CHROMIUM),
]


@pytest.fixture(scope="module", params=BACKENDS)
def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    workdir = tmp_path_factory.mktemp(f"pages-{request.param}")
    with running_gateway(request.param, workdir, GATEWAY_ENV) as running:
        yield running


@pytest.fixture(scope="module")
def short_gateway(gateway: Gateway, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway on the same engine whose sign-in and consent pages last 125 s."""
    workdir = tmp_path_factory.mktemp(f"pages-short-{gateway.backend}")
    env = {**GATEWAY_ENV, "IDP_INTERACTION_LIFETIME": str(SHORT_LIFETIME)}
    with running_gateway(gateway.backend, workdir, env) as running:
        yield running


@pytest.fixture(scope="module")
def callback() -> Iterator[CallbackServer]:
    with CallbackServer() as server:
        yield server


@pytest.fixture(scope="module")
def agency(gateway: Gateway, callback: CallbackServer) -> AppClient:
    return register_agency(gateway, callback.url)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `bash .ci/install-e2e.sh` (npm ci in tests/pages)")
    return AXE.read_text()


@pytest.fixture(scope="module")
def tabs(chromium: Browser) -> Iterator[ReusedTabs]:
    """English in the browser's own settings."""
    reused = ReusedTabs(chromium, locale="en-GB")
    yield reused
    reused.close()


@pytest.fixture
def new_page(tabs: ReusedTabs) -> Iterator[Callable[..., Page]]:
    """A tab as a context of its own would give it (no cookies from other tests); keyword
    arguments as for new_context (viewport, java_script_enabled)."""
    yield tabs.tab
    tabs.test_done()


def reach(
    page: Page, gateway: Gateway, agency: AppClient, state: str, language: str = "en"
) -> Visit:
    visit = Visit(page, gateway, agency, language)
    STATES[state](visit)
    assert page.evaluate("document.documentElement.lang") == language, page.url
    return visit


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("state", STATES)
def test_page_meets_wcag_21_aa(
    gateway: Gateway,
    agency: AppClient,
    new_page: Callable[..., Page],
    axe_source: str,
    state: str,
    language: str,
) -> None:
    """Each state reached once and judged on the same page: axe-core's WCAG 2.1 AA rules; the
    focus indicators and the tab order (in English: the styles do not change with the
    language); then reflow at 320 px, where the longer Estonian words are the harder case."""
    page = new_page()
    reach(page, gateway, agency, state, language)
    problems = axe_violations(page, axe_source)
    if language == "en" and state in WALKED_STATES:
        problems += focus_problems(page)
    problems += reflow_problems(page)
    assert problems == [], f"{state} ({language}):\n" + "\n".join(problems)


def axe_violations(page: Page, axe_source: str) -> list[str]:
    # Evaluated over CDP, which the page's CSP does not govern (a script tag would be refused).
    page.evaluate(axe_source)
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})",
        AXE_TAGS,
    )
    assert results["passes"], "axe checked nothing"
    if not results["violations"]:
        return []
    return ["axe: " + describe_violations(results["violations"])]


def focus_problems(page: Page) -> list[str]:
    """WCAG 1.4.11 and 2.4.7, as GOV.UK's focus style meets them: what focus adds to an element
    (outline, shadows, a background) includes a colour of 3:1 against the background behind it.
    And Tab reaches every element in the tab order (2.1.1)."""
    unfocused, focused = tab_walk(page)
    reached = {item["key"] for item in focused}
    unreached = [item["name"] for key, item in unfocused.items() if key not in reached]
    problems = [f"Tab never reaches {unreached}"] if unreached else []
    for item in focused:
        colours = focus_indicator_colours(item["styles"], unfocused[item["key"]]["styles"])
        behind = backdrop(item["behind"])
        ratio = best_contrast(colours, behind)
        if ratio < 3:
            problems.append(
                f"focus indicator below 3:1: {item['name']}: {[str(c) for c in colours]} "
                f"on {behind}: {ratio:.2f}:1"
            )
    return problems


def reflow_problems(page: Page) -> list[str]:
    """WCAG 1.4.10 reflow: 320 CSS px wide (1280 px at 400% zoom), no scrolling sideways."""
    page.set_viewport_size({"width": 320, "height": 640})
    width = page.evaluate("document.documentElement.scrollWidth")
    return [f"{width} px wide at 320 px"] if width > 320 else []


def invalid_fields(page: Page) -> dict[str, tuple[str | None, list[str | None]]]:
    """Each input marked invalid: its aria-invalid and the text of what aria-describedby names
    (None where no element has that id)."""
    found: dict[str, tuple[str | None, list[str | None]]] = {}
    for item in page.evaluate(
        """() => Array.from(document.querySelectorAll("input[aria-invalid]")).map(input => ({
          id: input.id,
          invalid: input.getAttribute("aria-invalid"),
          described: (input.getAttribute("aria-describedby") || "").split(/\\s+/)
            .filter(Boolean).map(id => document.getElementById(id))
            .map(e => e && e.textContent.replace(/\\s+/g, " ").trim()),
        }))"""
    ):
        found[item["id"]] = (item["invalid"], item["described"])
    return found


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("state", ["sign-in-empty", "sign-in-wrong-password"])
def test_failed_sign_in_follows_the_gov_uk_error_pattern(
    gateway: Gateway, agency: AppClient, new_page: Callable[..., Page], state: str, language: str
) -> None:
    page = new_page()
    reach(page, gateway, agency, state, language)
    words = WORDS[language]
    # The summary takes focus as the page loads (autofocus), so a screen reader reads it first.
    page.wait_for_function(
        "document.activeElement && document.activeElement.matches('.error-summary')",
        timeout=5_000,
    )
    assert page.title().startswith(words["error"] + " "), page.title()

    if state == "sign-in-empty":
        messages = {"username": words["username"], "password": words["password"]}
        summary = [("#username", words["username"]), ("#password", words["password"])]
    else:
        # The same words for both fields: the page must not tell which one was wrong.
        messages = {"username": words["credentials"], "password": words["credentials"]}
        summary = [("#username", words["credentials"])]
    assert invalid_fields(page) == {
        field: ("true", [f"{words['error']} {message}"]) for field, message in messages.items()
    }
    links = page.locator(".error-summary a")
    assert [
        (links.nth(i).get_attribute("href"), links.nth(i).inner_text())
        for i in range(links.count())
    ] == summary

    # Each entry leads to its field: Tab from the summary to its first link, Enter.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement.id === 'username'", timeout=5_000)


def secondary_button_edges(page: Page) -> list[tuple[str, float, float]]:
    """Each edge of each secondary button: (button, width in px, contrast against what is
    behind the button)."""
    edges = []
    buttons = page.locator("button.secondary")
    for i in range(buttons.count()):
        item = buttons.nth(i).evaluate(READ_ELEMENT)
        behind = backdrop(item["behind"])
        for colour, width in item["border"]:
            ratio = contrast_ratio(parse_colour(colour).over(behind), behind)
            edges.append((item["name"], width, round(ratio, 2)))
    return edges


def test_secondary_buttons_have_a_3_to_1_edge(
    gateway: Gateway, agency: AppClient, new_page: Callable[..., Page]
) -> None:
    """A light grey button on white is found by its edge (WCAG 1.4.11): Cancel on the sign-in
    page, Deny on the consent page, "Stop sharing" and this browser's "Sign out" on the account
    page; "Sign in with a passkey" too once static/passkeys.js has shown it (four edges each)."""
    page = new_page()
    visit = Visit(page, gateway, agency, "en")
    citizen = visit.new_citizen()
    visit.open_sign_in()
    edges = secondary_button_edges(page)
    visit.submit_sign_in(citizen.username, citizen.password)
    page.wait_for_url(f"{gateway.issuer}/consent?*")
    edges += secondary_button_edges(page)
    visit.allow()
    visit.open("/account")
    edges += secondary_button_edges(page)
    passkey_edges = [edge for edge in edges if "passkey" in edge[0]]
    assert len(edges) - len(passkey_edges) == 4 * 4 and len(passkey_edges) in (0, 4)
    weak = [edge for edge in edges if edge[1] < 1 or edge[2] < 3]
    assert weak == [], f"secondary button edges below 3:1 (button, px, ratio): {weak}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_open_data_tables_meet_wcag_21_aa_when_opened(
    gateway: Gateway,
    agency: AppClient,
    new_page: Callable[..., Page],
    axe_source: str,
    language: str,
) -> None:
    """The charts' tables are behind a summary (a details element): opened by keyboard alone,
    they are audited too, and still fit 320 px."""
    page = new_page(viewport={"width": 320, "height": 640})
    reach(page, gateway, agency, "open-data", language)
    summaries = page.locator("details.numbers > summary")
    assert summaries.count() == 2
    for index in range(summaries.count()):
        summaries.nth(index).focus()
        page.keyboard.press("Enter")
    assert page.locator("details.numbers[open] table.data").count() == 2
    page.evaluate(axe_source)
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})",
        AXE_TAGS,
    )
    assert results["violations"] == [], describe_violations(results["violations"])
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


def arrived_params(page: Page, agency: AppClient) -> dict[str, str]:
    page.wait_for_url(f"{agency.redirect_uri}?*")
    return dict(parse_qsl(urlsplit(page.url).query))


@pytest.mark.parametrize("javascript", [True, False], ids=["script", "no-script"])
def test_sign_in_and_consent_by_keyboard_alone(
    gateway: Gateway, agency: AppClient, new_page: Callable[..., Page], javascript: bool
) -> None:
    """Tab, Shift+Tab, Enter and Space, no pointer: from the agency's link to its callback with
    a code that redeems. Without script, "Give me more time" works as a plain form."""
    page = new_page(java_script_enabled=javascript)
    visit = Visit(page, gateway, agency, "en")
    citizen = visit.new_citizen()
    visit.open_sign_in()
    sign_in_url = page.url
    if not javascript:
        press_until(page, "#more-time button")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url == sign_in_url

    press_until(page, "#username")
    page.keyboard.type(citizen.username)
    press_until(page, "#password", limit=1)
    page.keyboard.type(citizen.password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url(f"{gateway.issuer}/consent?*")

    press_until(page, "button[value=deny]")
    press_until(page, "button[value=allow]", key="Shift+Tab", limit=1)
    page.keyboard.press("Space")
    params = arrived_params(page, agency)
    assert visit.request is not None
    assert params["state"] == visit.request["state"]
    response = exchange_code(gateway, agency, CodeResult(params, visit.request, visit.verifier))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("state", ["home", "sign-in"])
def test_skip_link_is_first_and_moves_focus_to_main(
    gateway: Gateway, agency: AppClient, new_page: Callable[..., Page], state: str, language: str
) -> None:
    page = new_page()
    reach(page, gateway, agency, state, language)
    first = first_in_tab_order(page)
    assert first["name"].startswith("a.skip-link"), first["name"]
    page.keyboard.press("Tab")
    assert read_active(page)["key"] == first["key"]
    assert page.locator(".skip-link").is_visible()
    assert page.evaluate("document.activeElement.getBoundingClientRect().left") >= 0
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement.id === 'main'", timeout=5_000)


def test_language_switcher_keeps_the_interaction(
    gateway: Gateway, agency: AppClient, new_page: Callable[..., Page]
) -> None:
    page = new_page()
    visit = Visit(page, gateway, agency, "en")
    citizen = visit.new_citizen()
    visit.open_sign_in()
    sign_in_url = page.url
    assert page.evaluate("document.documentElement.lang") == "en"
    switcher = page.locator("nav.languages a")
    assert switcher.count() == 1
    assert switcher.inner_text() == "Eesti"
    assert (switcher.get_attribute("hreflang"), switcher.get_attribute("lang")) == ("et", "et")
    assert page.locator("nav.languages [aria-current]").inner_text() == "English"

    with page.expect_navigation():
        switcher.click()
    assert page.url == sign_in_url
    assert page.evaluate("document.documentElement.lang") == "et"
    assert page.locator("h1").inner_text() == "Logi sisse"
    back = page.locator("nav.languages a")
    assert (back.inner_text(), back.get_attribute("hreflang"), back.get_attribute("lang")) == (
        "English",
        "en",
        "en",
    )

    visit.submit_sign_in(citizen.username, citizen.password)
    page.wait_for_url(f"{gateway.issuer}/consent?*")
    assert page.evaluate("document.documentElement.lang") == "et"
    visit.allow()
    params = arrived_params(page, agency)
    assert visit.request is not None
    assert params["state"] == visit.request["state"]
    assert params["code"]


def test_timeout_warning_takes_focus_and_gives_more_time(
    short_gateway: Gateway, callback: CallbackServer, new_page: Callable[..., Page]
) -> None:
    """The GOV.UK timeout pattern: the warning comes before the page stops working, takes focus,
    and its button asks the gateway for more time without leaving the page."""
    page = new_page()
    agency = register_agency(short_gateway, callback.url)
    visit = Visit(page, short_gateway, agency, "en")
    citizen = visit.new_citizen()
    visit.open_sign_in()
    warning = page.locator("#timeout-warning")
    assert warning.is_hidden()
    page.wait_for_selector(
        "#timeout-warning", state="visible", timeout=(SHORT_LIFETIME - WARN_BEFORE + 5) * 1000
    )
    page.wait_for_function("document.activeElement.id === 'timeout-warning'", timeout=2_000)

    page.keyboard.press("Tab")
    assert read_active(page)["name"].startswith("button#timeout-continue")
    with page.expect_response(lambda r: r.url.endswith("/interaction/more-time")) as answer:
        page.keyboard.press("Enter")
    expires_in = answer.value.json()["expires_in"]
    # Just before, less than two minutes were left; now the whole lifetime again.
    assert WARN_BEFORE < expires_in <= SHORT_LIFETIME
    page.wait_for_selector("#timeout-warning", state="hidden", timeout=5_000)
    assert read_active(page)["name"].startswith("input#username")

    visit.submit_sign_in(citizen.username, citizen.password)
    page.wait_for_url(f"{short_gateway.issuer}/consent?*")
    visit.allow()
    assert arrived_params(page, agency)["code"]


def test_contrast_ratio_is_the_wcag_formula() -> None:
    """Known values: black on white 21:1, #767676 on white just above 4.5:1, GOV.UK's yellow
    focus colour on white 1.35:1 (why it needs a black part)."""
    black, white = Colour(0, 0, 0), Colour(255, 255, 255)
    assert contrast_ratio(black, white) == pytest.approx(21)
    assert contrast_ratio(parse_colour("rgb(118, 118, 118)"), white) == pytest.approx(
        4.54, abs=0.01
    )
    assert contrast_ratio(parse_colour("rgb(255, 221, 0)"), white) == pytest.approx(1.35, abs=0.01)
    assert parse_colour("rgba(0, 0, 0, 0.5)").over(white) == Colour(127.5, 127.5, 127.5)
