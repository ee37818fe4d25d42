"""Changing the password on the account page (/account/password) over HTTP, on SQLite and
PostgreSQL: the change signs out every other browser (their apps' tokens with them) and the old
password no longer signs in; a wrong current password is refused and counted like a failed
sign-in, until the throttle stops the form as it stops the sign-in page; the password policy,
the GOV.UK error pattern and the form's CSRF token."""

from __future__ import annotations

import re

import httpx

from idp.authentication.password_policy import PasswordProblem
from idp.authentication.throttle import username_key
from idp.web.form_errors import (
    CURRENT_PASSWORD_NOT_RIGHT,
    ENTER_CURRENT_PASSWORD,
    ENTER_NEW_PASSWORD,
    ENTER_PASSWORD_AGAIN,
    NEW_PASSWORD_SAME_AS_CURRENT,
    PASSWORDS_DIFFER,
    TOO_MANY_FOR_USERNAME,
)
from tests.builders import CitizenAccount, add_citizen, register_app
from tests.citizen import Browser, hidden_fields
from tests.conftest import signed_in_tokens, userinfo
from tests.database_rows import logged_details, run_sql
from tests.in_process import InProcessGateway

PAGE = "/account/password"
NEW = "tuul puhub üle lahe"
CHANGED = "Your password is changed"


def _sign_in(browser: Browser, username: str, password: str) -> httpx.Response:
    """The account area's sign-in: 303 on success, else the page again."""
    start = browser.http.get("/account/sign-in")
    page = browser.http.get(start.headers["location"])
    return browser.http.post(
        "/sign-in", data={**hidden_fields(page.text), "username": username, "password": password}
    )


def _signed_in_browser(gateway: InProcessGateway, person: CitizenAccount, source: str) -> Browser:
    browser = gateway.browser(source=source)
    assert _sign_in(browser, person.username, person.password).status_code == 303
    return browser


def _change(browser: Browser, current: str, new: str, again: str | None = None) -> httpx.Response:
    page = browser.http.get(PAGE)
    assert page.status_code == 200, page.text[:300]
    return browser.http.post(
        PAGE,
        data={
            **hidden_fields(page.text),
            "current_password": current,
            "password": new,
            "password_again": new if again is None else again,
        },
    )


def _still_signed_in(browser: Browser) -> bool:
    return 'id="who-looked"' in browser.http.get("/account").text


def test_the_account_page_links_to_the_form_and_signed_out_visitors_go_back(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    person = add_citizen(gateway)
    browser = _signed_in_browser(gateway, person, "192.0.2.10")
    assert f'href="{PAGE}"' in browser.http.get("/account").text
    page = browser.http.get(PAGE)
    assert page.status_code == 200 and "<h1>Change your password</h1>" in page.text
    assert 'autocomplete="current-password"' in page.text
    assert page.text.count('autocomplete="new-password"') == 2
    assert page.headers["cache-control"] == "no-store"
    away = gateway.client().get(PAGE)
    assert away.status_code == 303 and away.headers["location"] == "/account"


def test_a_change_signs_out_the_other_browsers_and_the_old_password_stops_working(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    person = add_citizen(gateway)
    here = _signed_in_browser(gateway, person, "192.0.2.11")
    elsewhere = gateway.browser(source="198.51.100.11")
    app = register_app(gateway, name="Land register")
    tokens = signed_in_tokens(gateway, elsewhere, app, person)
    assert userinfo(gateway, tokens["access_token"]).status_code == 200

    done = _change(here, person.password, NEW)
    assert done.status_code == 200 and CHANGED in done.text
    assert "The other browser that was signed in to your account has been signed out." in (
        done.text
    )
    assert "idp-device" in done.headers.get("set-cookie", "")  # the allowance, renewed
    # This browser stays signed in; the other is signed out, and its app's tokens end.
    assert _still_signed_in(here)
    assert not _still_signed_in(elsewhere)
    assert userinfo(gateway, tokens["access_token"]).status_code == 401
    refreshed = gateway.http.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(app.client_id, app.client_secret or ""),
    )
    assert refreshed.json().get("error") == "invalid_grant"
    # The old password no longer signs in; the new one does.
    old = _sign_in(gateway.browser(source="198.51.100.12"), person.username, person.password)
    assert old.status_code == 200 and "The username or password is not right" in old.text
    assert _sign_in(gateway.browser(source="198.51.100.13"), person.username, NEW).status_code == (
        303
    )
    assert logged_details(gateway, "account.password_changed", person.subject) == [
        {"sessions_ended": 1}
    ]
    ended = logged_details(gateway, "browser_session.ended", person.subject)
    assert [entry["reason"] for entry in ended] == ["new_password"]


def test_a_wrong_current_password_is_refused_and_counted_like_a_failed_sign_in(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    person = add_citizen(gateway)
    browser = _signed_in_browser(gateway, person, "192.0.2.12")
    failed_before = len(logged_details(gateway, "sign_in.failed", None))
    free = gateway.settings.sign_in_free_attempts
    for attempt in range(free):
        wrong = _change(browser, f"not my password, try {attempt}", NEW)
        assert wrong.status_code == 200 and CURRENT_PASSWORD_NOT_RIGHT in wrong.text
        assert "<title>Error: Change your password" in wrong.text
        assert re.search(
            r'id="current_password"[^>]*aria-describedby="current_password-error"', wrong.text
        )
    assert len(logged_details(gateway, "sign_in.failed", None)) == failed_before + free
    # The free attempts are used up, in this browser as at its sign-in page: even the right
    # password waits now, and changes nothing.
    waiting = _change(browser, person.password, NEW)
    assert TOO_MANY_FOR_USERNAME in waiting.text and CHANGED not in waiting.text
    assert logged_details(gateway, "sign_in.throttled", person.subject)
    assert TOO_MANY_FOR_USERNAME in _sign_in(browser, person.username, person.password).text
    # No one is locked out: another browser signs in with the unchanged password.
    other = gateway.browser(source="198.51.100.14")
    assert _sign_in(other, person.username, person.password).status_code == 303


def test_without_the_browsers_allowance_a_wrong_password_counts_for_the_username(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    person = add_citizen(gateway)
    browser = _signed_in_browser(gateway, person, "192.0.2.13")
    browser.http.cookies.delete("idp-device")
    key = username_key(person.username)
    counted = "SELECT failures FROM sign_in_throttles WHERE username_digest = :k"
    assert run_sql(gateway, counted, k=key) in ([], [(0,)])
    assert CURRENT_PASSWORD_NOT_RIGHT in _change(browser, "not my password at all", NEW).text
    assert run_sql(gateway, counted, k=key) == [(1,)]


def test_the_new_password_must_meet_the_policy_and_nothing_is_counted(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    person = add_citizen(gateway)
    browser = _signed_in_browser(gateway, person, "192.0.2.14")
    failed_before = len(logged_details(gateway, "sign_in.failed", None))
    for new, message in (
        ("1qaz2wsx3edc4rfv", PasswordProblem.COMMON.message),
        ("passwordpassword", PasswordProblem.PREDICTABLE.message),
        ("qwertyuiopasdfgh", PasswordProblem.PREDICTABLE.message),
        (f"{person.username}-2026", PasswordProblem.USERNAME.message),
        ("short one", PasswordProblem.TOO_SHORT.message),
        (person.password, NEW_PASSWORD_SAME_AS_CURRENT),
    ):
        refused = _change(browser, person.password, new)
        assert message in refused.text, new
        assert re.search(r'id="password"[^>]*aria-describedby="[^"]*password-error"', refused.text)
        assert f'value="{new}"' not in refused.text  # passwords never come back
    assert PasswordProblem.COMMON.message == (
        "Choose a password that is harder to guess: this one is on a list of passwords that "
        "are often used or have been leaked"
    )
    differ = _change(browser, person.password, NEW, again=NEW + " ")
    assert PASSWORDS_DIFFER in differ.text
    # None of it was a try of the current password, nor changed anything.
    assert len(logged_details(gateway, "sign_in.failed", None)) == failed_before
    assert not logged_details(gateway, "account.password_changed", person.subject)
    other = gateway.browser(source="198.51.100.15")
    assert _sign_in(other, person.username, person.password).status_code == 303


def test_empty_fields_each_say_what_to_enter(in_process_gateway: InProcessGateway) -> None:
    gateway = in_process_gateway
    browser = _signed_in_browser(gateway, add_citizen(gateway), "192.0.2.15")
    empty = _change(browser, "", "", "")
    assert empty.status_code == 200 and "<title>Error: Change your password" in empty.text
    summary = empty.text[empty.text.index('class="error-summary"') :]
    for field, message in (
        ("current_password", ENTER_CURRENT_PASSWORD),
        ("password", ENTER_NEW_PASSWORD),
        ("password_again", ENTER_PASSWORD_AGAIN),
    ):
        assert f'<a href="#{field}">{message}</a>' in summary
        assert re.search(rf'id="{field}"[^>]*aria-describedby="[^"]*{field}-error"', empty.text)


def test_the_form_needs_its_token_and_the_session(in_process_gateway: InProcessGateway) -> None:
    gateway = in_process_gateway
    person = add_citizen(gateway)
    browser = _signed_in_browser(gateway, person, "192.0.2.16")
    fields = {"current_password": person.password, "password": NEW, "password_again": NEW}
    for token in ({}, {"form_token": "0" * 64}):
        forged = browser.http.post(PAGE, data={**fields, **token})
        assert forged.status_code == 400 and CHANGED not in forged.text
    # The right token, from a browser without the session.
    token = hidden_fields(browser.http.get(PAGE).text)["form_token"]
    stolen = gateway.client().post(PAGE, data={**fields, "form_token": token})
    assert stolen.status_code == 400
    # Nothing changed: the old password still signs in elsewhere.
    other = gateway.browser(source="198.51.100.16")
    assert _sign_in(other, person.username, person.password).status_code == 303
