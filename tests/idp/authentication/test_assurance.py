"""Levels of assurance over HTTP: what a password sign-in proves in the tokens, and how requests
for a level the citizen cannot reach end (OpenID Connect Core 3.1.2.1, 5.5.1.1; Unmet
Authentication Requirements 1.0). Step-up to a stronger method is tested with each method."""

from __future__ import annotations

import json

import pytest

from agency.verify import verify_id_token
from gateway.cli import build_parser, client_options
from idp.clients import InvalidClientData
from idp.protocol.assurance import EIDAS
from tests.builders import register_app
from tests.citizen import AppClient, Browser, authorization_params, location_query, split_verifier
from tests.conftest import CitizenAccount, exchange_code, obtain_code
from tests.gateway_process import Gateway


def _id_token_claims(gateway: Gateway, app: AppClient, result: object) -> dict[str, object]:
    response = exchange_code(gateway, app, result)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return verify_id_token(
        response.json()["id_token"],
        jwks=gateway.jwks(),
        issuer=gateway.issuer,
        client_id=app.client_id,
    )


def _refused_with(browser: Browser, app: AppClient, citizen: CitizenAccount, **request: str) -> str:
    params, _ = split_verifier(authorization_params(app, **request))
    response = browser.follow_to_client(
        browser.authorize(params), username=citizen.username, password=citizen.password
    )
    assert response.status_code in (302, 303), response.text[:300]
    query = location_query(response)
    assert query["state"] == [params["state"]] and "code" not in query
    return query["error"][0]


def test_a_password_sign_in_is_low_in_the_id_token(
    gateway: Gateway, browser: Browser, app_a: AppClient, citizen: CitizenAccount
) -> None:
    claims = _id_token_claims(gateway, app_a, obtain_code(browser, app_a, citizen))
    assert claims["acr"] == EIDAS.low
    assert claims["amr"] == ["pwd"]
    assert isinstance(claims["auth_time"], int)


def test_discovery_lists_the_levels_lowest_first(gateway: Gateway) -> None:
    assert gateway.metadata()["acr_values_supported"] == [
        EIDAS.low,
        EIDAS.substantial,
        EIDAS.high,
    ]


def test_unknown_voluntary_acr_values_are_passed_over(
    gateway: Gateway, browser: Browser, app_a: AppClient, citizen: CitizenAccount
) -> None:
    result = obtain_code(browser, app_a, citizen, acr_values="urn:elsewhere:gold")
    assert _id_token_claims(gateway, app_a, result)["acr"] == EIDAS.low


@pytest.mark.parametrize("level", [EIDAS.substantial, EIDAS.high])
def test_a_level_the_citizen_cannot_reach_is_unmet(
    browser: Browser, app_a: AppClient, citizen: CitizenAccount, level: str
) -> None:
    """Signed in with a password and enrolled in nothing stronger: after the sign-in page the
    app learns the level cannot be met; with the session already there, at once."""
    assert _refused_with(browser, app_a, citizen, acr_values=level) == (
        "unmet_authentication_requirements"
    )
    assert _refused_with(browser, app_a, citizen, acr_values=level, prompt="none") == (
        "unmet_authentication_requirements"
    )


def test_an_essential_acr_asks_for_its_level(
    browser: Browser, app_a: AppClient, citizen: CitizenAccount
) -> None:
    claims = json.dumps({"id_token": {"acr": {"essential": True, "values": [EIDAS.high]}}})
    assert _refused_with(browser, app_a, citizen, claims=claims) == (
        "unmet_authentication_requirements"
    )


def test_an_essential_acr_no_one_offers_fails_before_any_sign_in(
    gateway: Gateway, app_a: AppClient
) -> None:
    claims = json.dumps({"id_token": {"acr": {"essential": True, "value": "urn:elsewhere:x"}}})
    params, _ = split_verifier(authorization_params(app_a, claims=claims))
    with Browser(gateway.issuer) as fresh:
        response = fresh.authorize(params)
    assert response.status_code == 302
    assert location_query(response)["error"] == ["unmet_authentication_requirements"]


def test_a_client_minimum_applies_to_every_request(
    gateway: Gateway, browser: Browser, citizen: CitizenAccount
) -> None:
    strict = register_app(gateway, "--min-acr", EIDAS.substantial)
    assert _refused_with(browser, strict, citizen, acr_values=EIDAS.low) == (
        "unmet_authentication_requirements"
    )
    listed = {c["client_id"]: c for c in gateway.command_json("clients", "list")}
    assert listed[strict.client_id]["minimum_level"] == "substantial"


def test_a_minimum_must_be_a_level_the_gateway_offers() -> None:
    argv = ["clients", "add", "--name", "x", "--redirect-uri", "https://a.example/cb"]
    args = build_parser().parse_args([*argv, "--min-acr", "gold"])
    with pytest.raises(InvalidClientData, match="--min-acr must be one of"):
        client_options(args, EIDAS)
