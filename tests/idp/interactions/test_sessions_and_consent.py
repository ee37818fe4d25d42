"""Sign-in page, browser sessions, SSO and consent (ASVS 5.0 3.3, 3.5.1, 6.3.8 and 7.2.4; OIDC Core
3.1.2.1 prompt and max_age)."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import jwt

from tests import http_client
from tests.citizen import (
    AppClient,
    Browser,
    authorization_params,
    callback_params,
    hidden_fields,
    split_verifier,
)
from tests.conftest import (
    TEST_ENV,
    CitizenAccount,
    add_citizen,
    exchange_code,
    obtain_code,
    register_app,
    signed_in_tokens,
)
from tests.gateway_process import Gateway
from tests.in_process import InProcessGateway


def _sign_in_page(browser: Browser, app: AppClient, **overrides: str | None) -> httpx.Response:
    params, _ = split_verifier(authorization_params(app, **overrides))
    response = browser.authorize(params)
    assert response.status_code == 303 and "/sign-in?" in response.headers["location"]
    return browser.http.get(browser.issuer + response.headers["location"])


def test_sign_in_page_shape_and_headers(browser: Browser, app_a: AppClient) -> None:
    page = _sign_in_page(browser, app_a)
    assert page.status_code == 200
    for text in (
        '<label for="username">Username</label>',
        '<label for="password">Password</label>',
        ">Sign in</button>",
        'name="csrf_token"',
        "Tax office",
    ):
        assert text in page.text
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"


def test_failed_sign_in_says_nothing_about_the_account(
    browser: Browser, app_a: AppClient, citizen: CitizenAccount
) -> None:
    answers = []
    for username in (citizen.username, "no-such-person"):
        fields = hidden_fields(_sign_in_page(browser, app_a).text)
        response = browser.http.post(
            f"{browser.issuer}/sign-in",
            data={**fields, "username": username, "password": "wrong password, long enough"},
        )
        page = re.sub(r'type="hidden" name="(\w+)" value="[^"]*"', "", response.text)
        # What differs from one sign-in page to the next: its interaction and the time left.
        page = page.replace(quote(fields["interaction"], safe=""), "")
        page = re.sub(r'data-expires-in="\d+"', "", page)
        answers.append((response.status_code, page.replace(username, "")))
    assert answers[0] == answers[1]
    assert "The username or password is not right" in answers[0][1]


def test_sign_in_form_needs_its_csrf_token_and_browser(
    browser: Browser, app_a: AppClient, citizen: CitizenAccount
) -> None:
    fields = hidden_fields(_sign_in_page(browser, app_a).text)
    forged = browser.http.post(
        f"{browser.issuer}/sign-in",
        data={
            **fields,
            "csrf_token": "guess",
            "username": citizen.username,
            "password": citizen.password,
        },
    )
    assert forged.status_code == 400 and "expired" in forged.text
    with http_client.Client() as stranger:  # same form, another browser (no binding cookie)
        stolen = stranger.post(
            f"{browser.issuer}/sign-in",
            data={**fields, "username": citizen.username, "password": citizen.password},
        )
    assert stolen.status_code == 400


def test_session_cookie_is_fresh_and_protected(
    gateway: Gateway, browser: Browser, app_a: AppClient, citizen: CitizenAccount
) -> None:
    browser.http.cookies.set("idp-session", "planted-by-attacker", domain="localhost")
    fields = hidden_fields(_sign_in_page(browser, app_a).text)
    response = browser.http.post(
        f"{browser.issuer}/sign-in",
        data={**fields, "username": citizen.username, "password": citizen.password},
    )
    assert response.status_code == 303
    cookie = next(
        v
        for k, v in response.headers.multi_items()
        if k == "set-cookie" and v.startswith("idp-session=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    assert value != "planted-by-attacker" and len(value) >= 43


def test_cancel_on_sign_in_returns_access_denied(
    gateway: Gateway, browser: Browser, app_a: AppClient
) -> None:
    fields = hidden_fields(_sign_in_page(browser, app_a, state="st").text)
    response = browser.http.post(f"{browser.issuer}/sign-in", data={**fields, "cancel": "1"})
    assert response.status_code == 303
    assert callback_params(response) | {"error_description": ""} == {
        "error": "access_denied",
        "error_description": "",
        "state": "st",
        "iss": gateway.issuer,
    }


def test_consent_is_asked_remembered_and_asked_again_for_more(
    gateway: Gateway, browser: Browser
) -> None:
    app = register_app(gateway, name="Land registry")
    person = add_citizen(gateway)
    params, _ = split_verifier(authorization_params(app, scope="openid email"))
    response = browser.follow_to_client(
        browser.authorize(params), username=person.username, password=person.password, consent=""
    )
    assert "Share your information with Land registry" in browser.last_page
    assert "Your email address" in browser.last_page and ">Allow</button>" in browser.last_page
    assert "Your name" not in browser.last_page
    fields = hidden_fields(browser.last_page)
    response = browser.http.post(
        f"{gateway.issuer}/consent", data={**fields, "decision": "allow", "scope": "national_id"}
    )
    assert "code" in callback_params(response)
    # Remembered: straight through with prompt=none; more scopes need consent again.
    assert "code" in obtain_code(browser, app, None, scope="openid email", prompt="none").params
    more = obtain_code(browser, app, None, scope="openid email profile", prompt="none")
    assert more.params["error"] == "consent_required"
    again = obtain_code(browser, app, None, scope="openid email", prompt="consent")
    assert "code" in again.params  # follow_to_client allowed on the consent page
    assert "Share your information" in browser.last_page


def test_deny_returns_access_denied(gateway: Gateway, browser: Browser) -> None:
    app = register_app(gateway, name="Benefits office")
    person = add_citizen(gateway)
    params, _ = split_verifier(authorization_params(app, state="deny-me"))
    response = browser.follow_to_client(
        browser.authorize(params),
        username=person.username,
        password=person.password,
        consent="deny",
    )
    result = callback_params(response)
    assert result["error"] == "access_denied" and result["state"] == "deny-me"
    silent = obtain_code(browser, app, None, prompt="none")
    assert silent.params["error"] == "consent_required"


def test_single_sign_on_across_agency_apps(
    gateway: Gateway, browser: Browser, app_a: AppClient, app_b: AppClient, citizen: CitizenAccount
) -> None:
    first = signed_in_tokens(gateway, browser, app_a, citizen)
    params, _ = split_verifier(authorization_params(app_b))
    response = browser.follow_to_client(browser.authorize(params), username=None, consent="allow")
    assert 'action="/sign-in"' not in browser.last_page
    code = callback_params(response)
    assert code["code"]
    first_claims = jwt.decode(first["id_token"], options={"verify_signature": False})
    assert first_claims["sid"]


def test_prompt_login_and_max_age_force_a_new_sign_in(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    app, citizen, browser = register_app(gateway), add_citizen(gateway), gateway.browser()
    first = signed_in_tokens(gateway, browser, app, citizen)
    first_claims = jwt.decode(first["id_token"], options={"verify_signature": False})
    same = signed_in_tokens(gateway, browser, app, citizen, max_age="10000")
    assert (
        jwt.decode(same["id_token"], options={"verify_signature": False})["auth_time"]
        == first_claims["auth_time"]
    )
    for override in ({"prompt": "login"}, {"max_age": "1"}):
        gateway.clock.advance(2)
        params, _ = split_verifier(authorization_params(app, **override))
        response = browser.authorize(params)
        assert "/sign-in?" in response.headers["location"]
        response = browser.follow_to_client(
            response, username=citizen.username, password=citizen.password
        )
        assert "code" in callback_params(response)
    silent = obtain_code(browser, app, None, prompt="none", max_age="1")
    gateway.clock.advance(1.1)
    assert (
        obtain_code(browser, app, None, prompt="none", max_age="1").params["error"]
        == "login_required"
    )
    body = exchange_code(gateway, app, silent).json()
    later = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert later["auth_time"] > first_claims["auth_time"]


def test_id_token_hint_of_the_signed_in_citizen_passes_silently(
    gateway: Gateway, browser: Browser, app_a: AppClient, citizen: CitizenAccount
) -> None:
    mine = signed_in_tokens(gateway, browser, app_a, citizen)
    assert (
        "code"
        in obtain_code(browser, app_a, None, prompt="none", id_token_hint=mine["id_token"]).params
    )


def test_id_token_hint_for_someone_else_or_forged(
    gateway: Gateway,
    browser: Browser,
    app_a: AppClient,
    citizen: CitizenAccount,
    other_citizen: CitizenAccount,
) -> None:
    other_browser = Browser(gateway.issuer)
    try:
        theirs = signed_in_tokens(gateway, other_browser, app_a, other_citizen)
    finally:
        other_browser.close()
    signed_in_tokens(gateway, browser, app_a, citizen)
    assert (
        obtain_code(browser, app_a, None, prompt="none", id_token_hint=theirs["id_token"]).params[
            "error"
        ]
        == "login_required"
    )
    head, payload, _ = theirs["id_token"].split(".")
    forged = f"{head}.{payload}."
    assert (
        obtain_code(browser, app_a, None, prompt="none", id_token_hint=forged).params["error"]
        == "invalid_request"
    )


def test_sign_in_is_throttled_per_username_known_or_not(
    in_process_gateway: InProcessGateway,
) -> None:
    gateway = in_process_gateway
    app_a, person, browser = register_app(gateway), add_citizen(gateway), gateway.browser()

    def attempt(username: str, password: str) -> httpx.Response:
        fields = hidden_fields(_sign_in_page(browser, app_a).text)
        return browser.http.post(
            f"{browser.issuer}/sign-in",
            data={**fields, "username": username, "password": password},
        )

    for username in (person.username, "nobody-by-this-name"):
        for _ in range(5):
            assert "not right" in attempt(username, "a wrong password, long enough").text
        throttled = attempt(username, person.password)
        assert throttled.status_code == 200 and "too many attempts" in throttled.text
    # The first wait is the test gateways' IDP_SIGN_IN_FIRST_DELAY; the clock moves past it.
    gateway.clock.advance(float(TEST_ENV["IDP_SIGN_IN_FIRST_DELAY"]) + 0.2)
    assert attempt(person.username, person.password).status_code == 303
