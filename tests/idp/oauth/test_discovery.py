"""Discovery metadata and the JWKS (OIDC Discovery 3-4, RFC 8414, RFC 7517)."""

from __future__ import annotations

import base64
import time

from tests import http_client
from tests.gateway_process import Gateway


def test_metadata_is_exact_and_strict(gateway: Gateway) -> None:
    response = http_client.get(f"{gateway.issuer}/.well-known/openid-configuration")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    meta = response.json()
    assert meta["issuer"] == gateway.issuer
    assert meta["response_types_supported"] == ["code"]
    assert "implicit" not in meta["grant_types_supported"]
    assert "password" not in meta["grant_types_supported"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert "RS256" in meta["id_token_signing_alg_values_supported"]
    assert "none" not in meta["id_token_signing_alg_values_supported"]
    assert not any(a.startswith("HS") for a in meta["id_token_signing_alg_values_supported"])
    assert "openid" in meta["scopes_supported"]
    for name in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "introspection_endpoint",
        "revocation_endpoint",
        "end_session_endpoint",
    ):
        assert meta[name].startswith(gateway.issuer + "/")
    assert meta["end_session_endpoint"] == f"{gateway.issuer}/logout"
    assert http_client.get(meta["end_session_endpoint"]).status_code == 200  # served, not promised
    for sign_out in ("backchannel_logout", "frontchannel_logout"):  # with the session's sid
        assert meta[f"{sign_out}_supported"] is meta[f"{sign_out}_session_supported"] is True


def test_forged_host_headers_do_not_change_metadata(gateway: Gateway) -> None:
    forged = http_client.get(
        f"{gateway.issuer}/.well-known/openid-configuration",
        headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )
    assert forged.json()["issuer"] == gateway.issuer
    assert "evil" not in forged.text


def test_jwks_publishes_public_keys_only(gateway: Gateway) -> None:
    keys = gateway.jwks()["keys"]
    kids = [key["kid"] for key in keys]
    assert len(kids) == len(set(kids)) >= 2
    assert {key["alg"] for key in keys} >= {"RS256", "ES256"}
    for key in keys:
        assert key["use"] == "sig"
        assert not {"d", "p", "q", "dp", "dq", "qi", "k"} & key.keys()
        if key["kty"] == "RSA":
            modulus = base64.urlsafe_b64decode(key["n"] + "==")
            assert len(modulus) * 8 >= 2048


def test_unknown_paths_and_methods_are_refused(gateway: Gateway) -> None:
    for path in ("/docs", "/openapi.json", "/redoc", "/.git/config", "/.env"):
        assert http_client.get(f"{gateway.issuer}{path}").status_code == 404
    assert http_client.request("TRACE", f"{gateway.issuer}/token").status_code == 405
    assert http_client.delete(f"{gateway.issuer}/userinfo").status_code == 405
    response = http_client.get(f"{gateway.issuer}/jwks.json")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "server" not in response.headers


def test_health_probes(gateway: Gateway) -> None:
    assert http_client.get(f"{gateway.issuer}/healthz").json() == {"status": "ok"}
    ready = http_client.get(f"{gateway.issuer}/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}


def test_documents_carry_an_etag_that_a_cache_revalidates(gateway: Gateway) -> None:
    for path in ("/.well-known/openid-configuration", "/jwks.json"):
        first = http_client.get(f"{gateway.issuer}{path}")
        etag = first.headers["etag"]
        assert etag.startswith('"') and etag.endswith('"')
        same = http_client.get(
            f"{gateway.issuer}{path}", headers={"If-None-Match": f'"x", W/{etag}'}
        )
        assert same.status_code == 304 and same.content == b""
        assert same.headers["etag"] == etag
        assert same.headers["cache-control"] == first.headers["cache-control"]
        other = http_client.get(f"{gateway.issuer}{path}", headers={"If-None-Match": '"other"'})
        assert other.status_code == 200 and other.content == first.content


def test_a_rotation_publishes_a_jwks_with_a_new_etag(gateway: Gateway) -> None:
    before = http_client.get(f"{gateway.issuer}/jwks.json")
    upcoming = {r["kid"] for r in gateway.idp_json("keys", "rotate") if r["state"] == "next"}
    deadline = time.monotonic() + 5.0  # nodes re-read the keyring at most once a second
    after = before
    while time.monotonic() < deadline:
        after = http_client.get(f"{gateway.issuer}/jwks.json")
        if upcoming <= {k["kid"] for k in after.json()["keys"]}:
            break
        time.sleep(0.2)
    assert upcoming <= {k["kid"] for k in after.json()["keys"]}
    assert after.headers["etag"] != before.headers["etag"]
    stale = http_client.get(
        f"{gateway.issuer}/jwks.json", headers={"If-None-Match": before.headers["etag"]}
    )
    assert stale.status_code == 200 and stale.content == after.content


def test_a_method_an_endpoint_does_not_take_is_405_with_allow(gateway: Gateway) -> None:
    refused = http_client.get(f"{gateway.issuer}/token")
    assert refused.status_code == 405 and refused.headers["allow"] == "POST"
    assert refused.json()["error"] == "invalid_request"
    assert http_client.put(f"{gateway.issuer}/userinfo").headers["allow"] == "GET, POST"
