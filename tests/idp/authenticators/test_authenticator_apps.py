"""Authenticator apps (RFC 6238) and recovery codes, on the gateway built in this process with
its clock frozen and moved by the tests, so every code is computed for the gateway's own time:
setting an app up on the account page, stepping up to substantial when an app asks for it (the
ID token says so), codes used once (also two at once), clock drift, the wrong-code throttle,
recovery codes, the elevated level lapsing, and the answers when no step-up is possible."""

from __future__ import annotations

import html
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

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

SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"
LOW = "http://eidas.europa.eu/LoA/low"
STEP = 30  # seconds per TOTP time step
SECRET = re.compile(r'<p class="secret" id="secret">([A-Z2-7 ]+)</p>')
RECOVERY_CODES = re.compile(r'<ul class="recovery-codes" id="recovery-codes">(.*?)</ul>', re.S)


@pytest.fixture(scope="module")
def gateway(in_process_gateway: InProcessGateway) -> InProcessGateway:
    """Frozen: a code computed for the gateway's time stays that step's until a test moves on."""
    in_process_gateway.clock.freeze()
    return in_process_gateway


@pytest.fixture(scope="module")
def app(gateway: InProcessGateway) -> AppClient:
    return register_app(gateway, name="Land registry")


def _code(gateway: InProcessGateway, secret: str, *, steps: int = 0) -> str:
    """The app's code at the gateway's time, `steps` time steps away."""
    return pyotp.TOTP(secret).at(gateway.clock() + timedelta(seconds=STEP * steps))


def _next_step(gateway: InProcessGateway) -> None:
    gateway.clock.advance(STEP)


def _get(browser: Browser, path: str) -> httpx.Response:
    url = path if path.startswith("http") else browser.issuer + path
    return browser.http.get(url)


def _signed_in(gateway: InProcessGateway, app: AppClient) -> tuple[Browser, CitizenAccount]:
    """A citizen signed in with their password (low) through `app`, which has their consent."""
    citizen = add_citizen(gateway)
    browser = gateway.browser()
    _authorize(browser, app, citizen)
    return browser, citizen


def _authorize(
    browser: Browser, app: AppClient, citizen: CitizenAccount | None = None, **overrides: Any
) -> tuple[httpx.Response, dict[str, str], str]:
    """An authorization request followed through sign-in and consent: where it stopped (the
    redirect to the app, or a page of the gateway), the request, its verifier."""
    request, verifier = split_verifier(authorization_params(app, **overrides))
    response = browser.follow_to_client(
        browser.authorize(request),
        username=citizen.username if citizen else None,
        password=citizen.password if citizen else None,
    )
    return response, request, verifier


def _enrol(gateway: InProcessGateway, browser: Browser) -> tuple[str, list[str]]:
    """The account page's "Set up an authenticator app": the secret read from the page, its
    first code, the recovery codes shown."""
    page = _get(browser, "/account/authenticator-app/set-up")
    assert page.status_code == 200, page.text[:300]
    found = SECRET.search(page.text)
    assert found, page.text
    secret = found.group(1).replace(" ", "")
    confirmed = browser.http.post(
        f"{browser.issuer}/account/authenticator-app/set-up",
        data={"form_token": account_form_token(page.text), "code": _code(gateway, secret)},
    )
    assert confirmed.status_code == 200 and 'id="enrolled-notice"' in confirmed.text
    listed = RECOVERY_CODES.search(confirmed.text)
    assert listed, confirmed.text
    codes = [html.unescape(code) for code in re.findall(r"<li>([^<]+)</li>", listed.group(1))]
    _next_step(gateway)  # the first code counts as used
    return secret, codes


def _at_step_up(
    browser: Browser, app: AppClient, citizen: CitizenAccount | None = None, **overrides: Any
) -> tuple[str, CodeResult]:
    """A request of `app` for substantial (signing `citizen` in first, if given): the step-up
    page it leads to, and the request."""
    response, request, verifier = _authorize(
        browser, app, citizen, acr_values=SUBSTANTIAL, **overrides
    )
    assert response.status_code == 200, response.headers.get("location")
    assert 'action="/step-up/authenticator-app"' in response.text or (
        'action="/step-up/recovery-code"' in response.text
    ), response.text[:500]
    return response.text, CodeResult({}, request, verifier)


def _post_code(
    browser: Browser, page: str, code: str, *, method: str = "authenticator-app"
) -> httpx.Response:
    field = "code" if method == "authenticator-app" else "recovery_code"
    form = re.search(rf'<form method="post" action="/step-up/{method}".*?</form>', page, re.S)
    assert form, page
    return browser.http.post(
        f"{browser.issuer}/step-up/{method}", data={**hidden_fields(form.group(0)), field: code}
    )


def _at_app(browser: Browser, response: httpx.Response, pending: CodeResult) -> CodeResult:
    arrived = browser.follow_to_client(response)
    assert arrived.status_code in (302, 303), arrived.text[:500]
    return CodeResult(callback_params(arrived), pending.request, pending.verifier)


def _id_token(gateway: InProcessGateway, app: AppClient, result: CodeResult) -> dict[str, Any]:
    """The ID token of `result`'s code, verified with PyJWT against the JWKS."""
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
        options={"verify_iat": False, "verify_exp": False},  # the gateway's clock is frozen
    )
    assert claims["nonce"] == result.request["nonce"]
    return claims


def test_an_app_is_set_up_on_the_account_page_and_a_wrong_first_code_is_refused(
    gateway: InProcessGateway, app: AppClient
) -> None:
    browser, citizen = _signed_in(gateway, app)
    account = _get(browser, "/account")
    assert 'id="no-authenticator-app"' in account.text
    assert 'href="/account/authenticator-app/set-up"' in account.text

    page = _get(browser, "/account/authenticator-app/set-up")
    assert page.status_code == 200
    assert "<svg" in page.text and 'class="qr-code"' in page.text and 'role="img"' in page.text
    assert "<img" not in page.text and "data:" not in page.text  # drawn inline, no fetch
    assert "img-src 'self'" in page.headers["content-security-policy"]
    found = SECRET.search(page.text)
    assert found
    secret = found.group(1).replace(" ", "")
    assert len(secret) == 32  # 160 bits of base32
    # Reloading shows the same key: a citizen who scanned it can still confirm.
    reloaded = SECRET.search(_get(browser, "/account/authenticator-app/set-up").text)
    assert reloaded and reloaded.group(1) == found.group(1)
    # The secret is in the database only sealed.
    stored = run_sql(gateway, "SELECT sealed_secret FROM authenticator_apps")
    assert stored and all(secret not in row[0] for row in stored)

    token = account_form_token(page.text)
    wrong = f"{(int(_code(gateway, secret)) + 1) % 1_000_000:06d}"
    refused = browser.http.post(
        f"{gateway.issuer}/account/authenticator-app/set-up",
        data={"form_token": token, "code": wrong},
    )
    assert refused.status_code == 200 and 'id="code-error"' in refused.text
    assert 'aria-invalid="true"' in refused.text and 'href="#code"' in refused.text
    empty = browser.http.post(
        f"{gateway.issuer}/account/authenticator-app/set-up", data={"form_token": token}
    )
    assert "Enter the 6-digit code" in empty.text
    # Not set up yet: a request for substantial cannot be met.
    response, _, _ = _authorize(browser, app, acr_values=SUBSTANTIAL)
    assert callback_params(response)["error"] == "unmet_authentication_requirements"
    forged = browser.http.post(
        f"{gateway.issuer}/account/authenticator-app/set-up",
        data={"form_token": "0" * 64, "code": _code(gateway, secret)},
    )
    assert forged.status_code == 400

    confirmed = browser.http.post(
        f"{gateway.issuer}/account/authenticator-app/set-up",
        data={"form_token": token, "code": _code(gateway, secret)},
    )
    assert confirmed.status_code == 200 and 'id="enrolled-notice"' in confirmed.text
    assert confirmed.headers["cache-control"] == "no-store"
    listed = RECOVERY_CODES.search(confirmed.text)
    assert listed and len(re.findall(r"<li>", listed.group(1))) == 10
    account = _get(browser, "/account")
    assert 'id="authenticator-app-summary"' in account.text and "10 of 10 left" in account.text
    assert logged_details(gateway, "authenticator_app.enrolled", citizen.subject) == [
        {"replaced": False}
    ]
    assert logged_details(gateway, "recovery_codes.issued", citizen.subject) == [
        {"codes": 10, "voided": 0}
    ]


def test_an_app_asking_for_substantial_gets_it_after_a_code(
    gateway: InProcessGateway, app: AppClient
) -> None:
    browser, citizen = _signed_in(gateway, app)
    password_only = _id_token(gateway, app, _authorize_and_arrive(browser, app))
    assert password_only["acr"] == LOW and password_only["amr"] == ["pwd"]
    secret, _ = _enrol(gateway, browser)
    gateway.clock.advance(60)

    page, pending = _at_step_up(browser, app)
    assert "Use a recovery code instead" in page
    assert 'action="/step-up"' in page  # "Go back to the service"
    arrived = _at_app(browser, _post_code(browser, page, _code(gateway, secret)), pending)
    claims = _id_token(gateway, app, arrived)
    assert claims["acr"] == SUBSTANTIAL
    assert {"pwd", "otp", "mfa"} <= set(claims["amr"])
    assert claims["auth_time"] > password_only["auth_time"]
    assert claims["sub"] == citizen.subject
    succeeded = logged_details(gateway, "sign_in.succeeded", citizen.subject)
    assert succeeded[-1] == {"method": "otp", "acr": SUBSTANTIAL}

    # The session now proves substantial: the next request for it needs no code.
    again = _authorize_and_arrive(browser, app, acr_values=SUBSTANTIAL)
    assert _id_token(gateway, app, again)["acr"] == SUBSTANTIAL


def _authorize_and_arrive(browser: Browser, app: AppClient, **overrides: Any) -> CodeResult:
    response, request, verifier = _authorize(browser, app, **overrides)
    assert response.status_code in (302, 303), response.text[:500]
    return CodeResult(callback_params(response), request, verifier)


def test_a_code_is_used_once(gateway: InProcessGateway, app: AppClient) -> None:
    browser, citizen = _signed_in(gateway, app)
    secret, _ = _enrol(gateway, browser)
    code = _code(gateway, secret)
    page, pending = _at_step_up(browser, app)
    _at_app(browser, _post_code(browser, page, code), pending)

    # The same code, within its time, in another browser signed in with the password (its
    # session is at low): refused.
    other = gateway.browser()
    _authorize(other, app, citizen)
    page, _ = _at_step_up(other, app)
    replayed = _post_code(other, page, code)
    assert replayed.status_code == 200 and 'id="code-error"' in replayed.text
    assert "already been used" in replayed.text
    # A code of an earlier step than the one used is refused too.
    assert "already been used" in _post_code(other, page, _code(gateway, secret, steps=-1)).text
    assert {"method": "authenticator_app", "reason": "code_already_used"} in logged_details(
        gateway, "step_up.failed", citizen.subject
    )
    # The next step's code is the app's next one.
    _next_step(gateway)
    page, pending = _at_step_up(other, app)
    _at_app(other, _post_code(other, page, _code(gateway, secret)), pending)


def test_two_posts_of_one_code_at_once_pass_once(gateway: InProcessGateway, app: AppClient) -> None:
    browser, _ = _signed_in(gateway, app)
    secret, _ = _enrol(gateway, browser)
    # Two requests of the app in two tabs of one browser, each at its own step-up page.
    pages = [_at_step_up(browser, app)[0] for _ in range(2)]
    code = _code(gateway, secret)

    def post(page: str) -> httpx.Response:
        # A client per thread, with the browser's cookies.
        tab = gateway.client()
        tab.cookies = browser.http.cookies
        form = re.search(
            r'<form method="post" action="/step-up/authenticator-app".*?</form>', page, re.S
        )
        assert form
        return tab.post("/step-up/authenticator-app", data={**hidden_fields(form[0]), "code": code})

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(post, pages))
    passed = [a for a in answers if a.status_code == 303]
    refused = [a for a in answers if a.status_code == 200 and "already been used" in a.text]
    assert len(passed) == 1 and len(refused) == 1, [a.status_code for a in answers]


def test_one_step_of_drift_is_accepted_and_two_are_not(
    gateway: InProcessGateway, app: AppClient
) -> None:
    browser, _ = _signed_in(gateway, app)
    secret, _ = _enrol(gateway, browser)
    _next_step(gateway)  # so the step before is not the enrolment's, which is used
    page, _ = _at_step_up(browser, app)
    for steps in (-2, 2):
        refused = _post_code(browser, page, _code(gateway, secret, steps=steps))
        assert refused.status_code == 200 and "The code is not right" in refused.text
    # A phone one step behind the gateway, then one step ahead (the gateway's clock moved on).
    page, pending = _at_step_up(browser, app)
    _at_app(browser, _post_code(browser, page, _code(gateway, secret, steps=-1)), pending)
    _expire_elevation(gateway, browser)
    page, pending = _at_step_up(browser, app)
    _at_app(browser, _post_code(browser, page, _code(gateway, secret, steps=1)), pending)


def _expire_elevation(gateway: InProcessGateway, browser: Browser) -> None:
    """Past IDP_ELEVATED_LEVEL_LIFETIME, with the session kept alive (its idle time)."""
    lifetime = gateway.settings.elevated_level_lifetime.total_seconds()
    gateway.clock.advance(lifetime / 2)
    assert _get(browser, "/account").status_code == 200
    gateway.clock.advance(lifetime / 2 + STEP)


def test_the_level_lapses_and_is_asked_for_again(gateway: InProcessGateway, app: AppClient) -> None:
    browser, _ = _signed_in(gateway, app)
    secret, _ = _enrol(gateway, browser)
    page, pending = _at_step_up(browser, app)
    _at_app(browser, _post_code(browser, page, _code(gateway, secret)), pending)
    gateway.clock.advance(gateway.settings.elevated_level_lifetime.total_seconds() - STEP)
    still = _authorize_and_arrive(browser, app, acr_values=SUBSTANTIAL)
    assert _id_token(gateway, app, still)["acr"] == SUBSTANTIAL
    gateway.clock.advance(2 * STEP)
    start = browser.authorize(split_verifier(authorization_params(app, acr_values=SUBSTANTIAL))[0])
    assert start.status_code == 303 and start.headers["location"].startswith("/step-up?")
    # The session lives on at low for requests that need no more.
    low = _authorize_and_arrive(browser, app)
    claims = _id_token(gateway, app, low)
    assert claims["acr"] == LOW and claims["amr"] == ["pwd"]


def test_wrong_codes_make_the_account_wait(gateway: InProcessGateway, app: AppClient) -> None:
    browser, citizen = _signed_in(gateway, app)
    secret, _ = _enrol(gateway, browser)
    page, pending = _at_step_up(browser, app)
    right = _code(gateway, secret)
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    for _ in range(gateway.settings.sign_in_free_attempts):
        assert "The code is not right" in _post_code(browser, page, wrong).text
    # Now even the right code waits, and is not checked (so not used up either).
    waiting = _post_code(browser, page, right)
    assert waiting.status_code == 200 and "too many wrong codes" in waiting.text
    assert {"method": "authenticator_app", "reason": "throttled"} in logged_details(
        gateway, "step_up.failed", citizen.subject
    )
    gateway.clock.advance(gateway.settings.sign_in_first_delay.total_seconds())
    _at_app(browser, _post_code(browser, page, _code(gateway, secret)), pending)


def test_a_recovery_code_works_once(gateway: InProcessGateway, app: AppClient) -> None:
    browser, citizen = _signed_in(gateway, app)
    _, codes = _enrol(gateway, browser)
    page, pending = _at_step_up(browser, app)
    # Typed in small letters and without its dashes, it still counts.
    typed = codes[0].replace("-", " ").lower()
    arrived = _at_app(browser, _post_code(browser, page, typed, method="recovery-code"), pending)
    claims = _id_token(gateway, app, arrived)
    assert claims["acr"] == SUBSTANTIAL and {"pwd", "otp", "mfa"} <= set(claims["amr"])
    assert logged_details(gateway, "recovery_code.used", citizen.subject) == [{"remaining": 9}]
    assert "9 of 10 left" in _get(browser, "/account").text

    _expire_elevation(gateway, browser)
    page, _ = _at_step_up(browser, app)
    again = _post_code(browser, page, codes[0], method="recovery-code")
    assert again.status_code == 200 and 'id="recovery_code-error"' in again.text
    assert '<details class="recovery-code" open>' in again.text
    assert {"method": "recovery_code", "reason": "wrong_code"} in logged_details(
        gateway, "step_up.failed", citizen.subject
    )
    # Stored only as digests.
    stored = {row[0] for row in run_sql(gateway, "SELECT code_digest FROM recovery_codes")}
    assert not any(code.replace("-", "") in digest for code in codes for digest in stored)


def test_new_recovery_codes_and_removal_need_a_fresh_sign_in(
    gateway: InProcessGateway, app: AppClient
) -> None:
    browser, citizen = _signed_in(gateway, app)
    secret, old_codes = _enrol(gateway, browser)
    gateway.clock.advance(gateway.settings.fresh_sign_in_lifetime.total_seconds() + 1)
    asked = _get(browser, "/account/recovery-codes/new")
    assert asked.status_code == 303
    assert asked.headers["location"] == "/account/sign-in?return_to=/account/recovery-codes/new"
    sign_in = _get(browser, _get(browser, asked.headers["location"]).headers["location"])
    assert "again, to change how you sign in" in sign_in.text
    back = browser.follow_to_client(sign_in, username=citizen.username, password=citizen.password)
    assert back.status_code == 200 and 'action="/account/recovery-codes/new"' in back.text
    issued = browser.http.post(
        f"{gateway.issuer}/account/recovery-codes/new",
        data={"form_token": account_form_token(back.text)},
    )
    listed = RECOVERY_CODES.search(issued.text)
    assert listed and old_codes[0] not in listed.group(1)
    assert logged_details(gateway, "recovery_codes.issued", citizen.subject)[-1] == {
        "codes": 10,
        "voided": 10,
    }
    # The old codes no longer work.
    page, _ = _at_step_up(browser, app)
    assert (
        'id="recovery_code-error"'
        in _post_code(browser, page, old_codes[1], method="recovery-code").text
    )

    removal = _get(browser, "/account/authenticator-app/remove")
    assert removal.status_code == 200
    removed = browser.http.post(
        f"{gateway.issuer}/account/authenticator-app/remove",
        data={"form_token": account_form_token(removal.text)},
    )
    assert removed.status_code == 303 and removed.headers["location"] == (
        "/account?authenticator=removed"
    )
    assert 'id="app-removed-notice"' in _get(browser, removed.headers["location"]).text
    assert logged_details(gateway, "authenticator_app.removed", citizen.subject) == [
        {"recovery_codes_voided": 10}
    ]
    response, _, _ = _authorize(browser, app, acr_values=SUBSTANTIAL)
    assert callback_params(response)["error"] == "unmet_authentication_requirements"
    assert secret  # the removed app's codes open nothing now: there is no app to check them


def test_a_second_app_replaces_the_first_once_confirmed(
    gateway: InProcessGateway, app: AppClient
) -> None:
    browser, citizen = _signed_in(gateway, app)
    first, _ = _enrol(gateway, browser)
    page = _get(browser, "/account/authenticator-app/set-up")
    assert 'id="replacing-notice"' in page.text
    # Until the new one is confirmed, the first still works.
    step_up, pending = _at_step_up(browser, app)
    _at_app(browser, _post_code(browser, step_up, _code(gateway, first)), pending)
    second, _ = _enrol(gateway, browser)
    assert second != first
    _expire_elevation(gateway, browser)
    step_up, pending = _at_step_up(browser, app)
    assert "The code is not right" in _post_code(browser, step_up, _code(gateway, first)).text
    _at_app(browser, _post_code(browser, step_up, _code(gateway, second)), pending)
    assert logged_details(gateway, "authenticator_app.enrolled", citizen.subject)[-1] == {
        "replaced": True
    }
    assert (
        len(
            run_sql(
                gateway,
                "SELECT id FROM authenticator_apps WHERE account_id = "
                "(SELECT id FROM accounts WHERE subject = :s)",
                s=citizen.subject,
            )
        )
        == 1
    )


def test_without_a_stronger_method_the_request_fails_at_the_app(
    gateway: InProcessGateway, app: AppClient
) -> None:
    browser, _ = _signed_in(gateway, app)
    response, request, _ = _authorize(browser, app, acr_values=SUBSTANTIAL)
    params = callback_params(response)
    assert params["error"] == "unmet_authentication_requirements"
    assert params["state"] == request["state"]
    assert urlsplit(response.headers["location"]).netloc == urlsplit(app.redirect_uri).netloc


def test_going_back_to_the_service_and_prompt_none(
    gateway: InProcessGateway, app: AppClient
) -> None:
    browser, _ = _signed_in(gateway, app)
    _enrol(gateway, browser)
    silent, _, _ = _authorize(browser, app, acr_values=SUBSTANTIAL, prompt="none")
    assert callback_params(silent)["error"] == "interaction_required"

    page, pending = _at_step_up(browser, app)
    form = re.search(r'<form method="post" action="/step-up" novalidate>.*?</form>', page, re.S)
    assert form
    declined = browser.http.post(
        f"{gateway.issuer}/step-up", data={**hidden_fields(form[0]), "cannot": "1"}
    )
    assert declined.status_code == 303
    params = callback_params(declined)
    assert params["error"] == "unmet_authentication_requirements"
    assert params["state"] == pending.request["state"]


def test_a_citizen_not_signed_in_signs_in_then_steps_up_in_one_flow(
    gateway: InProcessGateway, app: AppClient
) -> None:
    browser, citizen = _signed_in(gateway, app)
    secret, _ = _enrol(gateway, browser)
    fresh = gateway.browser()
    page, pending = _at_step_up(fresh, app, citizen)
    claims = _id_token(
        gateway, app, _at_app(fresh, _post_code(fresh, page, _code(gateway, secret)), pending)
    )
    assert claims["acr"] == SUBSTANTIAL and {"pwd", "otp", "mfa"} <= set(claims["amr"])
