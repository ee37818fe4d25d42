"""The console needs the substantial level of assurance by default (IDP_ADMIN_MINIMUM_LEVEL): an
administrator with a password alone is not let in, and is told how to get in; the console also
checks the `acr` of the ID token itself, whatever the gateway's registration says."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pyotp
import pytest

from admin.console_client import InvalidConsoleSignIn, check_id_token
from admin.roles import Role
from idp.keys.jose import generate_signing_key, sign_jwt
from idp.protocol.assurance import EIDAS
from tests.admin.console_visits import add_administrator, sign_in_to_console
from tests.citizen import account_form_token, hidden_fields
from tests.conftest import BACKENDS, TEST_ENV, in_process_gateway_with
from tests.in_process import InProcessGateway

DEFAULT_LEVEL_ENV = {k: v for k, v in TEST_ENV.items() if k != "IDP_ADMIN_MINIMUM_LEVEL"}


@pytest.fixture(scope="module", params=BACKENDS)
def default_gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InProcessGateway]:
    with in_process_gateway_with(DEFAULT_LEVEL_ENV, request.param, tmp_path_factory) as running:
        yield running


def test_a_password_alone_does_not_open_the_console(default_gateway: InProcessGateway) -> None:
    person = add_administrator(default_gateway, Role.OPERATOR)
    visit, landed = sign_in_to_console(default_gateway, person)
    assert landed.status_code == 400
    assert "needs a stronger sign-in than a password alone" in landed.text
    assert 'href="/account"' in landed.text
    assert visit.get("/admin/").status_code in (302, 303)  # still not signed in


def test_an_administrator_with_an_authenticator_app_steps_up_into_the_console(
    default_gateway: InProcessGateway,
) -> None:
    gateway = default_gateway
    person = add_administrator(gateway, Role.OPERATOR)
    browser = gateway.browser()
    start = browser.http.get("/account/sign-in")
    page = browser.http.get(start.headers["location"])
    signed_in = browser.http.post(
        "/sign-in",
        data={**hidden_fields(page.text), "username": person.username, "password": person.password},
    )
    assert signed_in.status_code == 303
    setup = browser.http.get("/account/authenticator-app/set-up")
    found = re.search(r'id="secret">([A-Z2-7 ]+)</p>', setup.text)
    assert found, setup.text[:500]
    secret = found.group(1).replace(" ", "")
    confirmed = browser.http.post(
        "/account/authenticator-app/set-up",
        data={"form_token": account_form_token(setup.text), "code": _code(gateway, secret)},
    )
    assert 'id="enrolled-notice"' in confirmed.text
    gateway.clock.advance(30)  # the confirming code is used
    # The console asks the gateway for its level: the session (a password) is sent to step up.
    step_up = browser.follow_to_client(browser.http.get("/admin/"), max_hops=16)
    assert 'action="/step-up/authenticator-app"' in step_up.text, step_up.text[:500]
    form = re.search(
        r'<form method="post" action="/step-up/authenticator-app".*?</form>', step_up.text, re.S
    )
    assert form
    answered = browser.http.post(
        "/step-up/authenticator-app",
        data={**hidden_fields(form.group(0)), "code": _code(gateway, secret)},
    )
    landed = browser.follow_to_client(answered, max_hops=16)
    assert landed.status_code == 200 and "Sign out" in landed.text, landed.text[:500]
    assert browser.http.get("/admin/").status_code == 200


def _code(gateway: InProcessGateway, secret: str) -> str:
    return pyotp.TOTP(secret).at(gateway.clock())


def test_the_console_refuses_an_id_token_below_its_level() -> None:
    key = generate_signing_key(alg="ES256", kid="k-1")
    now = datetime.now(UTC)
    claims = {
        "iss": "https://gateway.example",
        "aud": "admin-console",
        "sub": "s-1",
        "nonce": "n",
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + 60,
        "auth_time": int(now.timestamp()),
        "acr": EIDAS.low,
    }

    def check(token: str) -> object:
        return check_id_token(
            token,
            keys=[key],
            issuer="https://gateway.example",
            nonce="n",
            max_age=None,
            acceptable_acr=frozenset({EIDAS.substantial, EIDAS.high}),
            now=now,
        )

    with pytest.raises(InvalidConsoleSignIn, match="level of assurance"):
        check(sign_jwt(claims, key=key))
    assert check(sign_jwt({**claims, "acr": EIDAS.high}, key=key))
