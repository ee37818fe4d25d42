"""The console needs the substantial level of assurance by default (IDP_ADMIN_MINIMUM_LEVEL): an
administrator with a password alone is not let in, and is told how to get in; the console also
checks the `acr` of the ID token itself, whatever the gateway's registration says."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from admin.console_client import InvalidConsoleSignIn, check_id_token
from admin.roles import Role
from idp.keys.jose import generate_signing_key, sign_jwt
from idp.protocol.assurance import EIDAS
from tests.admin.console_visits import add_administrator, sign_in_to_console
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
