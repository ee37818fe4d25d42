"""An agency app built on Authlib's OAuth client runs the whole code flow with PKCE, and PyJWT
verifies what the gateway signed against its JWKS (two independent JOSE implementations)."""

from __future__ import annotations

import secrets

import jwt
from authlib.integrations.httpx_client import OAuth2Client

from tests.citizen import AppClient, Browser
from tests.conftest import CitizenAccount
from tests.gateway_process import Gateway


def test_authlib_client_code_flow_refresh_and_userinfo(
    gateway: Gateway, browser: Browser, app_a: AppClient, citizen: CitizenAccount
) -> None:
    meta = gateway.metadata()
    client = OAuth2Client(
        client_id=app_a.client_id,
        client_secret=app_a.client_secret,
        redirect_uri=app_a.redirect_uri,
        scope="openid profile email",
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    try:
        verifier = secrets.token_urlsafe(48)
        nonce = secrets.token_urlsafe(16)
        url, state = client.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        response = browser.follow_to_client(
            browser.http.get(url), username=citizen.username, password=citizen.password
        )
        callback_url = response.headers["location"]
        token = client.fetch_token(
            meta["token_endpoint"],
            authorization_response=callback_url,
            code_verifier=verifier,
            state=state,
        )
        jwks = jwt.PyJWKSet.from_dict(gateway.jwks())
        header = jwt.get_unverified_header(token["id_token"])
        key = next(k for k in jwks.keys if k.key_id == header["kid"])
        claims = jwt.decode(
            token["id_token"],
            key,
            algorithms=["RS256"],
            audience=app_a.client_id,
            issuer=meta["issuer"],
        )
        assert claims["nonce"] == nonce
        assert claims["sub"] == citizen.subject
        access_header = jwt.get_unverified_header(token["access_token"])
        access_key = next(k for k in jwks.keys if k.key_id == access_header["kid"])
        access = jwt.decode(
            token["access_token"],
            access_key,
            algorithms=["ES256"],
            audience=app_a.client_id,
            issuer=meta["issuer"],
        )
        assert access["sub"] == citizen.subject and access["scope"] == token["scope"]

        info = client.get(meta["userinfo_endpoint"])
        assert info.status_code == 200 and info.json()["sub"] == claims["sub"]

        refreshed = client.refresh_token(meta["token_endpoint"])
        assert refreshed["refresh_token"] != token["refresh_token"]
        assert client.get(meta["userinfo_endpoint"]).json()["sub"] == claims["sub"]
    finally:
        client.close()
