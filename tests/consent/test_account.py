"""The citizen's account page: signing in there, seeing which agencies receive data, and
withdrawing consent, which ends the agency's access at once and is logged; the browsers the
citizen is signed in on, and signing one out from another, which tells its apps."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from tests import http_client
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
from tests.database_rows import logged
from tests.gateway_process import Gateway
from tests.logout_receiver import app_with_logout_receiver

CHROME_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
FIREFOX_ON_LINUX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
LISTED_BROWSER = re.compile(r'<li class="browser"(?: id="this-browser")?>(.*?)</li>', re.S)


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
    return http_client.post(
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
    with http_client.Client() as stranger:  # the right token, from a browser without the session
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


@pytest.fixture
def browsers(gateway: Gateway) -> Iterator[list[Browser]]:
    opened: list[Browser] = []
    yield opened
    for browser in opened:
        browser.close()


def _open(opened: list[Browser], gateway: Gateway, user_agent: str, source: str) -> Browser:
    """A browser with its own User-Agent, speaking from `source` through the trusted proxy."""
    browser = Browser(gateway.issuer, source=source)
    browser.http.headers["User-Agent"] = user_agent
    opened.append(browser)
    return browser


def _listed_browsers(page: str) -> list[dict[str, Any]]:
    """Each browser the account page lists: its heading, its facts, and the sid its form ends."""
    listed = []
    for item in LISTED_BROWSER.findall(page):
        heading = re.search(r"<h3[^>]*>(.*?)</h3>", item, re.S)
        assert heading
        facts = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", item, re.S))
        sid = re.search(r'name="sid" value="([^"]+)"', item)
        listed.append(
            {
                "heading": html.unescape(re.sub(r"<[^>]+>", "", heading.group(1))).strip(),
                "facts": {k: html.unescape(v) for k, v in facts.items()},
                "sid": sid.group(1) if sid else None,
                "signs_out_here": 'action="/sign-out"' in item,
            }
        )
    return listed


def _sid_of(tokens: dict[str, Any]) -> str:
    sid: str = jwt.decode(tokens["id_token"], options={"verify_signature": False})["sid"]
    return sid


def _sign_out_browser(browser: Browser, sid: str, token: str | None = None) -> httpx.Response:
    token = token or account_form_token(_account_page(browser).text)
    return browser.http.post(
        f"{browser.issuer}/account/sessions/end", data={"form_token": token, "sid": sid}
    )


def _still_signed_in(browser: Browser, app: AppClient) -> bool:
    """Whether the browser's session still works: an app asking without a page gets a code."""
    answer = obtain_code(browser, app, None, prompt="none").params
    assert "code" in answer or answer.get("error") == "login_required", answer
    return "code" in answer


def test_the_account_page_lists_every_browser_signed_in(
    gateway: Gateway, browsers: list[Browser]
) -> None:
    person = add_citizen(gateway)
    app = register_app(gateway, name="Vehicle register")
    first = _open(browsers, gateway, CHROME_ON_WINDOWS, "192.0.2.77")
    second = _open(browsers, gateway, FIREFOX_ON_LINUX, "2001:db8:5:6::1")
    second_sid = _sid_of(signed_in_tokens(gateway, second, app, person))
    _sign_in_to_account(first, person)

    page = _account_page(first).text
    assert 'id="signed-in-browsers"' in page
    this_one, other = _listed_browsers(page)
    # This browser first, with the page's own "Sign out"; no form names its sid.
    assert this_one["heading"] == "Chrome on Windows This browser"
    assert this_one["facts"]["Network"] == "192.0.2.0/24"
    assert this_one["facts"]["Used with"] == "No service yet"
    assert this_one["signs_out_here"] and this_one["sid"] is None
    assert re.fullmatch(r"\d{1,2} \w+ \d{4}, \d{2}:\d{2} UTC", this_one["facts"]["Signed in"])
    # The other, with the app it was used with, and its own button.
    assert other["heading"] == "Firefox on Linux"
    assert other["facts"]["Network"] == "2001:db8:5::/48"
    assert other["facts"]["Used with"] == "Vehicle register"
    assert other["sid"] == second_sid and not other["signs_out_here"]
    assert "Sign out this browser" in page
    # The exact addresses are kept nowhere the page reads.
    assert "192.0.2.77" not in page and "2001:db8:5:6::1" not in page

    # The other browser sees the same two, itself first.
    headings = [item["heading"] for item in _listed_browsers(_account_page(second).text)]
    assert headings == ["Firefox on Linux This browser", "Chrome on Windows"]


def test_signing_out_another_browser_ends_it_and_tells_its_apps(
    gateway: Gateway, browsers: list[Browser]
) -> None:
    person = add_citizen(gateway)
    app, receiver = app_with_logout_receiver(gateway, name="Land registry")
    receiver.start()
    try:
        first = _open(browsers, gateway, CHROME_ON_WINDOWS, "192.0.2.78")
        second = _open(browsers, gateway, FIREFOX_ON_LINUX, "198.51.100.9")
        first_tokens = signed_in_tokens(gateway, first, app, person)
        second_tokens = signed_in_tokens(gateway, second, app, person)
        second_sid = _sid_of(second_tokens)

        ended = _sign_out_browser(first, second_sid)
        assert ended.status_code == 303
        assert ended.headers["location"] == f"/account?signed_out={second_sid}"
        assert ended.headers["cache-control"] == "no-store"
        after = first.http.get(gateway.issuer + ended.headers["location"]).text
        assert 'id="signed-out-notice"' in after
        assert "You signed out <strong>Firefox on Linux</strong>" in after
        assert [item["heading"] for item in _listed_browsers(after)] == [
            "Chrome on Windows This browser"
        ]

        # The other browser is signed out, its tokens with it, and its app is told.
        assert not _still_signed_in(second, app)
        assert userinfo(gateway, second_tokens["access_token"]).status_code == 401
        assert (
            _refresh(gateway, app, second_tokens["refresh_token"]).json()["error"]
            == "invalid_grant"
        )
        (claims,) = receiver.wait_for(1)
        assert claims["sid"] == second_sid and claims["sub"] == person.subject
        # This browser stays signed in, its tokens working.
        assert _still_signed_in(first, app)
        assert userinfo(gateway, first_tokens["access_token"]).status_code == 200

        (ended_entry,) = [
            entry
            for entry in logged(gateway, "browser_session.ended")
            if entry["detail"]["sid"] == second_sid
        ]
        assert ended_entry["detail"]["reason"] == "ended_from_account_page"
        assert ended_entry["detail"]["apps"] == [app.client_id]

        # Asking again changes nothing: the session has ended already.
        again = _sign_out_browser(first, second_sid)
        assert again.status_code == 303 and again.headers["location"] == "/account"
    finally:
        receiver.stop()


def test_signing_out_a_browser_needs_the_page_token_and_the_citizens_own_session(
    gateway: Gateway, browsers: list[Browser], app_b: AppClient
) -> None:
    person, stranger_person = add_citizen(gateway), add_citizen(gateway)
    first = _open(browsers, gateway, CHROME_ON_WINDOWS, "192.0.2.79")
    second = _open(browsers, gateway, FIREFOX_ON_LINUX, "198.51.100.10")
    someone_else = _open(browsers, gateway, FIREFOX_ON_LINUX, "198.51.100.11")
    first_sid = _sid_of(signed_in_tokens(gateway, first, app_b, person))
    second_sid = _sid_of(signed_in_tokens(gateway, second, app_b, person))
    strangers_sid = _sid_of(signed_in_tokens(gateway, someone_else, app_b, stranger_person))

    # A forged token, or the right one from a browser without the session: refused.
    assert _sign_out_browser(first, second_sid, token="0" * 64).status_code == 400
    token = account_form_token(_account_page(first).text)
    with http_client.Client() as stranger:
        stolen = stranger.post(
            f"{gateway.issuer}/account/sessions/end", data={"form_token": token, "sid": second_sid}
        )
    assert stolen.status_code == 400
    # Another citizen's session, this browser's own (it signs out with "Sign out"), and no
    # session at all: nothing ends, and the page confirms nothing.
    for sid in (strangers_sid, first_sid, "", "x" * 500):
        refused = _sign_out_browser(first, sid)
        assert refused.status_code == 303 and refused.headers["location"] == "/account"
    assert "signed-out-notice" not in _account_page(first).text
    # Nor does naming another citizen's ended session in the address show anything.
    assert "signed-out-notice" not in (
        first.http.get(f"{gateway.issuer}/account", params={"signed_out": strangers_sid}).text
    )
    assert _still_signed_in(first, app_b)
    assert _still_signed_in(second, app_b)
    assert _still_signed_in(someone_else, app_b)
    assert len(_listed_browsers(_account_page(first).text)) == 2
