"""Passkeys on the gateway built in this process, over HTTP, with a software authenticator
(tests/soft_authenticator.py) and a clock the tests move: adding one on the account page,
signing in with it and no username (the ID token says high), after a username, stepping up to
it from a password, the high level lapsing, challenges used once, expiring, and only in the
browser and interaction they were given to, a credential ID registered once, user
verification required, renaming and removing. Each outcome is in the access log. The real
ceremonies in Chromium are tests/idp/passkeys/test_passkeys_browser.py."""

from __future__ import annotations

import re
from typing import Any

import httpx
import jwt
import pyotp
import pytest

from tests.builders import CitizenAccount, add_citizen, register_app
from tests.citizen import (
    AppClient,
    Browser,
    account_form_token,
    authorization_params,
    callback_params,
    hidden_fields,
    split_verifier,
)
from tests.conftest import CodeResult, exchange_code
from tests.database_rows import logged_details, run_sql
from tests.in_process import InProcessGateway
from tests.soft_authenticator import SoftPasskey, as_json, b64url

HIGH = "http://eidas.europa.eu/LoA/high"
SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"
LOW = "http://eidas.europa.eu/LoA/low"
ORIGIN = "http://localhost:8400"  # tests.in_process.ISSUER
RP_ID = "localhost"


@pytest.fixture(scope="module")
def gateway(in_process_gateway: InProcessGateway) -> InProcessGateway:
    return in_process_gateway


@pytest.fixture(scope="module")
def app(gateway: InProcessGateway) -> AppClient:
    return register_app(gateway, name="Population register")


def _form(page: str, action: str) -> dict[str, str]:
    found = re.search(rf'<form method="post" action="{re.escape(action)}".*?</form>', page, re.S)
    assert found, page[:2000]
    return hidden_fields(found.group(0))


def _authorize(
    browser: Browser, app: AppClient, citizen: CitizenAccount | None = None, **overrides: Any
) -> tuple[httpx.Response, CodeResult]:
    request, verifier = split_verifier(authorization_params(app, **overrides))
    response = browser.follow_to_client(
        browser.authorize(request),
        username=citizen.username if citizen else None,
        password=citizen.password if citizen else None,
    )
    return response, CodeResult({}, request, verifier)


def _signed_in(gateway: InProcessGateway, app: AppClient) -> tuple[Browser, CitizenAccount]:
    citizen = add_citizen(gateway)
    browser = gateway.browser()
    response, _ = _authorize(browser, app, citizen)
    assert response.status_code in (302, 303)
    return browser, citizen


def _options(browser: Browser, path: str, fields: dict[str, str]) -> dict[str, Any]:
    answer = browser.http.post(f"{browser.issuer}{path}", data=fields)
    assert answer.status_code == 200, answer.text
    started: dict[str, Any] = answer.json()
    return started


def _add_passkey(browser: Browser, passkey: SoftPasskey) -> httpx.Response:
    """The account page's "Add a passkey", as static/passkeys.js runs it."""
    page = browser.http.get(f"{browser.issuer}/account").text
    assert "Add a passkey" in page
    fields = _form(page, "/account/passkeys/add")
    started = _options(browser, "/account/passkeys/options", fields)
    answer = passkey.create(started["options"])
    return browser.http.post(
        f"{browser.issuer}/account/passkeys/add",
        data={**fields, "ceremony": started["ceremony"], "credential": as_json(answer)},
    )


def _passkey_sign_in(
    browser: Browser, page: str, passkey: SoftPasskey, *, username: str = ""
) -> tuple[httpx.Response, dict[str, Any]]:
    """The sign-in page's "Sign in with a passkey": the options it got, where it went."""
    fields = _form(page, "/sign-in/passkey")
    started = _options(browser, "/sign-in/passkey/options", {**fields, "username": username})
    answer = passkey.get(started["options"])
    response = browser.http.post(
        f"{browser.issuer}/sign-in/passkey",
        data={**fields, "ceremony": started["ceremony"], "credential": as_json(answer)},
    )
    return response, started["options"]


def _arrive(browser: Browser, response: httpx.Response, pending: CodeResult) -> CodeResult:
    arrived = browser.follow_to_client(response)
    assert arrived.status_code in (302, 303), arrived.text[:800]
    return CodeResult(callback_params(arrived), pending.request, pending.verifier)


def _claims(gateway: InProcessGateway, app: AppClient, result: CodeResult) -> dict[str, Any]:
    response = exchange_code(gateway, app, result)
    assert response.status_code == 200, response.text
    token = response.json()["id_token"]
    jwks = jwt.PyJWKSet.from_dict(gateway.jwks())
    key = next(k for k in jwks.keys if k.key_id == jwt.get_unverified_header(token)["kid"])
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=["RS256"],
        audience=app.client_id,
        issuer=gateway.issuer,
        options={"verify_iat": False, "verify_exp": False},  # the clock is moved
    )
    return claims


def _soft() -> SoftPasskey:
    return SoftPasskey(origin=ORIGIN, rp_id=RP_ID)


def test_a_passkey_added_on_the_account_page_signs_in_without_a_username_at_high(
    gateway: InProcessGateway, app: AppClient
) -> None:
    browser, citizen = _signed_in(gateway, app)
    passkey = _soft()
    added = _add_passkey(browser, passkey)
    assert added.status_code == 303 and "passkey=added" in added.headers["location"], (
        logged_details(gateway, "passkey.refused", citizen.subject)
    )
    account = browser.http.get(f"{gateway.issuer}/account").text
    assert (
        'id="passkey-added-notice"'
        in browser.http.get(f"{gateway.issuer}/account?passkey=added").text
    )
    assert "Passkey 1" in account and "Not used yet" in account
    assert logged_details(gateway, "passkey.added", citizen.subject) == [
        {"passkeys": 1, "synced": False}
    ]
    stored = run_sql(gateway, "SELECT credential_id, sign_count FROM passkeys")
    assert (b64url(passkey.credential_id), 0) in [tuple(row) for row in stored]

    # Another browser, nobody signed in: the passkey alone, no username, no password.
    other = gateway.browser()
    page, pending = _authorize(other, app, acr_values=HIGH)
    assert 'action="/sign-in/passkey"' in page.text and "Sign in with a passkey" in page.text
    response, options = _passkey_sign_in(other, page.text, passkey)
    assert options.get("allowCredentials", []) == []
    assert options["userVerification"] == "required"
    claims = _claims(gateway, app, _arrive(other, response, pending))
    assert claims["sub"] == citizen.subject
    assert claims["acr"] == HIGH
    assert claims["amr"] == ["hwk", "user", "mfa"]
    assert logged_details(gateway, "sign_in.succeeded", citizen.subject)[-1] == {
        "method": "hwk+user",
        "acr": HIGH,
    }
    assert "Not used yet" not in other.http.get(f"{gateway.issuer}/account").text


def test_after_a_username_only_that_accounts_passkeys_are_asked_for(
    gateway: InProcessGateway, app: AppClient
) -> None:
    browser, citizen = _signed_in(gateway, app)
    passkey = _soft()
    _add_passkey(browser, passkey)
    someone_else, _ = _signed_in(gateway, app)
    stranger_key = _soft()
    _add_passkey(someone_else, stranger_key)

    other = gateway.browser()
    page, _ = _authorize(other, app)
    fields = _form(page.text, "/sign-in/passkey")
    started = _options(other, "/sign-in/passkey/options", {**fields, "username": citizen.username})
    assert started["options"]["allowCredentials"] == [
        {"id": b64url(passkey.credential_id), "type": "public-key"}
    ]
    # Another account's passkey does not answer for the username typed.
    refused = other.http.post(
        f"{gateway.issuer}/sign-in/passkey",
        data={
            **fields,
            "ceremony": started["ceremony"],
            "credential": as_json(stranger_key.get(started["options"])),
        },
    )
    assert refused.status_code == 200 and "could not be used to sign in" in refused.text
    page_again = refused.text
    response, _ = _passkey_sign_in(other, page_again, passkey, username=citizen.username)
    assert response.status_code in (302, 303)


def test_a_password_session_steps_up_to_a_passkey_and_the_level_lapses(
    gateway: InProcessGateway, app: AppClient
) -> None:
    browser, _citizen = _signed_in(gateway, app)
    passkey = _soft()
    _add_passkey(browser, passkey)
    page, pending = _authorize(browser, app, acr_values=HIGH)
    assert page.status_code == 200 and 'action="/step-up/passkey"' in page.text
    fields = _form(page.text, "/step-up/passkey")
    started = _options(browser, "/step-up/passkey/options", fields)
    assert started["options"]["allowCredentials"] == [
        {"id": b64url(passkey.credential_id), "type": "public-key"}
    ]
    response = browser.http.post(
        f"{gateway.issuer}/step-up/passkey",
        data={
            **fields,
            "ceremony": started["ceremony"],
            "credential": as_json(passkey.get(started["options"])),
        },
    )
    claims = _claims(gateway, app, _arrive(browser, response, pending))
    assert claims["acr"] == HIGH and claims["amr"] == ["hwk", "user", "mfa"]

    # Within the elevated lifetime the session is high; after it, low again, and asked again.
    again, pending = _authorize(browser, app, acr_values=HIGH)
    assert again.status_code in (302, 303)
    gateway.clock.advance(gateway.settings.elevated_level_lifetime.total_seconds() + 1)
    page, _ = _authorize(browser, app, acr_values=HIGH)
    assert page.status_code == 200 and 'action="/step-up/passkey"' in page.text
    low, pending = _authorize(browser, app)
    assert _claims(gateway, app, _arrive(browser, low, pending))["acr"] == LOW


def test_a_challenge_works_once_expires_and_belongs_to_its_interaction(
    gateway: InProcessGateway, app: AppClient
) -> None:
    browser, citizen = _signed_in(gateway, app)
    passkey = _soft()
    _add_passkey(browser, passkey)
    other = gateway.browser()
    page, _ = _authorize(other, app)
    fields = _form(page.text, "/sign-in/passkey")

    # Expired: the answer comes after the challenge's lifetime.
    started = _options(other, "/sign-in/passkey/options", fields)
    gateway.clock.advance(181)
    late = other.http.post(
        f"{gateway.issuer}/sign-in/passkey",
        data={
            **fields,
            "ceremony": started["ceremony"],
            "credential": as_json(passkey.get(started["options"])),
        },
    )
    assert late.status_code == 200 and "could not be used to sign in" in late.text

    # Another browser's interaction cannot answer this one's challenge.
    started = _options(other, "/sign-in/passkey/options", fields)
    answer = as_json(passkey.get(started["options"]))
    third = gateway.browser()
    third_page, _ = _authorize(third, app)
    third_fields = _form(third_page.text, "/sign-in/passkey")
    stolen = third.http.post(
        f"{gateway.issuer}/sign-in/passkey",
        data={**third_fields, "ceremony": started["ceremony"], "credential": answer},
    )
    assert stolen.status_code == 200 and "could not be used to sign in" in stolen.text
    # The challenge's own browser can use it, once.
    used = other.http.post(
        f"{gateway.issuer}/sign-in/passkey",
        data={**fields, "ceremony": started["ceremony"], "credential": answer},
    )
    assert used.status_code == 303
    # The same answer again (a replay in a new interaction, with the old handle) is refused.
    replay_page, _ = _authorize(third, app)
    replayed = third.http.post(
        f"{gateway.issuer}/sign-in/passkey",
        data={
            **_form(replay_page.text, "/sign-in/passkey"),
            "ceremony": started["ceremony"],
            "credential": answer,
        },
    )
    assert replayed.status_code == 200 and "could not be used to sign in" in replayed.text
    reasons = [e["reason"] for e in logged_details(gateway, "passkey.refused", citizen.subject)]
    assert reasons.count("challenge_not_live") == 0  # before the credential, no account known
    unnamed = run_sql(
        gateway,
        "SELECT public_fields FROM access_log_queue WHERE public_fields LIKE :p",
        p="%challenge_not_live%",
    ) + run_sql(
        gateway,
        "SELECT CAST(detail AS TEXT) FROM access_events WHERE event_type = 'passkey.refused'",
    )
    assert sum("challenge_not_live" in row[0] for row in unnamed) >= 3


def test_a_passkey_without_user_verification_is_refused_andlogged_details(
    gateway: InProcessGateway, app: AppClient
) -> None:
    browser, citizen = _signed_in(gateway, app)
    passkey = _soft()
    _add_passkey(browser, passkey)
    passkey.user_verified = False
    other = gateway.browser()
    page, _ = _authorize(other, app, acr_values=HIGH)
    response, _ = _passkey_sign_in(other, page.text, passkey)
    assert response.status_code == 200 and "could not be used to sign in" in response.text
    assert 'role="alert"' in response.text
    assert {"ceremony": "sign_in", "reason": "user_not_verified"} in logged_details(
        gateway, "passkey.refused", citizen.subject
    )
    # Unknown to the gateway: refused too.
    stranger = _soft()
    stranger.user_handle = b"nobody"
    response, _ = _passkey_sign_in(other, response.text, stranger)
    assert response.status_code == 200 and "could not be used to sign in" in response.text


def test_a_credential_id_is_registered_once(gateway: InProcessGateway, app: AppClient) -> None:
    browser, _citizen = _signed_in(gateway, app)
    passkey = _soft()
    _add_passkey(browser, passkey)
    again = _add_passkey(browser, passkey)
    assert "passkey=not_added" in again.headers["location"]
    other_browser, other_citizen = _signed_in(gateway, app)
    copied = _add_passkey(other_browser, passkey)
    assert "passkey=not_added" in copied.headers["location"]
    assert {"ceremony": "registration", "reason": "duplicate_credential"} in logged_details(
        gateway, "passkey.refused", other_citizen.subject
    )
    count = run_sql(
        gateway,
        "SELECT COUNT(*) FROM passkeys WHERE credential_id = :c",
        c=b64url(passkey.credential_id),
    )
    assert count[0][0] == 1
    # Without user verification a registration is refused, by name.
    unverified = _soft()
    unverified.user_verified = False
    refused = _add_passkey(other_browser, unverified)
    assert "passkey=not_added" in refused.headers["location"]
    assert {"ceremony": "registration", "reason": "user_not_verified"} in logged_details(
        gateway, "passkey.refused", other_citizen.subject
    )
    assert (
        'id="passkey-not-added-notice"'
        in other_browser.http.get(f"{gateway.issuer}/account?passkey=not_added").text
    )


def test_a_passkey_is_renamed_and_removed_only_after_a_fresh_sign_in(
    gateway: InProcessGateway, app: AppClient
) -> None:
    browser, citizen = _signed_in(gateway, app)
    passkey = _soft()
    _add_passkey(browser, passkey)
    page = browser.http.get(f"{gateway.issuer}/account").text
    passkey_id = re.search(r'name="passkey" value="(\d+)"', page)
    assert passkey_id
    number = passkey_id.group(1)
    renamed = browser.http.post(
        f"{gateway.issuer}/account/passkeys/rename",
        data={"form_token": account_form_token(page), "passkey": number, "name": "  Work  laptop "},
    )
    assert "passkey=renamed" in renamed.headers["location"]
    assert '<h3 id="passkey-' in (listed := browser.http.get(f"{gateway.issuer}/account").text)
    assert "Work laptop" in listed
    forged = browser.http.post(
        f"{gateway.issuer}/account/passkeys/rename",
        data={"form_token": "0" * 64, "passkey": number, "name": "Evil"},
    )
    assert forged.headers["location"] == "/account"
    assert logged_details(gateway, "passkey.renamed", citizen.subject) == [{}]

    # An old sign-in is sent through a fresh one first, which comes back to this passkey.
    gateway.clock.advance(gateway.settings.fresh_sign_in_lifetime.total_seconds() + 1)
    asked = browser.http.get(f"{gateway.issuer}/account/passkeys/remove?passkey={number}")
    assert asked.status_code == 303
    assert asked.headers["location"] == (
        f"/account/sign-in?return_to=/account/passkeys/remove%3Fpasskey%3D{number}"
    )
    refused = browser.http.post(
        f"{gateway.issuer}/account/passkeys/remove",
        data={"form_token": account_form_token(page), "passkey": number},
    )
    assert "/account/sign-in" in refused.headers["location"]
    sign_in = browser.follow_to_client(
        browser.http.get(gateway.issuer + asked.headers["location"]),
        username=citizen.username,
        password=citizen.password,
    )
    assert sign_in.status_code == 200 and "Remove a passkey" in sign_in.text
    assert "Work laptop" in sign_in.text
    removed = browser.http.post(
        f"{gateway.issuer}/account/passkeys/remove",
        data=_form(sign_in.text, "/account/passkeys/remove"),
    )
    assert "passkey=removed" in removed.headers["location"]
    assert 'id="no-passkeys"' in browser.http.get(f"{gateway.issuer}/account").text
    assert logged_details(gateway, "passkey.removed", citizen.subject) == [{"passkeys": 0}]
    # The removed passkey no longer signs in.
    other = gateway.browser()
    page_other, _ = _authorize(other, app)
    response, _ = _passkey_sign_in(other, page_other.text, passkey)
    assert response.status_code == 200 and "could not be used to sign in" in response.text


def test_the_browser_reporting_a_failed_ceremony_is_logged_and_asked_again(
    gateway: InProcessGateway, app: AppClient
) -> None:
    browser, citizen = _signed_in(gateway, app)
    _add_passkey(browser, _soft())
    page, _ = _authorize(browser, app, acr_values=HIGH)
    fields = _form(page.text, "/step-up/passkey")
    failed = browser.http.post(f"{gateway.issuer}/step-up/passkey", data={**fields, "failure": "1"})
    assert failed.status_code == 200 and 'id="passkey-error"' in failed.text
    assert {"ceremony": "step_up", "reason": "not_completed"} in logged_details(
        gateway, "passkey.refused", citizen.subject
    )
    expired = browser.http.post(
        f"{gateway.issuer}/step-up/passkey/options", data={**fields, "csrf_token": "x"}
    )
    assert expired.status_code == 400 and expired.json() == {"error": "page_expired"}


def _activation_code(gateway: InProcessGateway, citizen: CitizenAccount) -> str:
    """Support's activation code for the citizen, through the admin API."""
    helpdesk = register_app(
        gateway, "--grant-type", "client_credentials", "--scope", "admin:support", name="Helpdesk"
    )
    token = gateway.http.post(
        "/token",
        auth=(helpdesk.client_id, helpdesk.client_secret or ""),
        data={"grant_type": "client_credentials", "scope": "admin:support"},
    ).json()["access_token"]
    answer = gateway.http.post(
        f"/admin/api/v1/accounts/{citizen.username}/activation-code",
        json={"reason": "The citizen lost their password"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["code"])


def test_after_an_activation_code_the_citizen_adds_a_passkey_and_signs_in_with_it(
    gateway: InProcessGateway, app: AppClient
) -> None:
    citizen = add_citizen(gateway)
    code = _activation_code(gateway, citizen)
    browser = gateway.browser()
    form = hidden_fields(browser.http.get(f"{gateway.issuer}/account/activate").text)
    password = "a brand new passphrase for mari"
    activated = browser.http.post(
        f"{gateway.issuer}/account/activate",
        data={
            **form,
            "username": citizen.username,
            "code": code,
            "password": password,
            "password_again": password,
        },
    )
    assert 'id="activated-notice"' in activated.text
    assert "add a passkey" in activated.text
    start = browser.http.get(f"{gateway.issuer}/account/sign-in")
    signed_in = browser.follow_to_client(
        browser.http.get(gateway.issuer + start.headers["location"]),
        username=citizen.username,
        password=password,
    )
    assert signed_in.status_code == 200 and "Add a passkey" in signed_in.text, signed_in.text[:300]
    passkey = _soft()
    assert "passkey=added" in _add_passkey(browser, passkey).headers["location"]

    elsewhere = gateway.browser()
    page, pending = _authorize(elsewhere, app, acr_values=HIGH)
    response, _ = _passkey_sign_in(elsewhere, page.text, passkey)
    claims = _claims(gateway, app, _arrive(elsewhere, response, pending))
    assert claims["sub"] == citizen.subject and claims["acr"] == HIGH


def test_the_step_up_page_offers_only_the_methods_that_reach_the_level_asked_for(
    gateway: InProcessGateway, app: AppClient
) -> None:
    browser, _ = _signed_in(gateway, app)
    setup = browser.http.get(f"{gateway.issuer}/account/authenticator-app/set-up").text
    secret = re.search(r'<p class="secret" id="secret">([A-Z2-7 ]+)</p>', setup)
    assert secret
    confirmed = browser.http.post(
        f"{gateway.issuer}/account/authenticator-app/set-up",
        data={
            "form_token": account_form_token(setup),
            "code": pyotp.TOTP(secret[1].replace(" ", "")).at(gateway.clock()),
        },
    )
    assert 'id="enrolled-notice"' in confirmed.text, confirmed.text[:500]
    _add_passkey(browser, _soft())
    for level, offered, not_offered in (
        (SUBSTANTIAL, ["/step-up/authenticator-app", "/step-up/passkey"], []),
        (HIGH, ["/step-up/passkey"], ["/step-up/authenticator-app", "/step-up/recovery-code"]),
    ):
        page, _ = _authorize(browser, app, acr_values=level)
        assert page.status_code == 200, page.headers.get("location")
        for action in offered:
            assert f'action="{action}"' in page.text, (level, action)
        for action in not_offered:
            assert f'action="{action}"' not in page.text, (level, action)
