"""The citizen's pages over HTTP: the GOV.UK error pattern on sign-in, the language (ui_locales,
the switcher, Accept-Language), the information pages, HTML or JSON for unknown addresses, and
more time on a sign-in page. In Chromium: tests/idp/web/test_page_accessibility.py."""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

import httpx
import pytest
from babel.dates import format_date

from tests.citizen import (
    AppClient,
    Browser,
    authorization_params,
    callback_params,
    hidden_fields,
    split_verifier,
)
from tests.conftest import add_citizen, register_app
from tests.in_process import InProcessGateway

HTML = {"Accept": "text/html,application/xhtml+xml"}


def _start(browser: Browser, app: AppClient, **overrides: str) -> httpx.Response:
    params, _ = split_verifier(authorization_params(app, **overrides))
    response = browser.authorize(params)
    assert response.status_code == 303, response.text
    return browser.http.get(browser.issuer + response.headers["location"])


def _post_sign_in(browser: Browser, page: httpx.Response, **fields: str) -> httpx.Response:
    return browser.http.post(
        f"{browser.issuer}/sign-in", data={**hidden_fields(page.text), "sign_in": "1", **fields}
    )


def _title(page: httpx.Response) -> str:
    found = re.search(r"<title>(.*?)</title>", page.text, re.S)
    assert found, page.text
    return found.group(1)


def _input(page: httpx.Response, name: str) -> str:
    found = re.search(rf'<input id="{name}"[^>]*>', page.text, re.S)
    assert found, page.text
    return found.group(0)


def test_empty_fields_each_get_their_own_message_and_nothing_is_checked(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    app, person, browser = register_app(gateway), add_citizen(gateway), gateway.browser()
    page = _start(browser, app)
    answer = _post_sign_in(browser, page, username="", password="")
    assert answer.status_code == 200
    assert _title(answer).startswith("Error: Sign in")
    assert "There is a problem" in answer.text
    assert '<a href="#username">Enter your username</a>' in answer.text
    assert '<a href="#password">Enter your password</a>' in answer.text
    for field in ("username", "password"):
        tag = _input(answer, field)
        assert 'aria-invalid="true"' in tag and f'aria-describedby="{field}-error"' in tag
        assert f'id="{field}-error"' in answer.text
    assert re.search(r'class="error-summary"[^>]*autofocus', answer.text)
    only_password = _post_sign_in(browser, page, username=person.username, password="")
    assert "Enter your password" in only_password.text
    assert "Enter your username" not in only_password.text
    assert f'value="{person.username}"' in only_password.text  # what was typed stays
    # Empty forms used no attempt: far more than the free attempts, then a sign-in at once.
    for _ in range(10):
        _post_sign_in(browser, page, username=person.username, password="")
    signed_in = _post_sign_in(browser, page, username=person.username, password=person.password)
    assert signed_in.status_code == 303


def test_a_wrong_password_marks_both_fields_with_one_message(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    app, person, browser = register_app(gateway), add_citizen(gateway), gateway.browser()
    answer = _post_sign_in(
        browser, _start(browser, app), username=person.username, password="not the password"
    )
    assert _title(answer).startswith("Error: ")
    assert '<a href="#username">The username or password is not right.' in answer.text
    for field in ("username", "password"):
        tag = _input(answer, field)
        assert 'aria-invalid="true"' in tag and 'aria-describedby="credentials-error"' in tag
    assert 'value="not the password"' not in answer.text


def test_ui_locales_gives_estonian_sign_in_and_consent_pages(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    app, person, browser = register_app(gateway), add_citizen(gateway), gateway.browser()
    page = _start(browser, app, ui_locales="fr-CA et-EE en")
    assert '<html lang="et">' in page.text and page.headers["content-language"] == "et"
    assert "<h1>Logi sisse</h1>" in page.text and "Kasutajanimi" in page.text
    assert 'hreflang="en" lang="en">English</a>' in page.text
    empty = _post_sign_in(browser, page, username="", password="")
    assert _title(empty).startswith("Viga: ") and "Sisesta oma kasutajanimi" in empty.text
    consent = browser.http.get(
        browser.issuer
        + _post_sign_in(browser, page, username=person.username, password=person.password).headers[
            "location"
        ]
    )
    assert '<html lang="et">' in consent.text and ">Luba</button>" in consent.text
    assert "Sinu nimi ja sünniaeg" in consent.text  # a scope's description, translated


def test_the_pages_an_interaction_ends_in_keep_its_language(
    in_process_gateway: InProcessGateway,
) -> None:
    """The form post to the agency after consent, and an error page of the request itself, in
    the language `ui_locales` asked for, though the browser prefers English."""
    gateway = in_process_gateway
    app, person, browser = register_app(gateway), add_citizen(gateway), gateway.browser()
    browser.http.headers["Accept-Language"] = "en"
    page = _start(browser, app, ui_locales="et", response_mode="form_post")
    posted = browser.follow_to_client(
        _post_sign_in(browser, page, username=person.username, password=person.password)
    )
    assert f'action="{app.redirect_uri}"' in posted.text and 'name="code"' in posted.text
    assert '<html lang="et">' in posted.text and "Teenuse juurde naasmine" in posted.text
    unknown = browser.http.get(
        f"{gateway.issuer}/authorize?"
        + urlencode({"client_id": "nobody", "response_type": "code", "ui_locales": "et"})
    )
    assert unknown.status_code == 400 and '<html lang="et">' in unknown.text
    assert "Sisselogimisteenus ei tunne teenust" in unknown.text


def test_the_switcher_changes_the_language_and_keeps_the_interaction(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    app, person, browser = register_app(gateway), add_citizen(gateway), gateway.browser()
    page = _start(browser, app, ui_locales="et")
    switch = re.search(r'href="(/language\?[^"]+)" hreflang="en"', page.text)
    assert switch, page.text
    moved = browser.http.get(browser.issuer + switch.group(1).replace("&amp;", "&"))
    assert moved.status_code == 303 and moved.headers["location"].startswith("/sign-in?")
    assert "idp-lang=en" in moved.headers["set-cookie"]
    english = browser.http.get(browser.issuer + moved.headers["location"])
    assert '<html lang="en">' in english.text and "<h1>Sign in</h1>" in english.text
    response = browser.follow_to_client(
        _post_sign_in(browser, english, username=person.username, password=person.password)
    )
    assert "code" in callback_params(response)
    # The pick is remembered: a page of no interaction, whatever the browser prefers.
    home = browser.http.get(f"{gateway.issuer}/", headers={"Accept-Language": "et"})
    assert '<html lang="en">' in home.text


def test_ui_locales_comes_before_an_earlier_pick_and_the_browser(
    in_process_gateway: InProcessGateway,
) -> None:
    """OIDC Core 3.1.2.1: the agency's `ui_locales` decides the interaction's pages, over the
    language the citizen picked on an earlier visit and over `Accept-Language`."""
    gateway = in_process_gateway
    app, browser = register_app(gateway), gateway.browser()
    browser.http.get(f"{gateway.issuer}/language?" + urlencode({"to": "en", "back": "/help"}))
    browser.http.headers["Accept-Language"] = "et"
    assert '<html lang="et">' in _start(browser, app, ui_locales="et").text
    assert '<html lang="en">' in _start(browser, app).text  # no ui_locales: the pick, not et


def test_language_comes_from_the_pick_then_the_browser(
    in_process_gateway: InProcessGateway,
) -> None:
    client = in_process_gateway.client()
    assert '<html lang="en">' in client.get("/help").text
    estonian = client.get("/help", headers={"Accept-Language": "de, et;q=0.8, en;q=0.5"})
    assert '<html lang="et">' in estonian.text and "Abi sisselogimisel" in estonian.text
    client.get("/language?" + urlencode({"to": "en", "back": "/help"}))
    assert '<html lang="en">' in client.get("/help", headers={"Accept-Language": "et"}).text


@pytest.mark.parametrize(
    "back",
    ["//elsewhere.example/", "https://elsewhere.example/", "/\\elsewhere.example", "help", ""],
)
def test_the_switcher_only_returns_to_this_gateway(
    in_process_gateway: InProcessGateway, back: str
) -> None:
    answer = in_process_gateway.client().get("/language?" + urlencode({"to": "et", "back": back}))
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_an_unknown_language_changes_nothing(in_process_gateway: InProcessGateway) -> None:
    answer = in_process_gateway.client().get("/language?to=xx&back=/help")
    assert answer.headers["location"] == "/help" and "set-cookie" not in answer.headers


@pytest.mark.parametrize(
    ("path", "title", "language"),
    [
        ("/", "Sign in once for public services", "en"),
        ("/help", "Help with signing in", "en"),
        ("/privacy", "Privacy notice", "en"),
        ("/accessibility", "Accessibility statement", "en"),
        ("/accessibility", "Ligipääsetavuse teatis", "et"),
    ],
)
def test_information_pages(
    in_process_gateway: InProcessGateway, path: str, title: str, language: str
) -> None:
    page = in_process_gateway.client().get(path, headers={"Accept-Language": language})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert _title(page).startswith(title) and f'<html lang="{language}">' in page.text
    for link in ('href="/help"', 'href="/privacy"', 'href="/accessibility"', 'href="#main"'):
        assert link in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_unknown_addresses_are_a_page_for_browsers_and_json_for_clients(
    in_process_gateway: InProcessGateway,
) -> None:
    client = in_process_gateway.client()
    page = client.get("/no-such-page", headers=HTML)
    assert page.status_code == 404 and _title(page).startswith("Page not found")
    assert 'href="/"' in page.text
    api = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert api.status_code == 404 and api.json() == {"error": "not_found"}
    wrong_method = client.delete("/account", headers=HTML)
    assert wrong_method.status_code == 405 and "allow" in wrong_method.headers
    assert "cannot be opened like that" in wrong_method.text
    assert client.delete("/token").json()["error"] == "invalid_request"


def test_every_error_page_says_what_to_do_next(in_process_gateway: InProcessGateway) -> None:
    client = in_process_gateway.client()
    expired = client.get("/sign-in?interaction=nonsense")
    assert expired.status_code == 400 and "This page has expired" in expired.text
    assert "start again" in expired.text and 'href="/account"' in expired.text
    unknown = client.get(
        "/authorize?" + urlencode({"client_id": "nobody", "response_type": "code"})
    )
    assert "not known to the gateway" in unknown.text and "start again" in unknown.text


def test_more_time_extends_a_sign_in_page_but_not_past_the_longest(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    app, person, browser = register_app(gateway), add_citizen(gateway), gateway.browser()
    page = _start(browser, app)
    lifetime = gateway.settings.interaction_lifetime.total_seconds()
    longest = gateway.settings.interaction_longest_lifetime.total_seconds()
    ask = {k: v for k, v in hidden_fields(page.text).items() if k in ("interaction", "csrf_token")}
    shown = re.search(r'data-expires-in="(\d+)"', page.text)
    assert shown and lifetime - 5 <= int(shown.group(1)) <= lifetime
    gateway.clock.advance(lifetime - 60)
    script = browser.http.post(
        f"{gateway.issuer}/interaction/more-time",
        data=ask,
        headers={"Accept": "application/json"},
    )
    assert script.status_code == 200 and lifetime - 5 <= script.json()["expires_in"] <= lifetime
    gateway.clock.advance(lifetime - 60)  # past the first end: the page still works
    plain = browser.http.post(
        f"{gateway.issuer}/interaction/more-time",
        data={**ask, "back": f"/sign-in?interaction={quote(ask['interaction'])}"},
    )
    assert plain.status_code == 303 and plain.headers["location"].startswith("/sign-in?")
    assert "Sign in" in browser.http.get(gateway.issuer + plain.headers["location"]).text
    # However often asked, never past the longest lifetime from the start.
    for _ in range(int(longest // lifetime) + 2):
        gateway.clock.advance(lifetime - 60)
        browser.http.post(f"{gateway.issuer}/interaction/more-time", data=ask)
    gateway.clock.advance(lifetime)
    late = _post_sign_in(browser, page, username=person.username, password=person.password)
    assert "This page has expired" in late.text
    forged = browser.http.post(
        f"{gateway.issuer}/interaction/more-time", data={**ask, "csrf_token": "forged"}
    )
    assert "This page has expired" in forged.text


def test_discovery_lists_the_languages(in_process_gateway: InProcessGateway) -> None:
    assert in_process_gateway.metadata()["ui_locales_supported"] == ["en", "et"]


def test_the_account_page_dates_are_in_the_page_language(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    app, person, browser = register_app(gateway), add_citizen(gateway), gateway.browser()
    page = _start(browser, app)
    browser.follow_to_client(
        _post_sign_in(browser, page, username=person.username, password=person.password)
    )
    browser.http.get(f"{gateway.issuer}/language?to=et&back=/account")
    account = browser.http.get(f"{gateway.issuer}/account")
    today = gateway.clock().date()
    assert f"Lubatud {format_date(today, 'long', locale='et')}." in account.text
    assert today.strftime("%B") not in account.text  # no English month name
