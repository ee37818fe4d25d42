"""The happy path end to end over HTTP: sign in, consent, code, tokens, userinfo."""

from __future__ import annotations

from agency.verify import verify_access_token, verify_id_token
from tests.citizen import Browser
from tests.conftest import CitizenAccount, exchange_code, obtain_code, userinfo
from tests.gateway_process import Gateway


def test_code_flow_issues_verifiable_tokens(
    gateway: Gateway, browser: Browser, app_a, citizen: CitizenAccount
) -> None:
    result = obtain_code(browser, app_a, citizen)
    assert result.params["state"] == result.request["state"]
    assert result.params["iss"] == gateway.issuer
    response = exchange_code(gateway, app_a, result)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    jwks = gateway.jwks()
    claims = verify_id_token(
        body["id_token"],
        jwks=jwks,
        issuer=gateway.issuer,
        client_id=app_a.client_id,
        nonce=result.request["nonce"],
        access_token=body["access_token"],
    )
    assert claims["sub"] == citizen.subject
    access = verify_access_token(
        body["access_token"], jwks=jwks, issuer=gateway.issuer, audience=app_a.client_id
    )
    assert access["client_id"] == app_a.client_id
    info = userinfo(gateway, body["access_token"])
    assert info.status_code == 200, info.text
    assert info.json()["sub"] == citizen.subject
    assert info.json()["email"] == "mari@example.org"
